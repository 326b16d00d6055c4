"""Dead letters keep their AMQP properties; the last-checked head of the Appstore's log

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

Letters kept before this revision have no routing key, headers or content type (NULL).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dead_letters") as batch:
        batch.add_column(sa.Column("routing_key", sa.Text(), nullable=True))
        batch.add_column(sa.Column("headers", sa.Text(), nullable=True))
        batch.add_column(sa.Column("content_type", sa.Text(), nullable=True))
    log_head = op.create_table(
        "log_head",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_log_head")),
    )
    op.bulk_insert(log_head, [{"name": "events"}])


def downgrade() -> None:
    op.drop_table("log_head")
    with op.batch_alter_table("dead_letters") as batch:
        batch.drop_column("content_type")
        batch.drop_column("headers")
        batch.drop_column("routing_key")

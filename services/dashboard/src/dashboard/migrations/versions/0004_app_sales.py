"""Per-app sales by UTC hour and day, and new buyers by first purchase, for windowed stats

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

Folded from this revision on; ``dashboard rebuild`` fills them for events folded before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_sales",
        sa.Column("span", sa.String(length=4), nullable=False),
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("app_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("purchases", sa.BigInteger(), nullable=False),
        sa.Column("revenue", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("span", "bucket_start", "app_id", name=op.f("pk_app_sales")),
    )
    op.create_index("ix_buyers_first_purchase_at", "buyers", ["first_purchase_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_buyers_first_purchase_at", table_name="buyers")
    op.drop_table("app_sales")

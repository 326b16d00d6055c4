"""The transactional outbox, the relay's progress, and the commit notification

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The doorbell rings only when the relay may be idle: when no committed event is already
# waiting for its number. A transaction that NOTIFYs holds a database-wide lock from its
# commit's start to its end, so notifying on every write would queue all writers' commits
# (and their WAL flushes) one behind another; a busy relay comes back for new rows anyway.
NOTIFY_FUNCTION = """
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM outbox WHERE sequence IS NULL AND id < NEW.id) THEN
        PERFORM pg_notify('appstore_outbox', '');
    END IF;
    RETURN NULL;
END $$
"""
NOTIFY_TRIGGER = """
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
FOR EACH ROW EXECUTE FUNCTION outbox_notify()
"""


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("routing_key", sa.String(length=60), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
        sa.UniqueConstraint("sequence", name=op.f("uq_outbox_sequence")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_unsequenced",
            ["id"],
            unique=False,
            postgresql_where=sa.text("sequence IS NULL"),
            sqlite_where=sa.text("sequence IS NULL"),
        )

    op.create_table(
        "outbox_progress",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("published_through", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_outbox_progress")),
    )
    op.execute("INSERT INTO outbox_progress (name, published_through) VALUES ('relay', 0)")
    if op.get_bind().dialect.name == "postgresql":
        # NOTIFY is delivered at commit: the relay wakes within milliseconds of it, and the
        # writer pays no extra round trip.
        op.execute(NOTIFY_FUNCTION)
        op.execute(NOTIFY_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
        op.execute("DROP FUNCTION IF EXISTS outbox_notify()")
    op.drop_table("outbox_progress")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_unsequenced",
            postgresql_where=sa.text("sequence IS NULL"),
            sqlite_where=sa.text("sequence IS NULL"),
        )

    op.drop_table("outbox")

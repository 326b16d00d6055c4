"""The dedupe record, fold progress and the projections

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Written out rather than imported from dashboard.models: a migration must keep creating
# what it created the day it was written, whatever the models say later.
TOTALS = (
    "users",
    "apps_created",
    "apps_verified",
    "purchases",
    "credits_spent",
    "credits_granted",
    "buyers",
)


def upgrade() -> None:
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=True),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("folded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_processed_events")),
    )
    op.create_index(
        op.f("ix_processed_events_sequence"), "processed_events", ["sequence"], unique=False
    )

    fold_progress = op.create_table(
        "fold_progress",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("contiguous_through", sa.BigInteger(), nullable=False),
        sa.Column("last_sequence", sa.BigInteger(), nullable=False),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_fold_progress")),
    )
    op.bulk_insert(
        fold_progress,
        [{"name": "events", "contiguous_through": 0, "last_sequence": 0, "last_event_at": None}],
    )

    totals = op.create_table(
        "totals",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_totals")),
    )
    op.bulk_insert(totals, [{"name": name, "value": 0} for name in TOTALS])

    op.create_table(
        "known_users",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_known_users")),
    )
    op.create_table(
        "buyers",
        sa.Column("buyer_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("first_purchase_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purchases", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("buyer_id", name=op.f("pk_buyers")),
    )

    op.create_table(
        "app_stats",
        sa.Column("app_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("title_sequence", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("purchases", sa.BigInteger(), nullable=False),
        sa.Column("revenue", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("app_id", name=op.f("pk_app_stats")),
    )
    op.create_index(
        "ix_app_stats_purchases", "app_stats", [sa.text("purchases DESC"), "app_id"], unique=False
    )
    op.create_index(
        "ix_app_stats_revenue", "app_stats", [sa.text("revenue DESC"), "app_id"], unique=False
    )

    op.create_table(
        "developer_stats",
        sa.Column("owner_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("apps", sa.BigInteger(), nullable=False),
        sa.Column("purchases", sa.BigInteger(), nullable=False),
        sa.Column("revenue", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", name=op.f("pk_developer_stats")),
    )
    op.create_index(
        "ix_developer_stats_purchases",
        "developer_stats",
        [sa.text("purchases DESC"), "owner_id"],
        unique=False,
    )
    op.create_index(
        "ix_developer_stats_revenue",
        "developer_stats",
        [sa.text("revenue DESC"), "owner_id"],
        unique=False,
    )

    for table in ("series_minute", "series_quarter_hour"):
        op.create_table(
            table,
            sa.Column("metric", sa.String(length=20), nullable=False),
            sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
            sa.Column("value", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("metric", "bucket_start", name=op.f(f"pk_{table}")),
        )


def downgrade() -> None:
    op.drop_table("series_quarter_hour")
    op.drop_table("series_minute")
    op.drop_index("ix_developer_stats_revenue", table_name="developer_stats")
    op.drop_index("ix_developer_stats_purchases", table_name="developer_stats")
    op.drop_table("developer_stats")
    op.drop_index("ix_app_stats_revenue", table_name="app_stats")
    op.drop_index("ix_app_stats_purchases", table_name="app_stats")
    op.drop_table("app_stats")
    op.drop_table("buyers")
    op.drop_table("known_users")
    op.drop_table("totals")
    op.drop_table("fold_progress")
    op.drop_index(op.f("ix_processed_events_sequence"), table_name="processed_events")
    op.drop_table("processed_events")

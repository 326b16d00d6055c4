"""Per-app and per-developer sales series, app price history, credits granted per bucket

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-06

Folded from this revision on; ``dashboard rebuild`` fills them (and the ``credits_granted``
buckets of ``series_minute`` and ``series_quarter_hour``) for events folded before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sales_series",
        sa.Column("span", sa.String(length=7), nullable=False),
        sa.Column("scope", sa.String(length=5), nullable=False),
        sa.Column("scope_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purchases", sa.BigInteger(), nullable=False),
        sa.Column("revenue", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "span", "scope", "scope_id", "bucket_start", name=op.f("pk_sales_series")
        ),
    )
    op.create_table(
        "app_prices",
        sa.Column("app_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=True),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("app_id", "event_id", name=op.f("pk_app_prices")),
    )
    op.create_index(
        "ix_app_stats_owner_id",
        "app_stats",
        ["owner_id", sa.text("purchases DESC"), "app_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_app_stats_owner_id", table_name="app_stats")
    op.drop_table("app_prices")
    op.drop_table("sales_series")

"""Owners' earnings as a ledger settled in the background; apps keep their purchase count

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06

Each purchase names the owner it pays and when its price was settled into that owner's
balance. Purchases made before this revision were paid to their owners at once, so they
arrive settled, and each app's settled count starts as the count of its purchases.
Downgrading first pays every pending entry into its owner's balance, as the settler would,
so no credit is lost on the way back.
"""

import contextlib
import warnings

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UNSETTLED = "settled_at IS NULL"


@contextlib.contextmanager
def _batch(table: str):
    """``op.batch_alter_table``. SQLite rebuilds the table and reflects the tables it refers
    to; SQLAlchemy cannot reflect the case-insensitive username index of users and warns
    so each time, harmlessly (the rebuild leaves users alone)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        with op.batch_alter_table(table, schema=None) as batch_op:
            yield batch_op


def upgrade() -> None:
    with _batch("purchases") as batch_op:
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE purchases SET settled_at = created_at,"
        " owner_id = (SELECT apps.owner_id FROM apps WHERE apps.id = purchases.app_id)"
    )
    with _batch("purchases") as batch_op:
        batch_op.alter_column("owner_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_purchases_owner_id_users"), "users", ["owner_id"], ["id"]
        )
        batch_op.create_index(
            "ix_purchases_unsettled",
            ["owner_id", "app_id"],
            unique=False,
            postgresql_where=sa.text(UNSETTLED),
            sqlite_where=sa.text(UNSETTLED),
        )

    with _batch("apps") as batch_op:
        batch_op.add_column(
            sa.Column("settled_purchases", sa.Integer(), server_default="0", nullable=False)
        )
    op.execute(
        "UPDATE apps SET settled_purchases ="
        " (SELECT count(*) FROM purchases WHERE purchases.app_id = apps.id)"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE users SET credit = credit + (SELECT coalesce(sum(price), 0) FROM purchases"
        f" WHERE purchases.owner_id = users.id AND {UNSETTLED})"
        f" WHERE id IN (SELECT owner_id FROM purchases WHERE {UNSETTLED})"
    )
    with _batch("apps") as batch_op:
        batch_op.drop_column("settled_purchases")
    with _batch("purchases") as batch_op:
        batch_op.drop_index("ix_purchases_unsettled")
        batch_op.drop_constraint(batch_op.f("fk_purchases_owner_id_users"), type_="foreignkey")
        batch_op.drop_column("settled_at")
        batch_op.drop_column("owner_id")

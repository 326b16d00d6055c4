"""Fold generation: a counter every committed fold bumps, for cache invalidation

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("fold_progress") as table:
        table.add_column(
            sa.Column("generation", sa.BigInteger(), nullable=False, server_default="0")
        )
    # A random start: answers cached in a shared Redis for another database (one dropped
    # and created again, a restored copy) are keyed by generations this one never has.
    op.execute(
        sa.text("UPDATE fold_progress SET generation = :start").bindparams(
            start=secrets.randbelow(2**62)
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("fold_progress") as table:
        table.drop_column("generation")

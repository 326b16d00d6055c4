"""Trigram indexes serve the catalogue's search on PostgreSQL

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Written out rather than imported from the models: a migration keeps meaning what it meant.
INDEXES = {"ix_apps_title_trgm": "title", "ix_apps_description_trgm": "description"}


def upgrade() -> None:
    # SQLite has no trigram index; its search scans, as before.
    if op.get_bind().dialect.name != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner, or any role
    # with CREATE on the database, may create it without being a superuser.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        # The search is lower(column) LIKE '%…%': an index on that very expression serves it.
        op.create_index(
            name, "apps", [sa.text(f"lower({column}) gin_trgm_ops")], postgresql_using="gin"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.drop_index(name, table_name="apps")
    # The extension stays: other objects of the database may have come to use it.

"""Alembic migrations of the Dashboard database (``dashboard db upgrade``)."""

from __future__ import annotations

from pathlib import Path

from sqlstore import migrations

HERE = Path(__file__).parent


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at ``database_url`` to ``revision``."""
    migrations.upgrade(HERE, database_url, revision)

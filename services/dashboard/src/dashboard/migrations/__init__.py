"""Alembic migrations of the Dashboard database (``dashboard db upgrade``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from dashboard.db import normalize_database_url

HERE = Path(__file__).parent


def alembic_config(database_url: str) -> Config:
    """Return an Alembic configuration for the migrations packaged here."""
    config = Config(str(HERE / "alembic.ini"))
    config.set_main_option("script_location", str(HERE))
    # Escaped because Config interpolates '%' (URL-encoded passwords contain it).
    config.set_main_option(
        "sqlalchemy.url", normalize_database_url(database_url).replace("%", "%%")
    )
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at ``database_url`` to ``revision``."""
    command.upgrade(alembic_config(database_url), revision)

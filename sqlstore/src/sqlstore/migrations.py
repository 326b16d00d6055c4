"""Alembic, the same way for every package that keeps its migrations inside itself."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, engine_from_config, pool, text

from sqlstore.database import normalize_database_url


def alembic_config(script_location: Path, database_url: str) -> Config:
    """The Alembic configuration of the migration folder ``script_location``."""
    config = Config(str(script_location / "alembic.ini"))
    config.set_main_option("script_location", str(script_location))
    # Escaped because Config interpolates '%' (URL-encoded passwords contain it).
    config.set_main_option(
        "sqlalchemy.url", normalize_database_url(database_url).replace("%", "%%")
    )
    return config


def upgrade(script_location: Path, database_url: str, revision: str = "head") -> None:
    """Bring the database at ``database_url`` to ``revision``."""
    command.upgrade(alembic_config(script_location, database_url), revision)


def run_online(context, target_metadata: MetaData, lock_key: int) -> None:
    """The body of a migration folder's ``env.py``.

    Processes that migrate as they start (an API and a worker, say) may do it at the same
    moment; on PostgreSQL an advisory lock makes the second wait and then find nothing to do.
    """
    config = context.config
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most things; batch mode copies the table instead.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key})
            context.run_migrations()

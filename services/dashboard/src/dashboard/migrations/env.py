"""Alembic's entry: runs migrations against the URL ``dashboard db upgrade`` passes in."""

from alembic import context
from sqlalchemy import engine_from_config, pool, text

from dashboard.models import Base

config = context.config
LOCK_KEY = 0x0DA5_0001  # names "Dashboard migrations" among advisory locks


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            # SQLite cannot ALTER most things; batch mode copies the table instead.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Worker processes and the API may each migrate as they start, at the same
                # moment; the second waits here and then finds nothing left to do.
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
            context.run_migrations()


run_migrations_online()

"""Fresh tables on PostgreSQL: a schema of their own, moved into place in one transaction.

The fold reaches them through SQLAlchemy's ``schema_translate_map``. The swap drops the live
tables and moves the fresh ones into the live schema with ``ALTER TABLE ... SET SCHEMA``
(DDL is transactional here), indexes and constraints along with them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from dashboard.errors import RebuildRunning
from dashboard.models import EVENTS_PROGRESS, Base, FoldProgress
from dashboard.rebuild.tables import (
    PROGRESS_COLUMNS,
    REBUILT,
    FoldTail,
    FreshTables,
    seed,
)
from sqlstore import Database

FRESH_SCHEMA = "dashboard_rebuild"
#: Names "the dashboard rebuild" among advisory locks (see dashboard.migrations.env).
LOCK_KEY = 0x0DA5_0002
#: How long the swap waits for a live table's lock before it backs off and tries again.
LOCK_TIMEOUT_SECONDS = 5


class PostgresFreshTables(FreshTables):
    """A schema of fresh tables; the swap drops the live tables and moves these in their
    place, all in one transaction (DDL is transactional on PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._translate = {"schema_translate_map": {None: FRESH_SCHEMA}}
        self._engine: Engine = db.engine.execution_options(**self._translate)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        # A session-level advisory lock on a connection of its own: the server drops it with
        # the connection, so a rebuild that dies does not keep the next one out.
        with self.db.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            taken = connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY})
            if not taken:
                raise RebuildRunning("another `dashboard rebuild` is running on this database")
            try:
                yield
            finally:
                with suppress(DBAPIError):  # a broken connection took the lock with it
                    connection.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})

    def create(self) -> None:
        fresh = self._quote(FRESH_SCHEMA)
        with self._engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {fresh} CASCADE")
            connection.exec_driver_sql(f"CREATE SCHEMA {fresh}")
            Base.metadata.create_all(
                connection, tables=[*REBUILT, FoldProgress.__table__], checkfirst=False
            )
            seed(connection)

    @contextmanager
    def folding(self) -> Iterator[Connection]:
        with self._engine.begin() as connection:
            # Until the swap these tables are disposable: a crash means another rebuild.
            connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
            yield connection

    def swap(self, fold_tail: FoldTail) -> int:
        with self.db.engine.begin() as connection:
            live = self._quote(connection.scalar(text("SELECT current_schema()")))
            fresh = self._quote(FRESH_SCHEMA)
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_SECONDS}s'")
            tables = ", ".join(f"{live}.{self._quote(table.name)}" for table in REBUILT)
            connection.exec_driver_sql(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE")
            # Readers of the progress row (caches asking for the generation) are not held up.
            generation = connection.scalar(
                text(f"SELECT generation FROM {live}.fold_progress WHERE name = :name FOR UPDATE"),
                {"name": EVENTS_PROGRESS},
            )
            connection.execution_options(**self._translate)
            fold_tail(connection)
            copied = ", ".join(f"{name} = fresh.{name}" for name in PROGRESS_COLUMNS)
            connection.execute(
                text(
                    f"UPDATE {live}.fold_progress AS live SET {copied}, generation = :generation"
                    f" FROM {fresh}.fold_progress AS fresh"
                    " WHERE live.name = :name AND fresh.name = :name"
                ),
                {"generation": generation + 1, "name": EVENTS_PROGRESS},
            )
            for table in REBUILT:
                name = self._quote(table.name)
                connection.exec_driver_sql(f"DROP TABLE {live}.{name}")
                connection.exec_driver_sql(f"ALTER TABLE {fresh}.{name} SET SCHEMA {live}")
            connection.exec_driver_sql(f"DROP SCHEMA {fresh} CASCADE")
        return generation + 1

    def drop(self) -> None:
        with self.db.engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {self._quote(FRESH_SCHEMA)} CASCADE")

    def _quote(self, name: str) -> str:
        return self.db.engine.dialect.identifier_preparer.quote(name)

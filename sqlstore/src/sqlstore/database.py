"""Engines tuned per backend, and the units of work every service function runs inside."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from sqlstore.driver import DriverStatements, driver_statements

_READING = "sqlstore_reading"

# What code that writes inside its caller's transaction takes: a session or a connection.
Executor = Session | Connection


def normalize_database_url(url: str) -> str:
    """Pin PostgreSQL URLs to psycopg2, the driver installed with the services.

    ``postgresql://`` (and Heroku-style ``postgres://``) leave the driver to SQLAlchemy,
    whose default differs between releases.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url.removeprefix(prefix)
    return url


def make_engine(url: str, pool_size: int = 5) -> Engine:
    """Create an engine tuned for the backend behind ``url``.

    SQLite (the embedded default) gets WAL, so readers never wait for the writer, and
    ``BEGIN IMMEDIATE`` for writing transactions, so two writers queue on the lock instead
    of one failing with "database is locked" when both try to upgrade a read lock.
    PostgreSQL gets no pre-ping (a round trip on every checkout; after a server restart the
    first statement on a stale connection fails and SQLAlchemy drops the whole pool) and TCP
    keepalives, so a vanished server or a partitioned network shows up within a minute
    instead of the kernel's two hours.
    """
    url = normalize_database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            # Transactions are begun by the "begin" hook below, not by the driver.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection):
            reading = connection.get_execution_options().get(_READING)
            connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

        return engine
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        connect_args={
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
        },
    )


class Database:
    """Owns the engine and hands out sessions scoped to one transaction."""

    def __init__(self, url: str, pool_size: int = 5) -> None:
        self.url = normalize_database_url(url)
        self.engine = make_engine(self.url, pool_size)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Reads on PostgreSQL run in autocommit: no BEGIN/COMMIT round trips for a SELECT.
        reading: dict[str, object] = {_READING: True}
        if not self.is_sqlite:
            reading["isolation_level"] = "AUTOCOMMIT"
        self._reading_sessions = sessionmaker(
            self.engine.execution_options(**reading), expire_on_commit=False
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Yield a session; commit when the block ends, roll back if it raises."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """Yield a session for reads only; each statement sees the latest committed data."""
        with self._reading_sessions() as session, session.begin():
            yield session

    def driver_statements(self) -> AbstractContextManager[DriverStatements]:
        """Statements straight to the driver on a pooled connection, each its own
        transaction (PostgreSQL): see :mod:`sqlstore.driver`.

        For the hottest writes that fit in a statement or two, where SQLAlchemy's own work
        per statement would cost more than the driver's.
        """
        if self.is_sqlite:
            raise RuntimeError("driver statements need PostgreSQL")
        return driver_statements(self.engine)

    def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

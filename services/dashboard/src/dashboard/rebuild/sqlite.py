"""Fresh tables on SQLite: a database file beside the live one, attached for the swap.

The swap copies the fresh rows over the live ones in one write transaction. Readers, in WAL
mode, see the old rows until it commits and the new ones after, never empty tables.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy import Connection, event, text
from sqlalchemy.engine import make_url

from dashboard.errors import RebuildRunning
from dashboard.models import EVENTS_PROGRESS, Base, FoldProgress
from dashboard.rebuild.tables import (
    PROGRESS_COLUMNS,
    REBUILT,
    FoldTail,
    FreshTables,
    seed,
)
from sqlstore import Database, make_engine


class SqliteFreshTables(FreshTables):
    """A database file beside the live one (``<database>.rebuild``)."""

    ATTACHED = "rebuild"

    def __init__(self, db: Database) -> None:
        path = make_url(db.url).database
        if not path or path == ":memory:":
            raise ValueError("a rebuild needs the dashboard's database in a file")
        self.db = db
        self.path = Path(path).absolute()
        self.fresh_path = self.path.with_name(self.path.name + ".rebuild")
        self._fresh: Database | None = None

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        lock_path = self.path.with_name(self.path.name + ".rebuild.lock")
        with lock_path.open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RebuildRunning(
                    "another `dashboard rebuild` is running on this database"
                ) from None
            yield  # the lock goes with the file handle, also when the process dies

    def create(self) -> None:
        self.drop()
        self._fresh = Database(f"sqlite:///{self.fresh_path}")
        with self._fresh.engine.begin() as connection:
            Base.metadata.create_all(connection, tables=[*REBUILT, FoldProgress.__table__])
            seed(connection)

    @contextmanager
    def folding(self) -> Iterator[Connection]:
        with self._fresh.engine.begin() as connection:
            yield connection

    def swap(self, fold_tail: FoldTail) -> int:
        self._fresh.dispose()
        engine = make_engine(self.db.url)
        attach = f"ATTACH DATABASE ? AS {self.ATTACHED}"

        @event.listens_for(engine, "connect")
        def _attach(dbapi_connection, _record):
            dbapi_connection.execute(attach, (str(self.fresh_path),))

        try:
            # BEGIN IMMEDIATE: the write lock, so live folds wait until the swap commits.
            with engine.begin() as connection:
                generation = connection.scalar(
                    text("SELECT generation FROM main.fold_progress WHERE name = :name"),
                    {"name": EVENTS_PROGRESS},
                )
                connection.execution_options(schema_translate_map={None: self.ATTACHED})
                fold_tail(connection)
                for table in REBUILT:
                    columns = ", ".join(f'"{column.name}"' for column in table.columns)
                    connection.exec_driver_sql(f'DELETE FROM main."{table.name}"')
                    connection.exec_driver_sql(
                        f'INSERT INTO main."{table.name}" ({columns})'
                        f' SELECT {columns} FROM {self.ATTACHED}."{table.name}"'
                    )
                copied = ", ".join(
                    f"{name} = (SELECT {name} FROM {self.ATTACHED}.fold_progress"
                    " WHERE name = :name)"
                    for name in PROGRESS_COLUMNS
                )
                connection.execute(
                    text(
                        f"UPDATE main.fold_progress SET {copied}, generation = :generation"
                        " WHERE name = :name"
                    ),
                    {"generation": generation + 1, "name": EVENTS_PROGRESS},
                )
        finally:
            engine.dispose()
        self.drop()
        return generation + 1

    def drop(self) -> None:
        if self._fresh is not None:
            self._fresh.dispose()
        for suffix in ("", "-wal", "-shm", "-journal"):
            with suppress(FileNotFoundError):
                os.remove(f"{self.fresh_path}{suffix}")

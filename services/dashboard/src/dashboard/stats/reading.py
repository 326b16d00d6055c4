"""Connections for the stats queries: one statement each, no transaction around it.

A stats answer is a read or two of projection rows. An ORM session per read, or a
connection switched to autocommit at every checkout, costs more than the query itself
(about 0.5 ms against 0.2 ms on PostgreSQL), so reads go through a :class:`Reader`. On
PostgreSQL it has an engine of its own whose connections are in autocommit from the moment
they are made, and never plan parallel workers or JIT for reads this small. On SQLite it
uses the engine of :meth:`sqlstore.Database.reading` (plain ``BEGIN``: a read never takes
the write lock).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, event

from sqlstore import Database, make_engine


class Reader:
    """Hands out connections for single reads of ``database``.

    Parameters:
        database: the Dashboard's database.
        pool_size: connections kept open (PostgreSQL), as many again allowed in bursts.
    """

    def __init__(self, database: Database, pool_size: int = 5) -> None:
        self._own_engine = not database.is_sqlite
        if self._own_engine:
            self.engine = make_engine(database.url, pool_size)
            event.listen(self.engine, "connect", _autocommit)
        else:
            with database.reading() as session:
                bind = session.get_bind()
            assert isinstance(bind, Engine)
            self.engine = bind

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            yield connection

    def dispose(self) -> None:
        if self._own_engine:
            self.engine.dispose()


def _autocommit(dbapi_connection, _record) -> None:
    # Each statement commits by itself: no BEGIN before a read, no ROLLBACK after it.
    dbapi_connection.autocommit = True
    with dbapi_connection.cursor() as cursor:
        # These reads take a few milliseconds; starting parallel workers or compiling with
        # JIT for them costs more than it saves (a windowed top list: 14 ms with two
        # workers, 3 ms without).
        cursor.execute("SET max_parallel_workers_per_gather = 0; SET jit = off")

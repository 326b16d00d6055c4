"""Single statements handed straight to the DB-API driver, for the hottest writes.

SQLAlchemy's way from a statement to the driver (the compiled cache, parameter and result
processing, execution events, the result object) costs several times what psycopg2 itself
does for a short statement, and a connection's autocommit isolation level is set and reset
on every checkout. A write that is one or two plain statements can skip all of it: it takes
a pooled connection, switched to autocommit while it holds it, and gets its rows as tuples.

Failures stay what the rest of the code expects from SQLAlchemy: driver errors are raised
as SQLAlchemy's (``IntegrityError``, ``OperationalError``...), and a lost connection
invalidates the pool as a SQLAlchemy ``Connection`` would, so the next request reconnects.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import PoolProxiedConnection


class DriverStatements:
    """Statements on one pooled PostgreSQL connection in autocommit, as psycopg2 takes them.

    Each statement is its own transaction. The SQL is the driver's (``%(name)s``
    placeholders) and so are the values: psycopg2 adapts them itself (an aware datetime to a
    ``timestamptz``, a str to text), with no column type of SQLAlchemy's in between.
    """

    def __init__(self, engine: Engine, pooled: PoolProxiedConnection) -> None:
        self._engine = engine
        self._pooled = pooled
        self._error = engine.dialect.loaded_dbapi.Error
        self._cursor = None

    def first(self, sql: str, params: Mapping[str, Any]) -> tuple | None:
        """Run ``sql`` with ``params``; return its first row, or None if it gave none.

        Raises:
            sqlalchemy.exc.DBAPIError: of the subclass matching the driver's error.
        """
        try:
            cursor = self._cursor
            if cursor is None:
                self._pooled.dbapi_connection.autocommit = True
                cursor = self._cursor = self._pooled.cursor()
            cursor.execute(sql, params)
            return cursor.fetchone() if cursor.description is not None else None
        except self._error as error:
            raise self._wrapped(error, sql, params) from error

    def _wrapped(self, error: Exception, sql: str, params: Mapping[str, Any]) -> BaseException:
        engine = self._engine
        lost = engine.dialect.is_disconnect(error, self._pooled.dbapi_connection, self._cursor)
        if lost:
            # What Connection does on a disconnect: every connection pooled before now is
            # as dead as this one after a server restart, so the pool replaces them all.
            engine.pool._invalidate(self._pooled, error)
        return DBAPIError.instance(
            sql,
            params,
            error,
            self._error,
            hide_parameters=engine.hide_parameters,
            connection_invalidated=lost,
            dialect=engine.dialect,
        )

    def _release(self) -> None:
        """Leave the connection as the pool lends it out: closed cursor, no autocommit."""
        if self._cursor is None or not self._pooled.is_valid:
            return
        try:
            self._cursor.close()
            self._pooled.dbapi_connection.autocommit = False
        except self._error as error:
            # A connection that cannot be put back as it was lent is not put back at all.
            self._pooled.invalidate(error)


@contextmanager
def driver_statements(engine: Engine) -> Iterator[DriverStatements]:
    """Yield :class:`DriverStatements` on a connection from ``engine``'s pool; return it after."""
    pooled = engine.raw_connection()
    try:
        statements = DriverStatements(engine, pooled)
        try:
            yield statements
        finally:
            statements._release()
    finally:
        pooled.close()

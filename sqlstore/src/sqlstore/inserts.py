"""INSERT ... ON CONFLICT statements that run the same way on PostgreSQL and SQLite.

Build a statement once per dialect with :func:`insert_for` under :func:`built_once`, then
run it for many rows with :func:`insert_rows`, which sends PostgreSQL one array per column.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Connection, CursorResult, Table, Text, bindparam, cast, func, select
from sqlalchemy.dialects import postgresql, sqlite

from sqlstore.array_literals import array_literal
from sqlstore.database import Executor


def dialect_name(executor: Executor) -> str:
    """The name of the dialect ``executor`` speaks: ``"postgresql"`` or ``"sqlite"``."""
    if isinstance(executor, Connection):
        return executor.dialect.name
    return executor.get_bind().dialect.name


def dialect_insert(executor: Executor, table: Table) -> Any:
    """:func:`insert_for` the executor's dialect."""
    return insert_for(dialect_name(executor), table)


def insert_for(dialect: str, table: Table) -> Any:
    """An INSERT on ``table`` that can take ``ON CONFLICT`` in the dialect named ``dialect``.

    Raises:
        NotImplementedError: the dialect is neither PostgreSQL nor SQLite.
    """
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for the {dialect} dialect")


def built_once(build):
    """Cache a statement builder taking the dialect's name.

    A statement run for every batch, built afresh each time, costs its construction and the
    computation of its cache key (a few milliseconds a batch in all for the Dashboard's
    fold), more than compiling it does once it is cached.
    """
    return functools.cache(build)


def insert_rows(executor: Executor, statement: Any, rows: list[dict]) -> CursorResult:
    """Run the INSERT ``statement`` (with its ON CONFLICT and RETURNING) for ``rows``.

    ``rows`` all have the same keys, the columns to insert, and come in the order their row
    locks are to be taken.

    On PostgreSQL the rows go as one array per column, unnested by the server in array
    order: a single statement. Rendering them as multi-row VALUES instead costs SQLAlchemy
    about as much per row as the server's work (measured: the Dashboard worker's CPU per
    event fell by about a quarter without it). A column of integers, strings or UTC
    timestamps goes as one array literal in a text parameter
    (:mod:`sqlstore.array_literals`), about ten times cheaper for the driver and the
    server than a list adapted element by element; any other column goes as a list.

    On SQLite the statement is executed for the list of rows; with RETURNING, SQLAlchemy
    sends them as multi-row VALUES statements rendered from one cached compilation
    (without it, an executemany of an upsert would go row by row).

    Parameters:
        executor: a session or connection inside an open transaction.
        statement: an INSERT built by :func:`insert_for`, with its ON CONFLICT clause.
        rows: at least one row, each mapping the same column names to values.

    Returns:
        The statement's result: the RETURNING rows, if it has RETURNING.
    """
    if dialect_name(executor) != "postgresql":
        return executor.execute(statement, rows)
    return insert_columns(
        executor, statement, {name: [row[name] for row in rows] for name in rows[0]}
    )


def insert_columns(executor: Executor, statement: Any, columns: dict[str, list]) -> CursorResult:
    """:func:`insert_rows` for rows given column by column: ``columns`` maps each column
    name to its values, one per row, every list as long, in the rows' lock order.

    A caller that sums its rows in memory can hand over their columns as it builds them,
    without a dict per row for this to take apart again.
    """
    count = len(next(iter(columns.values())))
    for name, column in columns.items():
        if len(column) != count:
            raise ValueError(f"column {name} has {len(column)} values, not {count}")
    if dialect_name(executor) != "postgresql":
        names = list(columns)
        together = zip(*columns.values(), strict=True)
        rows = [dict(zip(names, values, strict=True)) for values in together]
        return executor.execute(statement, rows)
    # A column holding one object in every row (a batch's timestamp, say) is sent once.
    same = [name for name, column in columns.items() if _one_object(column)]
    if len(same) == len(columns):  # one row (or one object in every column): no array is left
        same = same[1:]
    varying = tuple(name for name in columns if name not in same)
    values: dict[str, Any] = {}
    as_text = []
    for name in varying:
        column = columns[name]
        literal = array_literal(column)
        if literal is not None:
            as_text.append(name)
        values[f"{name}_values"] = column if literal is None else literal
    values.update({f"{name}_value": columns[name][0] for name in same})
    statement = from_arrays(statement, varying, tuple(same), tuple(as_text))
    return executor.execute(statement, values)


def _one_object(column: list) -> bool:
    first = column[0]
    return all(value is first for value in column)


@functools.lru_cache(maxsize=256)
def from_arrays(
    statement: Any,
    varying: tuple[str, ...],
    same: tuple[str, ...],
    as_text: tuple[str, ...] = (),
) -> Any:
    """``statement`` inserting from one array per ``varying`` column and one value per
    ``same`` column, on PostgreSQL (see :func:`insert_rows`).

    The parameters are named ``<column>_values`` (a list, or for the columns in
    ``as_text`` an array literal as text, cast by the server) and ``<column>_value``.
    """
    columns = statement.table.c

    def array(name: str) -> Any:
        array_type = postgresql.ARRAY(columns[name].type)
        if name in as_text:
            return cast(bindparam(f"{name}_values", type_=Text), array_type)
        return bindparam(f"{name}_values", type_=array_type)

    arrays = [array(name) for name in varying]
    unnested = func.unnest(*arrays).table_valued(*varying).render_derived()
    constants = [bindparam(f"{name}_value", type_=columns[name].type) for name in same]
    return statement.from_select([*varying, *same], select(*unnested.c, *constants))

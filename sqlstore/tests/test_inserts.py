"""The INSERT ... ON CONFLICT helpers on both backends: the same rows come out either way."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from sqlstore import Database, dialect_insert, dialect_name, insert_for, insert_rows
from sqlstore.inserts import built_once, from_arrays, insert_columns

metadata = MetaData()
counters = Table(
    "counters",
    metadata,
    Column("name", String(20), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("value", Integer, nullable=False),
)


@pytest.fixture
def database(database_with):
    return database_with(metadata)


@built_once
def _adding(dialect: str):
    upsert = insert_for(dialect, counters)
    return upsert.on_conflict_do_update(
        index_elements=[counters.c.name],
        set_={"value": counters.c.value + upsert.excluded.value},
    ).returning(counters.c.name, counters.c.value)


def _add(db: Database, rows: list[dict]) -> dict[str, int]:
    with db.transaction() as session:
        returned = insert_rows(session, _adding(dialect_name(session)), rows).all()
    return dict(returned)


def _stored(db: Database) -> dict[str, tuple[str, int]]:
    with db.reading() as session:
        rows = session.execute(select(counters.c.name, counters.c.kind, counters.c.value))
        return {name: (kind, value) for name, kind, value in rows}


def test_insert_rows_inserts_then_updates_and_returns_every_row(database):
    first = _add(
        database, [{"name": "a", "kind": "x", "value": 1}, {"name": "b", "kind": "y", "value": 2}]
    )
    second = _add(
        database, [{"name": "b", "kind": "y", "value": 10}, {"name": "c", "kind": "z", "value": 3}]
    )

    assert first == {"a": 1, "b": 2}
    assert second == {"b": 12, "c": 3}
    assert _stored(database) == {"a": ("x", 1), "b": ("y", 12), "c": ("z", 3)}


def test_insert_columns_does_what_insert_rows_does_with_the_same_rows(database):
    _add(database, [{"name": "a", "kind": "x", "value": 1}])
    columns = {"name": ["a", "b"], "kind": ["x", "y"], "value": [5, 2]}

    with database.transaction() as session:
        returned = insert_columns(session, _adding(dialect_name(session)), columns).all()

    assert dict(returned) == {"a": 6, "b": 2}
    assert _stored(database) == {"a": ("x", 6), "b": ("y", 2)}


def test_insert_columns_refuses_columns_of_different_lengths(database):
    columns = {"name": ["a", "b"], "kind": ["x"], "value": [5, 2]}

    with (
        pytest.raises(ValueError, match="column kind has 1 values"),
        database.transaction() as session,
    ):
        insert_columns(session, _adding(dialect_name(session)), columns)


def test_insert_rows_sends_a_value_shared_by_every_row_once(database):
    kind = "shared"
    rows = [{"name": f"n{i}", "kind": kind, "value": i} for i in range(5)]

    assert _add(database, rows) == {f"n{i}": i for i in range(5)}
    assert {kind for kind, _ in _stored(database).values()} == {"shared"}


def test_insert_rows_takes_a_single_row(database):
    assert _add(database, [{"name": "only", "kind": "x", "value": 7}]) == {"only": 7}
    assert _stored(database) == {"only": ("x", 7)}


def test_dialect_insert_can_ignore_a_clash(database):
    with database.transaction() as session:
        session.execute(dialect_insert(session, counters).values(name="a", kind="x", value=1))
        session.execute(
            dialect_insert(session, counters)
            .values(name="a", kind="other", value=2)
            .on_conflict_do_nothing()
        )
    assert _stored(database) == {"a": ("x", 1)}


def test_dialect_name_is_read_from_a_session_or_a_connection(database):
    expected = "sqlite" if database.is_sqlite else "postgresql"
    with database.transaction() as session:
        assert dialect_name(session) == expected
    with database.engine.connect() as connection:
        assert dialect_name(connection) == expected


def test_insert_for_builds_each_dialects_own_insert():
    assert isinstance(insert_for("postgresql", counters), postgresql.Insert)
    assert isinstance(insert_for("sqlite", counters), sqlite.Insert)
    with pytest.raises(NotImplementedError, match="mysql"):
        insert_for("mysql", counters)


def test_built_once_builds_a_statement_once_per_dialect():
    assert _adding("sqlite") is _adding("sqlite")
    assert _adding("postgresql") is not _adding("sqlite")


def test_from_arrays_unnests_one_array_per_varying_column():
    statement = from_arrays(_adding("postgresql"), ("name", "value"), ("kind",))
    sql = str(statement.compile(dialect=postgresql.dialect()))

    assert "unnest(%(name_values)s::VARCHAR(20)[], %(value_values)s::INTEGER[])" in sql
    assert "%(kind_value)s" in sql
    assert from_arrays(_adding("postgresql"), ("name", "value"), ("kind",)) is statement


def test_insert_rows_keeps_awkward_strings_as_they_are(database):
    names = ['a "quoted"', "back\\slash", "comma, {brace}", "NULL", "é ✓"]
    rows = [{"name": name, "kind": name, "value": i} for i, name in enumerate(names)]

    assert _add(database, rows) == {name: i for i, name in enumerate(names)}
    assert _stored(database) == {name: (name, i) for i, name in enumerate(names)}


def test_from_arrays_casts_the_columns_sent_as_array_literals():
    statement = from_arrays(_adding("postgresql"), ("name", "value"), ("kind",), ("value",))
    sql = str(statement.compile(dialect=postgresql.dialect()))

    assert "CAST(%(value_values)s::VARCHAR AS INTEGER[])" in sql
    assert "%(name_values)s::VARCHAR(20)[]" in sql

"""UTCDateTime on both backends: aware UTC values back, naive values refused, DDL unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import StatementError
from sqlalchemy.schema import CreateTable

from sqlstore import Database, UTCDateTime

metadata = MetaData()
moments = Table(
    "moments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime),
)
EAST = timezone(timedelta(hours=5, minutes=30))


@pytest.fixture
def database(database_with):
    return database_with(metadata)


def _write(db: Database, at: datetime | None) -> None:
    with db.transaction() as session:
        session.execute(insert(moments).values(id=1, at=at))


def _read(db: Database) -> datetime | None:
    with db.reading() as session:
        return session.scalar(select(moments.c.at))


def test_a_value_comes_back_aware_and_in_utc(database):
    written = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=EAST)
    _write(database, written)

    read = _read(database)

    assert read == written
    assert read.tzinfo is UTC
    assert read == datetime(2026, 3, 1, 7, 0, 15, 123456, tzinfo=UTC)


def test_sqlite_rows_hold_utc_wall_clock_time(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'store.db'}")
    metadata.create_all(db.engine)
    _write(db, datetime(2026, 3, 1, 12, 30, tzinfo=EAST))
    with db.reading() as session:
        stored = session.scalar(text("SELECT at FROM moments"))
    db.dispose()
    assert stored.startswith("2026-03-01 07:00:00")


def test_comparisons_use_the_instant_whatever_the_zone(database):
    _write(database, datetime(2026, 3, 1, 7, 0, tzinfo=UTC))
    same_instant_elsewhere = datetime(2026, 3, 1, 12, 30, tzinfo=EAST)
    with database.reading() as session:
        found = session.scalar(select(moments.c.id).where(moments.c.at == same_instant_elsewhere))
    assert found == 1


def test_a_naive_value_is_refused(database):
    with pytest.raises(StatementError, match="naive datetime"):
        _write(database, datetime(2026, 3, 1, 7, 0))
    assert _read(database) is None


def test_null_stays_null(database):
    _write(database, None)
    assert _read(database) is None


@pytest.mark.parametrize("dialect", [postgresql.dialect(), sqlite.dialect()])
def test_the_ddl_is_that_of_a_timestamp_with_time_zone(dialect):
    plain = Table(
        "moments",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", DateTime(timezone=True)),
    )
    assert str(CreateTable(moments).compile(dialect=dialect)) == str(
        CreateTable(plain).compile(dialect=dialect)
    )

"""Statements straight to the driver: each its own transaction, SQLAlchemy's errors, and the
connection handed back to the pool as it was lent."""

from __future__ import annotations

from contextlib import suppress

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError

from sqlstore import Database


@pytest.fixture
def postgres(postgres_url):
    db = Database(postgres_url, pool_size=1)
    with db.transaction() as session:
        session.execute(text("DROP TABLE IF EXISTS things"))
        session.execute(text("CREATE TABLE things (n INTEGER PRIMARY KEY)"))
    yield db
    db.dispose()


def _numbers(db: Database) -> list[int]:
    with db.reading() as session:
        return list(session.scalars(text("SELECT n FROM things ORDER BY n")))


def test_sqlite_has_none(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'store.db'}")
    with pytest.raises(RuntimeError, match="PostgreSQL"), database.driver_statements():
        pass


def test_rows_come_back_as_tuples_and_a_statement_without_rows_as_none(postgres):
    with postgres.driver_statements() as statements:
        assert statements.first("INSERT INTO things VALUES (%(n)s) RETURNING n", {"n": 1}) == (1,)
        assert statements.first("INSERT INTO things VALUES (%(n)s)", {"n": 2}) is None
        assert statements.first("SELECT n FROM things WHERE n > %(n)s", {"n": 5}) is None
    assert _numbers(postgres) == [1, 2]


def test_each_statement_commits_on_its_own_and_errors_are_sqlalchemys(postgres):
    with suppress(IntegrityError), postgres.driver_statements() as statements:
        statements.first("INSERT INTO things VALUES (%(n)s)", {"n": 1})
        statements.first("INSERT INTO things VALUES (%(n)s)", {"n": 1})
    with pytest.raises(DataError), postgres.driver_statements() as statements:
        statements.first("INSERT INTO things VALUES (%(n)s)", {"n": "not a number"})
    assert _numbers(postgres) == [1]


def test_the_connection_goes_back_to_the_pool_out_of_autocommit(postgres):
    with postgres.driver_statements() as statements:
        statements.first("SELECT 1", {})
    # The pool holds one connection: the transaction below gets the same one.
    with suppress(RuntimeError), postgres.transaction() as session:
        session.execute(text("INSERT INTO things VALUES (1)"))
        raise RuntimeError("changed my mind")
    assert _numbers(postgres) == []

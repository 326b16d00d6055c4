"""The shared Database on both backends: units of work, autocommit reads, URL pinning."""

from __future__ import annotations

from contextlib import suppress

import pytest
from sqlalchemy import text

from sqlstore import Database, normalize_database_url


@pytest.fixture
def database(database_url):
    db = Database(database_url)
    with db.transaction() as session:
        session.execute(text("DROP TABLE IF EXISTS things"))
        session.execute(text("CREATE TABLE things (n INTEGER)"))
    yield db
    db.dispose()


def _count(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(text("SELECT count(*) FROM things"))


def test_a_transaction_commits_at_the_end(database):
    with database.transaction() as session:
        session.execute(text("INSERT INTO things VALUES (1)"))
    assert _count(database) == 1


def test_a_transaction_that_raises_leaves_nothing(database):
    with suppress(RuntimeError), database.transaction() as session:
        session.execute(text("INSERT INTO things VALUES (1)"))
        raise RuntimeError("changed my mind")
    assert _count(database) == 0


def test_reads_see_each_commit_as_it_happens(database):
    with database.reading() as session:
        before = session.scalar(text("SELECT count(*) FROM things"))
        with database.transaction() as writer:
            writer.execute(text("INSERT INTO things VALUES (1)"))
        after = session.scalar(text("SELECT count(*) FROM things"))
    # PostgreSQL reads in autocommit, each statement on a fresh snapshot; SQLite's read
    # transaction keeps its snapshot, which is still a consistent view.
    assert (before, after) == ((0, 0) if database.is_sqlite else (0, 1))


def test_ping_answers(database):
    database.ping()


@pytest.mark.parametrize(
    ("given", "pinned"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg2://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg2://u@h/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg2://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_postgresql_urls_are_pinned_to_psycopg2(given, pinned):
    assert normalize_database_url(given) == pinned

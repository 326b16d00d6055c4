"""Each test runs on SQLite and on PostgreSQL (one throwaway database for the whole suite);
each makes its own tables."""

from __future__ import annotations

import pytest

from sqlstore import Database
from sqlstore.testing import postgres_server, throwaway_database


@pytest.fixture(scope="session")
def postgres_url():
    with postgres_server() as admin_url, throwaway_database(admin_url, "sqlstore_test") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> str:
    """The URL of an empty SQLite file, then of the suite's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def database_with(database_url):
    """Make a Database on this test's backend holding fresh tables of the given metadata."""
    made = []

    def make(metadata) -> Database:
        database = Database(database_url)
        metadata.drop_all(database.engine)
        metadata.create_all(database.engine)
        made.append((database, metadata))
        return database

    yield make
    for database, metadata in made:
        metadata.drop_all(database.engine)
        database.dispose()

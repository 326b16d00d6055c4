"""One throwaway PostgreSQL database for the whole suite; each test makes its own tables."""

from __future__ import annotations

import pytest

from sqlstore.testing import postgres_server, throwaway_database


@pytest.fixture(scope="session")
def postgres_url():
    with postgres_server() as admin_url, throwaway_database(admin_url, "sqlstore_test") as url:
        yield url

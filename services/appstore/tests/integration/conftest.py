"""Fixtures of the API tests."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from appstore.models import Base


@pytest.fixture(autouse=True)
def _empty_tables(request):
    """Each test starts from empty tables and ids counted from 1.

    Overrides the suite-wide fixture of the same name: on PostgreSQL a TRUNCATE costs about
    60 ms, DELETE on tables this small and a sequence reset about 3 ms, and the API tests
    are many.
    """
    yield
    if "components" not in request.fixturenames:
        return
    db = request.getfixturevalue("components").db
    with db.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
        if not db.is_sqlite:
            sequences = connection.scalars(
                text(
                    "SELECT sequence_name FROM information_schema.sequences"
                    " WHERE sequence_schema = current_schema()"
                )
            ).all()
            for name in sequences:
                connection.execute(text(f'ALTER SEQUENCE "{name}" RESTART'))

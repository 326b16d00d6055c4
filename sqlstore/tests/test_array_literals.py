"""Array literals read back by PostgreSQL exactly as the values they were rendered from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import text

from sqlstore import Database
from sqlstore.array_literals import array_literal

AWKWARD = ['a "quoted" word', "back\\slash", "comma, {brace}", "NULL", " padded ", "é ✓", ""]
MOMENT = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
def postgres(postgres_url):
    database = Database(postgres_url)
    yield database
    database.engine.dispose()


@pytest.mark.parametrize(
    ("values", "cast"),
    [
        ([1, -2, 0, 2**62], "bigint[]"),
        (AWKWARD, "text[]"),
        (
            [MOMENT, MOMENT, MOMENT + timedelta(days=400), MOMENT.replace(microsecond=0)],
            "timestamptz[]",
        ),
    ],
)
def test_postgresql_reads_back_the_values_rendered(postgres, values, cast):
    literal = array_literal(values)
    assert literal is not None
    with postgres.reading() as session:
        read = session.scalar(text(f"SELECT CAST(:literal AS {cast})"), {"literal": literal})
    assert read == values


@pytest.mark.parametrize(
    "values",
    [
        [1, None],
        [True, False],
        [1, True],
        ["a", 1],
        ["nul\x00inside"],
        [MOMENT, MOMENT.replace(tzinfo=None)],
        [MOMENT.astimezone(timezone(timedelta(hours=2)))],
        [Decimal("1.5")],
        [None],
    ],
)
def test_values_without_one_plain_kind_are_left_to_the_driver(values):
    assert array_literal(values) is None

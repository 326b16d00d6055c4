"""Real databases for the fold tests: a throwaway PostgreSQL database per run, and SQLite.

PostgreSQL comes from TEST_DATABASE_URL (an admin URL on a server where the tests may
create databases), by default the local server; an unreachable server fails the run with
a hint rather than skipping the tests.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Table, select, update

from appstore_events import Envelope, new_envelope
from dashboard.migrations import upgrade
from dashboard.models import (
    AppStats,
    Base,
    Buyer,
    DeveloperStats,
    FoldProgress,
    KnownUser,
    ProcessedEvent,
    SeriesMinute,
    SeriesQuarterHour,
    Total,
)
from sqlstore import Database
from sqlstore.testing import postgres_server, throwaway_database


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """The URL of a PostgreSQL server where the tests may create databases."""
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url(postgres_admin_url) -> Iterator[str]:
    """A migrated PostgreSQL database of its own for this test run, dropped at the end."""
    with throwaway_database(postgres_admin_url, "dashboard_test") as url:
        upgrade(url)
        yield url


@pytest.fixture
def empty_postgres_url(postgres_admin_url) -> Iterator[str]:
    """A PostgreSQL database with no tables at all, for migration tests."""
    with throwaway_database(postgres_admin_url, "dashboard_test") as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    """A migrated SQLite file for this test run."""
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'dashboard.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def databases() -> Iterator[dict[str, Database]]:
    """One Database per backend, made on first use and disposed at the end of the run."""
    made: dict[str, Database] = {}
    yield made
    for database in made.values():
        database.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, databases) -> Database:
    """A migrated database with empty projections, on each backend in turn."""
    backend = request.param
    if backend not in databases:
        databases[backend] = Database(request.getfixturevalue(f"{backend}_url"))
    database = databases[backend]
    reset_projections(database)
    return database


@pytest.fixture
def postgres_db(databases, postgres_url) -> Database:
    """The PostgreSQL database alone, for what SQLite cannot do (concurrent writers)."""
    if "postgres" not in databases:
        databases["postgres"] = Database(postgres_url)
    reset_projections(databases["postgres"])
    return databases["postgres"]


def reset_projections(database: Database) -> None:
    """Return every table to its state right after the migration."""
    with database.engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            if table is Total.__table__:
                connection.execute(update(table).values(value=0))
            elif table is FoldProgress.__table__:
                connection.execute(
                    update(table).values(contiguous_through=0, last_sequence=0, last_event_at=None)
                )
            else:
                connection.execute(table.delete())


def utc(text: str) -> datetime:
    """``"09:30:15"`` → that time on the scripted day, in UTC."""
    return datetime.fromisoformat(f"2026-11-26T{text}+00:00")


class EventLog:
    """Builds envelopes the way the Appstore publishes them: numbered in order, with
    ``occurred_at`` equal to the domain time the payload carries."""

    def __init__(self) -> None:
        self._sequences = itertools.count(1)

    def event(self, event_type: str, at: str, *, sequence: int | None = None, **data) -> Envelope:
        """An event of ``event_type`` happening at ``at``; timestamps in ``data`` may be
        given as ``"hh:mm:ss"`` strings."""
        loaded = {k: utc(v) if k.endswith("_at") else v for k, v in data.items()}
        envelope = new_envelope(event_type, loaded)
        number = next(self._sequences) if sequence is None else sequence
        return dataclasses.replace(envelope, occurred_at=utc(at)).with_sequence(number)

    def registered(self, user_id: int, username: str, at: str, **kw) -> Envelope:
        return self.event(
            "UserRegistered",
            at,
            user_id=user_id,
            username=username,
            role="user",
            registered_at=at,
            **kw,
        )

    def granted(self, user_id: int, amount: int, at: str, **kw) -> Envelope:
        return self.event(
            "CreditGranted", at, user_id=user_id, amount=amount, granted_by=99, granted_at=at, **kw
        )

    def created(self, app_id: int, owner_id: int, title: str, at: str, **kw) -> Envelope:
        return self.event(
            "AppCreated",
            at,
            app_id=app_id,
            owner_id=owner_id,
            title=title,
            price=kw.pop("price", 10),
            created_at=at,
            **kw,
        )

    def updated(self, app_id: int, at: str, sequence: int | None = None, **changes) -> Envelope:
        return self.event("AppUpdated", at, sequence=sequence, app_id=app_id, changes=changes)

    def verified(self, app_id: int, at: str, **kw) -> Envelope:
        return self.event("AppVerified", at, app_id=app_id, verified_by=99, verified_at=at, **kw)

    def deleted(self, app_id: int, at: str, **kw) -> Envelope:
        return self.event("AppDeleted", at, app_id=app_id, deleted_by=99, deleted_at=at, **kw)

    def purchased(
        self, purchase_id: int, app_id: int, buyer_id: int, owner_id: int, price: int, at: str
    ) -> Envelope:
        return self.event(
            "AppPurchased",
            at,
            purchase_id=purchase_id,
            app_id=app_id,
            buyer_id=buyer_id,
            owner_id=owner_id,
            price=price,
            purchased_at=at,
        )


@pytest.fixture
def log() -> EventLog:
    return EventLog()


def _aware(value: Any) -> Any:
    # SQLite returns timestamps without their zone; they were stored in UTC.
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _rows(session, table, key: int) -> dict:
    result = {}
    rows = select(table) if isinstance(table, Table) else table
    for row in session.execute(rows):
        values = tuple(_aware(value) for value in row)
        result[values[0] if key == 1 else values[:key]] = values[key:]
    return result


def read_projections(database: Database) -> dict[str, Any]:
    """Every projection table as ``{primary key: other columns}``, timestamps aware."""
    with database.reading() as session:
        return {
            "totals": dict(session.execute(select(Total.name, Total.value)).all()),
            "known_users": _rows(session, KnownUser.__table__, 1),
            "buyers": _rows(session, Buyer.__table__, 1),
            "app_stats": _rows(session, AppStats.__table__, 1),
            "developer_stats": _rows(session, DeveloperStats.__table__, 1),
            "series_minute": _rows(session, SeriesMinute.__table__, 2),
            "series_quarter_hour": _rows(session, SeriesQuarterHour.__table__, 2),
            # Not the generation: it counts commits, which differ with how events batch.
            "fold_progress": _rows(
                session,
                select(
                    FoldProgress.name,
                    FoldProgress.contiguous_through,
                    FoldProgress.last_sequence,
                    FoldProgress.last_event_at,
                ),
                1,
            ),
            "processed_sequences": sorted(
                session.scalars(select(ProcessedEvent.sequence)).all(), key=lambda s: s or 0
            ),
        }


@pytest.fixture
def projections():
    """Read every projection of a database: ``projections(db)``."""
    return read_projections

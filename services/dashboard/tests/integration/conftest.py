"""Real databases for the fold tests: a throwaway PostgreSQL database per run, and SQLite;
and a served Appstore for the tests that read its event log and reports.

PostgreSQL comes from TEST_DATABASE_URL (an admin URL on a server where the tests may
create databases), by default the local server; an unreachable server fails the run with
a hint rather than skipping the tests. The Appstore needs the ``appstore`` package (tox
installs it into this env).
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Table, select, update

from appstore import outbox
from appstore.bootstrap import bootstrap
from appstore.config import Settings as AppstoreSettings
from appstore.errors import Conflict, InsufficientCredit
from appstore.migrations import upgrade as upgrade_appstore
from appstore.security.principal import Principal
from appstore.services import apps, purchases, users
from dashboard.appstore_client import AppstoreClient
from dashboard.migrations import upgrade
from dashboard.models import (
    AppPrice,
    AppStats,
    Base,
    Buyer,
    DeveloperStats,
    FoldProgress,
    KnownUser,
    ProcessedEvent,
    SalesSeries,
    SeriesMinute,
    SeriesQuarterHour,
    Total,
)
from sqlstore import Database
from sqlstore.testing import throwaway_database

from ..truth import AppstoreTruth


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


def _rows(session, table, key: int) -> dict:
    result = {}
    rows = select(table) if isinstance(table, Table) else table
    for row in session.execute(rows):
        values = tuple(row)
        result[values[0] if key == 1 else values[:key]] = values[key:]
    return result


def _prices(session) -> dict[int, list[tuple]]:
    prices: dict[int, list[tuple]] = {}
    rows = session.execute(
        select(AppPrice.app_id, AppPrice.changed_at, AppPrice.sequence, AppPrice.price).order_by(
            AppPrice.app_id, AppPrice.changed_at, AppPrice.sequence
        )
    )
    for app_id, *change in rows:
        prices.setdefault(app_id, []).append(tuple(change))
    return prices


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
            "sales_series": _rows(session, SalesSeries.__table__, 4),
            # Event ids are made afresh for every test: prices by app, in order.
            "app_prices": _prices(session),
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


# --- a served Appstore -----------------------------------------------------------------

PASSWORD = "service password"


@dataclasses.dataclass
class ServedAppstore:
    """``appstore serve`` on a throwaway database, and its parts for writing more history.

    ``truth`` holds the figures of the scripted history; :meth:`ground_truth` computes them
    again after a test has written more.
    """

    url: str
    parts: Any
    truth: dict[str, int]
    username: str = "svc"
    password: str = PASSWORD

    def client(self) -> AppstoreClient:
        """A client signed in as the service account."""
        return AppstoreClient(self.url, self.username, self.password)

    def ground_truth(self) -> dict[str, int]:
        return _ground_truth(self.parts)

    def number_events(self) -> None:
        """Give the events written since the last call their sequence, as the relay does."""
        with self.parts.db.engine.begin() as connection:
            outbox.assign_sequences(connection)


def _workload(parts) -> None:
    """Registrations, grants, apps, verifications and purchases, some of them refused."""
    rng = random.Random(3)
    db, hasher = parts.db, parts.passwords
    admin = users.register(db, hasher, "root", "r@x.example", PASSWORD, "admin")
    users.register(db, hasher, "svc", "s@x.example", PASSWORD, "service")
    as_admin = Principal(admin.id, "root", "admin")
    app_ids = []
    for d in range(4):
        dev = users.register(db, hasher, f"dev{d}", f"d{d}@x.example", PASSWORD)
        for a in range(3):
            fields = {
                "title": f"App {d}.{a}",
                "description": "x",
                "price": rng.choice((0, 5, 12)),
                "access_link": "https://x.example/app",
            }
            app = apps.create_app(db, Principal(dev.id, dev.username, "user"), fields)
            if a < 2:
                apps.verify_app(db, as_admin, app.id)
                app_ids.append(app.id)
    for b in range(12):
        buyer = users.register(db, hasher, f"buyer{b}", f"b{b}@x.example", PASSWORD)
        users.grant_credit(db, as_admin, buyer.id, rng.randint(5, 40))
        for app_id in rng.sample(app_ids, 5):
            with contextlib.suppress(InsufficientCredit, Conflict):
                purchases.purchase(db, Principal(buyer.id, buyer.username, "user"), app_id)


def _ground_truth(parts) -> dict[str, int]:
    return AppstoreTruth(parts.db.engine).totals()


@pytest.fixture(scope="module")
def appstore(postgres_admin_url, tmp_path_factory, serve_appstore):
    """A served Appstore with a scripted history, its log numbered as the relay would; one
    per test module."""
    data_dir = tmp_path_factory.mktemp("appstore")
    with throwaway_database(postgres_admin_url, "appstore_served") as url:
        upgrade_appstore(url)
        settings = AppstoreSettings(
            database_url=url, data_dir=data_dir, password_profile="cheapest"
        )
        parts = bootstrap(settings)
        _workload(parts)
        with parts.db.engine.begin() as connection:
            outbox.assign_sequences(connection)
        try:
            with serve_appstore(url, data_dir) as base_url:
                yield ServedAppstore(base_url, parts, _ground_truth(parts))
        finally:
            parts.db.dispose()

"""``dashboard rebuild`` against a served Appstore, on PostgreSQL and SQLite.

Small pages and batches make even the short scripted log take several pages, batches and
read-ahead rounds.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import delete, func, select, text, update

from appstore import models as store
from appstore.security.principal import Principal
from appstore.services import apps, purchases, users
from appstore_events import decode
from dashboard.appstore_client import AppstoreClient
from dashboard.cli import main
from dashboard.errors import AppstoreUnavailable, RebuildRunning
from dashboard.fold import fold
from dashboard.models import (
    AppPrice,
    AppStats,
    Base,
    FoldProgress,
    ProcessedEvent,
    SalesSeries,
    SeriesMinute,
    SeriesQuarterHour,
    Total,
)
from dashboard.rebuild import FRESH_SCHEMA, SWAPPING, rebuild
from dashboard.reconcile import reconcile
from dashboard.sync import sync

SMALL = {"page_size": 7, "batch_size": 20}
_names = itertools.count()


def _generation(db) -> int:
    with db.reading() as session:
        return session.scalar(select(FoldProgress.generation))


def _totals(db) -> dict[str, int]:
    with db.reading() as session:
        return dict(session.execute(select(Total.name, Total.value)).all())


def _processed(db) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(ProcessedEvent))


def _logged(appstore) -> list:
    client, events, after = appstore.client(), [], 0
    while page := client.events(after=after, limit=1000):
        events += page
        after = page[-1]["sequence"]
    return events


def _more_history(appstore) -> None:
    """A new developer's verified app bought by a new buyer: six more events, numbered."""
    db, hasher, n = appstore.parts.db, appstore.parts.passwords, next(_names)
    with db.reading() as session:
        admin_id = session.scalar(select(store.User.id).where(store.User.username == "root"))
    admin = Principal(admin_id, "root", "admin")
    dev = users.register(db, hasher, f"late-dev{n}", f"ld{n}@x.example", "password")
    app = apps.create_app(
        db,
        Principal(dev.id, dev.username, "user"),
        {"title": f"Late {n}", "description": "x", "price": 3, "access_link": "https://x.example"},
    )
    apps.verify_app(db, admin, app.id)
    buyer = users.register(db, hasher, f"late-buyer{n}", f"lb{n}@x.example", "password")
    users.grant_credit(db, admin, buyer.id, 10)
    purchases.purchase(db, Principal(buyer.id, buyer.username, "user"), app.id)
    appstore.number_events()


def _plant_drift(db) -> None:
    """A wrong figure, and the tables of migration 0006 as a database folded before it has
    them: empty, no credits granted in the series."""
    with db.transaction() as session:
        session.execute(update(AppStats).where(AppStats.app_id == 1).values(revenue=999_999))
        session.execute(delete(SalesSeries))
        session.execute(delete(AppPrice))
        session.execute(delete(SeriesMinute).where(SeriesMinute.metric == "credits_granted"))
        session.execute(
            delete(SeriesQuarterHour).where(SeriesQuarterHour.metric == "credits_granted")
        )


def _leftovers(db) -> bool:
    """Whether fresh tables of a rebuild are lying around."""
    if db.is_sqlite:
        return os.path.exists(db.engine.url.database + ".rebuild")
    with db.reading() as session:
        found = session.scalar(
            text("SELECT count(*) FROM information_schema.schemata WHERE schema_name = :name"),
            {"name": FRESH_SCHEMA},
        )
    return found == 1


def test_a_rebuild_gives_the_projections_of_a_straight_fold(db, appstore, projections):
    client = appstore.client()
    sync(db, client)
    straight = projections(db)
    _plant_drift(db)
    before = _generation(db)
    drift = {d.what for d in reconcile(db, client)}

    result = rebuild(db, client, **SMALL)

    assert {"app 1.revenue", "series credits_granted", "series minute app 1"} <= drift
    assert straight["sales_series"]
    assert straight["app_prices"]
    assert projections(db) == straight
    assert reconcile(db, client) == []
    assert result.read == result.folded == len(_logged(appstore))
    assert result.generation == _generation(db) > before
    with db.engine.connect() as connection:  # the swapped-in tables are the migrated ones
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert not _leftovers(db)


def test_readers_see_the_old_figures_until_the_swap(db, appstore, projections):
    client = appstore.client()
    sync(db, client)
    _plant_drift(db)
    old = projections(db)
    seen = []

    rebuild(db, client, **SMALL, on_progress=lambda result: seen.append(projections(db)))

    assert len(seen) >= 3  # several batches, then the moment before the swap
    assert all(figures == old for figures in seen)
    assert reconcile(db, client) == []  # the planted drift is gone with the old tables


def test_events_folded_live_during_the_rebuild_count_once(db, appstore):
    client = appstore.client()
    sync(db, client)
    calls = itertools.count()

    def meanwhile(result) -> None:
        call = next(calls)
        if call == 1 or result.phase == SWAPPING:
            _more_history(appstore)
            sync(db, appstore.client())  # folded live, as the worker would
        if result.phase == SWAPPING:
            _more_history(appstore)  # only in the log: the swap's tail must fold these

    result = rebuild(db, client, **SMALL, on_progress=meanwhile)

    logged = len(_logged(appstore))
    assert result.tail >= 6
    assert result.read == logged
    assert _processed(db) == logged
    assert _totals(db) == appstore.ground_truth()
    assert reconcile(db, client) == []
    sync(db, client)  # the live fold goes on on the new tables and finds nothing to add
    assert _totals(db) == appstore.ground_truth()


class _PausingClient(AppstoreClient):
    """Runs ``pause`` before the first page the swap reads (once swapping is set)."""

    def __init__(self, appstore, pause) -> None:
        super().__init__(appstore.url, appstore.username, appstore.password)
        self.swapping = False
        self.pause = pause

    def events(self, after: int, limit: int = 1000) -> list[dict]:
        if self.swapping and self.pause is not None:
            pause, self.pause = self.pause, None
            pause()
        return super().events(after, limit)


def _wait_for_lock_wait(db, query_start: str) -> None:
    """Until a session whose query starts with ``query_start`` waits for a lock."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with db.reading() as session:
            waiting = session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND query LIKE :start"
                ),
                {"start": query_start + "%"},
            )
        if waiting:
            return
        time.sleep(0.02)
    pytest.fail(f"no session started with {query_start!r} and waited for a lock")


def test_the_swap_waits_for_a_live_fold_and_holds_back_the_next(postgres_db, appstore):
    db = postgres_db
    sync(db, appstore.client())
    _more_history(appstore)
    logged = [decode(raw) for raw in _logged(appstore)]
    under_way, next_one = logged[-6:-3], logged[-3:]
    folded_first, release_first = threading.Event(), threading.Event()
    outcomes = {}

    def fold_live(name, envelopes) -> None:
        with db.transaction() as session:
            outcomes[name] = fold(session, envelopes)
            if name == "under way":  # folded, not yet committed, when the swap comes
                folded_first.set()
                release_first.wait(60)

    first = threading.Thread(target=fold_live, args=("under way", under_way))
    second = threading.Thread(target=fold_live, args=("next", next_one))

    def while_swapping() -> None:  # the live tables are locked by now
        second.start()
        _wait_for_lock_wait(db, "INSERT INTO processed_events")

    client = _PausingClient(appstore, while_swapping)

    def on_progress(result) -> None:
        client.swapping = result.phase == SWAPPING

    results = []
    rebuilding = threading.Thread(
        target=lambda: results.append(rebuild(db, client, **SMALL, on_progress=on_progress))
    )
    first.start()
    folded_first.wait(30)
    rebuilding.start()
    _wait_for_lock_wait(db, "LOCK TABLE")  # the swap waits for the fold under way
    release_first.set()
    for thread in (first, rebuilding, second):
        thread.join(60)

    assert outcomes["under way"].folded == 3
    assert outcomes["next"].duplicates == 3  # ran on the new tables, which had them
    assert results[0].read == len(logged) == _processed(db)
    assert _totals(db) == appstore.ground_truth()
    assert reconcile(db, appstore.client()) == []


class _FailingClient(AppstoreClient):
    def __init__(self, appstore, fail_at: int) -> None:
        super().__init__(appstore.url, appstore.username, appstore.password)
        self.calls = itertools.count()
        self.fail_at = fail_at

    def events(self, after: int, limit: int = 1000) -> list[dict]:
        if next(self.calls) == self.fail_at:
            raise AppstoreUnavailable("the Appstore went away")
        return super().events(after, limit)


CRASHING_REBUILD = """
import os, sys
from dashboard.appstore_client import AppstoreClient
from dashboard.rebuild import SWAPPING, rebuild
from sqlstore import Database

url, appstore_url, username, password = sys.argv[1:]
rebuild(
    Database(url),
    AppstoreClient(appstore_url, username, password),
    page_size=7,
    batch_size=20,
    on_progress=lambda result: result.phase == SWAPPING and os._exit(3),
)
"""


def test_a_failed_or_crashed_rebuild_leaves_the_live_tables_and_the_next_one_works(
    db, appstore, projections
):
    client = appstore.client()
    sync(db, client)
    live = projections(db)

    with pytest.raises(AppstoreUnavailable, match="went away"):
        rebuild(db, _FailingClient(appstore, fail_at=3), **SMALL)
    assert projections(db) == live
    assert not _leftovers(db)

    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_REBUILD, db.url, appstore.url, "svc", appstore.password],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert crashed.returncode == 3, crashed.stderr
    assert _leftovers(db)  # what a killed rebuild leaves behind...
    assert projections(db) == live
    _more_history(appstore)
    assert sync(db, client).folded == 6  # ...does not bother the live fold...

    rebuild(db, client, **SMALL)  # ...nor the next rebuild

    assert reconcile(db, client) == []
    assert not _leftovers(db)


def test_a_second_rebuild_at_the_same_time_is_refused(db, appstore):
    client = appstore.client()
    refusals = []

    def second(result) -> None:
        if not refusals:
            with pytest.raises(RebuildRunning, match="another `dashboard rebuild` is running"):
                rebuild(db, appstore.client(), **SMALL)
            refusals.append(result.phase)

    rebuild(db, client, **SMALL, on_progress=second)

    assert refusals
    assert reconcile(db, client) == []


def test_the_rebuild_command(db, appstore):
    env = {
        "DASHBOARD_DATABASE_URL": db.url,
        "APPSTORE_URL": appstore.url,
        "DASHBOARD_SERVICE_USERNAME": "svc",
        "DASHBOARD_SERVICE_PASSWORD": appstore.password,
    }
    before = _generation(db)
    runner = CliRunner()

    rebuilt = runner.invoke(main, ["rebuild", "--page-size", "10"], env=env)
    unconfigured = runner.invoke(main, ["rebuild"], env={**env, "DASHBOARD_SERVICE_PASSWORD": ""})

    assert rebuilt.exit_code == 0, rebuilt.output
    logged = len(_logged(appstore))
    assert f"rebuilt from {logged} events ({logged} folded, 0 unreadable" in rebuilt.output
    assert f"fold generation now {before + 1}" in rebuilt.output
    assert reconcile(db, appstore.client()) == []
    assert unconfigured.exit_code == 2
    assert "DASHBOARD_SERVICE_PASSWORD" in unconfigured.output

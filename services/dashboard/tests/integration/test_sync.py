"""``dashboard sync`` and ``reconcile`` against a served Appstore.

The Appstore is the real one, served by ``appstore serve`` (the ``appstore`` fixture).
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select, update

from appstore_events import decode
from dashboard.appstore_client import AppstoreClient
from dashboard.cli import main
from dashboard.errors import AppstoreUnavailable
from dashboard.fold import fold
from dashboard.models import AppStats, SalesSeries, SeriesQuarterHour, Total
from dashboard.reconcile import reconcile
from dashboard.sync import sync


def _totals(db) -> dict[str, int]:
    with db.reading() as session:
        return dict(session.execute(select(Total.name, Total.value)).all())


def test_sync_folds_the_whole_log_exactly_once(db, appstore):
    client = AppstoreClient(appstore.url, "svc", appstore.password)

    first = sync(db, client, page_size=25)
    again = sync(db, client, page_size=25)

    assert _totals(db) == appstore.truth
    assert first.folded == first.read > 0
    assert (again.read, again.folded) == (0, 0)  # it starts after the contiguous position


def test_sync_fills_the_gaps_the_queue_left(db, appstore):
    client = AppstoreClient(appstore.url, "svc", appstore.password)
    log = [decode(raw) for raw in client.events(after=0, limit=1000)]
    with db.transaction() as session:  # every third event came through the queue
        fold(session, log[::3])

    result = sync(db, client)

    assert _totals(db) == appstore.truth
    assert result.duplicates == len(log[::3]) - 1  # all but the first, which was contiguous
    assert result.last_sequence == log[-1].sequence


def test_wrong_service_credentials_fail_with_a_clear_error(appstore):
    client = AppstoreClient(appstore.url, "svc", "not the password")
    with pytest.raises(AppstoreUnavailable, match="signing in as 'svc' answered 401"):
        client.events(after=0)


def test_reconcile_finds_no_drift_after_sync_and_names_every_drift_before(db, appstore):
    client = AppstoreClient(appstore.url, "svc", appstore.password)
    before = reconcile(db, client)
    sync(db, client)
    with db.transaction() as session:  # one wrong figure, planted
        session.execute(update(AppStats).where(AppStats.app_id == 1).values(revenue=999_999))

    after = reconcile(db, client)

    assert {d.what for d in before} >= {
        f"totals.{name}" for name in appstore.truth if appstore.truth[name]
    }
    assert [str(d) for d in after] == [
        f"app 1.revenue: dashboard 999999, appstore {_revenue(client, 1)}"
    ]


def _revenue(client, app_id: int) -> int:
    return next(f["revenue"] for f in client.app_figures() if f["app_id"] == app_id)


def test_the_sync_and_reconcile_commands(db, appstore):
    env = {
        "DASHBOARD_DATABASE_URL": db.url,
        "APPSTORE_URL": appstore.url,
        "DASHBOARD_SERVICE_USERNAME": "svc",
        "DASHBOARD_SERVICE_PASSWORD": appstore.password,
    }
    runner = CliRunner()

    drifting = runner.invoke(main, ["reconcile"], env=env)
    synced = runner.invoke(main, ["sync"], env=env)
    clean = runner.invoke(main, ["reconcile"], env=env)
    unconfigured = runner.invoke(main, ["sync"], env={**env, "DASHBOARD_SERVICE_PASSWORD": ""})

    assert drifting.exit_code == 1, drifting.output
    assert "totals.purchases: dashboard 0, appstore" in drifting.output
    assert synced.exit_code == 0, synced.output
    logged = len(AppstoreClient(appstore.url, "svc", appstore.password).events(after=0))
    assert f"read {logged} events: {logged} folded, 0 already folded, 0 unreadable" in (
        synced.output
    )
    assert clean.exit_code == 0, clean.output
    assert "no drift" in clean.output
    assert unconfigured.exit_code == 2
    assert "DASHBOARD_SERVICE_PASSWORD" in unconfigured.output


def test_reconcile_names_series_that_do_not_add_up(db, appstore):
    client = AppstoreClient(appstore.url, "svc", appstore.password)
    sync(db, client)
    bought = next(f for f in client.app_figures() if f["purchases"])
    app_id, owner_id = bought["app_id"], bought["owner_id"]
    sales = (bought["purchases"], bought["revenue"])
    with db.transaction() as session:  # one purchase too many in an app's first minute
        first = session.scalar(
            select(func.min(SalesSeries.bucket_start)).where(
                SalesSeries.span == "minute",
                SalesSeries.scope == "app",
                SalesSeries.scope_id == app_id,
            )
        )
        session.execute(
            update(SalesSeries)
            .where(
                SalesSeries.span == "minute",
                SalesSeries.scope == "app",
                SalesSeries.scope_id == app_id,
                SalesSeries.bucket_start == first,
            )
            .values(purchases=SalesSeries.purchases + 1)
        )
        session.execute(
            delete(SalesSeries).where(
                SalesSeries.scope == "owner", SalesSeries.scope_id == owner_id
            )
        )
        session.execute(
            update(SeriesQuarterHour)
            .where(SeriesQuarterHour.metric == "credits_granted")
            .values(value=SeriesQuarterHour.value + 1)
        )

    drifts = {d.what: (d.dashboard, d.appstore) for d in reconcile(db, client)}

    assert drifts[f"series minute app {app_id}"] == ((sales[0] + 1, sales[1]), sales)
    assert f"series quarter app {app_id}" not in drifts
    assert drifts[f"series quarter owner {owner_id}"][0] == (0, 0)
    assert drifts[f"series minute owner {owner_id}"][0] == (0, 0)
    granted = appstore.truth["credits_granted"]
    dashboard_granted, _ = drifts["series credits_granted"]
    assert dashboard_granted > granted

"""``dashboard sync`` and ``reconcile`` against a served Appstore.

Needs the ``appstore`` package (tox installs it into this env): the Appstore here is the real
one, served by ``appstore serve`` on a throwaway PostgreSQL database.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import func, select, update

from appstore import models as store
from appstore import outbox
from appstore.bootstrap import bootstrap
from appstore.config import Settings as AppstoreSettings
from appstore.errors import Conflict, InsufficientCredit
from appstore.migrations import upgrade as upgrade_appstore
from appstore.security.principal import Principal
from appstore.services import apps, purchases, users
from appstore_events import decode
from dashboard.appstore_client import AppstoreClient, AppstoreError
from dashboard.cli import main
from dashboard.fold import fold
from dashboard.models import AppStats, Total
from dashboard.reconcile import reconcile
from dashboard.sync import sync
from sqlstore.testing import throwaway_database

PASSWORD = "service password"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    with parts.db.reading() as session:
        count = lambda *where: session.scalar(select(func.count()).where(*where))  # noqa: E731
        return {
            "users": count(store.User.id.is_not(None)),
            "apps_created": count(store.App.id.is_not(None)),
            "apps_verified": count(store.App.verified.is_(True)),
            "purchases": count(store.Purchase.id.is_not(None)),
            "credits_spent": session.scalar(select(func.sum(store.Purchase.price))),
            "credits_granted": session.scalar(select(func.sum(store.CreditGrant.amount))),
            "buyers": session.scalar(select(func.count(func.distinct(store.Purchase.buyer_id)))),
        }


@pytest.fixture(scope="module")
def appstore(postgres_admin_url, tmp_path_factory):
    """A served Appstore with a scripted history, its log numbered as the relay would."""
    data_dir = tmp_path_factory.mktemp("appstore")
    with throwaway_database(postgres_admin_url, "appstore_for_sync") as url:
        upgrade_appstore(url)
        settings = AppstoreSettings(
            database_url=url, data_dir=data_dir, password_profile="cheapest"
        )
        parts = bootstrap(settings)
        _workload(parts)
        with parts.db.engine.begin() as connection:
            outbox.assign_sequences(connection)
        port = _free_port()
        env = {
            **os.environ,
            "APPSTORE_DATABASE_URL": url,
            "APPSTORE_DATA_DIR": str(data_dir),
            "APPSTORE_PASSWORD_PROFILE": "cheapest",
        }
        command = [str(Path(sys.executable).with_name("appstore")), "serve", "--port", str(port)]
        server = subprocess.Popen(
            [*command, "--workers", "2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base_url, server)
            yield SimpleNamespace(url=base_url, truth=_ground_truth(parts))
        finally:
            server.terminate()
            server.wait(timeout=20)
            parts.db.dispose()


def _wait_ready(base_url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, "appstore serve exited early"
        try:
            if requests.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    pytest.fail("appstore serve did not become ready")


def _totals(db) -> dict[str, int]:
    with db.reading() as session:
        return dict(session.execute(select(Total.name, Total.value)).all())


def test_sync_folds_the_whole_log_exactly_once(db, appstore):
    client = AppstoreClient(appstore.url, "svc", PASSWORD)

    first = sync(db, client, page_size=25)
    again = sync(db, client, page_size=25)

    assert _totals(db) == appstore.truth
    assert first.folded == first.read > 0
    assert (again.read, again.folded) == (0, 0)  # it starts after the contiguous position


def test_sync_fills_the_gaps_the_queue_left(db, appstore):
    client = AppstoreClient(appstore.url, "svc", PASSWORD)
    log = [decode(raw) for raw in client.events(after=0, limit=1000)]
    with db.transaction() as session:  # every third event came through the queue
        fold(session, log[::3])

    result = sync(db, client)

    assert _totals(db) == appstore.truth
    assert result.duplicates == len(log[::3]) - 1  # all but the first, which was contiguous
    assert result.last_sequence == log[-1].sequence


def test_wrong_service_credentials_fail_with_a_clear_error(appstore):
    client = AppstoreClient(appstore.url, "svc", "not the password")
    with pytest.raises(AppstoreError, match="signing in as 'svc' answered 401"):
        client.events(after=0)


def test_reconcile_finds_no_drift_after_sync_and_names_every_drift_before(db, appstore):
    client = AppstoreClient(appstore.url, "svc", PASSWORD)
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
        "DASHBOARD_SERVICE_PASSWORD": PASSWORD,
    }
    runner = CliRunner()

    drifting = runner.invoke(main, ["reconcile"], env=env)
    synced = runner.invoke(main, ["sync"], env=env)
    clean = runner.invoke(main, ["reconcile"], env=env)
    unconfigured = runner.invoke(main, ["sync"], env={**env, "DASHBOARD_SERVICE_PASSWORD": ""})

    assert drifting.exit_code == 1, drifting.output
    assert "totals.purchases: dashboard 0, appstore" in drifting.output
    assert synced.exit_code == 0, synced.output
    logged = len(AppstoreClient(appstore.url, "svc", PASSWORD).events(after=0))
    assert f"read {logged} events: {logged} folded, 0 already folded, 0 unreadable" in (
        synced.output
    )
    assert clean.exit_code == 0, clean.output
    assert "no drift" in clean.output
    assert unconfigured.exit_code == 2
    assert "DASHBOARD_SERVICE_PASSWORD" in unconfigured.output

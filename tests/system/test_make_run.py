"""``make run`` from a newcomer's seat: it comes up, its numbers are the Appstore's, a new
purchase reaches the dashboard within 2 seconds, Ctrl-C stops it all within 10 seconds, and
a second start keeps the data. Once embedded, once on RabbitMQ, PostgreSQL and Redis.
"""

from __future__ import annotations

import os
import time

import pytest
import requests
from make_run import APPSTORE, DASHBOARD, PASSWORD, STOP_SECONDS

from dashboard.worker.queue_migration import migrate
from sqlstore.testing import postgres_server, throwaway_database

COUNTS = ("users", "apps_created", "apps_verified", "purchases", "credits_spent", "buyers")
VISIBLE_WITHIN_SECONDS = 2.0
CONVERGE_SECONDS = 60


def _token(base: str, username: str) -> str:
    answer = requests.post(
        f"{base}/api/v1/auth/token",
        json={"username": username, "password": PASSWORD},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def _get(url: str, token: str, **params) -> dict:
    answer = requests.get(
        url, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert answer.status_code == 200, (url, answer.status_code, answer.text)
    return answer.json()


def _truth(admin: str) -> dict:
    return _get(f"{APPSTORE}/api/v1/reports/totals", admin)


def _summary(manager: str) -> dict:
    return _get(f"{DASHBOARD}/api/v1/stats/summary", manager)


def _converged(run, manager: str, admin: str) -> dict:
    """Wait until the dashboard's figures equal the Appstore's; return the summary."""
    deadline = time.monotonic() + CONVERGE_SECONDS
    while True:
        truth, summary = _truth(admin), _summary(manager)
        if all(summary[name] == truth[name] for name in COUNTS):
            return summary
        if time.monotonic() > deadline:
            run.fail(f"the dashboard {summary} never matched the Appstore {truth}")
        time.sleep(0.2)


def _buy_something(buyer: str) -> int:
    """Buy the first verified app the buyer does not own yet; return its price."""
    catalogue = _get(f"{APPSTORE}/api/v1/apps/", buyer, page_size=100)
    for app in catalogue:
        answer = requests.post(
            f"{APPSTORE}/api/v1/apps/{app['id']}/purchase",
            headers={"Authorization": f"Bearer {buyer}"},
            timeout=10,
        )
        if answer.status_code == 201:
            return answer.json()["price"]
        assert answer.status_code in (402, 409), answer.text
    raise AssertionError("the demo buyer could buy nothing")


def _a_purchase_shows_up_within_two_seconds(run, manager: str) -> int:
    before = _summary(manager)
    price = _buy_something(_token(APPSTORE, "buyer3"))
    bought = time.monotonic()
    while True:
        summary = _summary(manager)
        if summary["purchases"] == before["purchases"] + 1:
            break
        if time.monotonic() - bought > VISIBLE_WITHIN_SECONDS:
            run.fail(f"the purchase was not in the summary after {VISIBLE_WITHIN_SECONDS} s")
        time.sleep(0.05)
    assert summary["credits_spent"] == before["credits_spent"] + price
    return summary["purchases"]


def _check_running_system(run) -> int:
    printed = run.printed()
    assert "http://127.0.0.1:8001/" in printed
    assert "http://127.0.0.1:8000/" in printed
    assert f"manager / {PASSWORD}" in printed
    admin, manager = _token(APPSTORE, "admin"), _token(DASHBOARD, "manager")
    summary = _converged(run, manager, admin)
    assert summary["purchases"] > 1000, summary
    assert summary["users"] > 50, summary
    return _a_purchase_shows_up_within_two_seconds(run, manager)


def test_make_run_embedded_comes_up_serves_live_numbers_and_keeps_its_data(make_run):
    first = make_run()
    first.start()
    purchases = _check_running_system(first)
    assert first.interrupt() <= STOP_SECONDS

    second = make_run()
    second.start()
    assert "demo data already present" in second.printed()
    summary = _summary(_token(DASHBOARD, "manager"))
    assert summary["purchases"] == purchases, "the second start lost or re-made data"
    assert second.interrupt() <= STOP_SECONDS


@pytest.fixture
def real_services():
    """Throwaway PostgreSQL databases plus the local RabbitMQ and Redis, as env vars."""
    with (
        postgres_server() as admin_url,
        throwaway_database(admin_url, "run_appstore") as appstore_url,
        throwaway_database(admin_url, "run_dashboard") as dashboard_url,
    ):
        broker_url = os.environ.get("TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")
        # An older version's classic queues on a long-lived broker would stop the worker.
        migrate(broker_url)
        yield {
            "APPSTORE_DATABASE_URL": appstore_url,
            "DASHBOARD_DATABASE_URL": dashboard_url,
            "BROKER_URL": broker_url,
            "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        }


def test_make_run_on_rabbitmq_postgresql_and_redis(make_run, real_services):
    run = make_run(**real_services)
    run.start()
    _check_running_system(run)
    assert run.interrupt() <= STOP_SECONDS

"""Database connections that break: the API answers 503, the relay reconnects."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg2
from sqlalchemy import text
from sqlalchemy.engine import make_url

from appstore import outbox
from appstore.relay import leader
from appstore.relay.memory_publisher import MemoryPublisher
from appstore.relay.relay import Relay
from appstore.services import users
from sqlstore.testing import throwaway_database


def _terminate_sessions(components) -> int:
    """End every session on the test database, as a server restart would.

    From a connection outside the pool, so the pool is left holding only dead connections.
    """
    url = make_url(components.settings.database_url)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg2.connect(dsn) as outsider, outsider.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (url.database,),
        )
        ended = cursor.fetchone()[0]
    outsider.close()
    return ended


def test_a_broken_pooled_connection_answers_503_then_recovers(client, api):
    user = api.user()
    assert client.get("/api/v1/users/me", headers=user["headers"]).status_code == 200
    assert _terminate_sessions(api.components) >= 1

    broken = client.get("/api/v1/users/me", headers=user["headers"])
    again = client.get("/api/v1/users/me", headers=user["headers"])

    assert broken.status_code == 503, broken.get_json()
    assert broken.headers["Retry-After"] == "1"
    assert broken.get_json()["code"] == 503
    assert again.status_code == 200


def test_a_purchase_on_a_broken_pooled_connection_answers_503_then_goes_through(client, api):
    # The purchase's statements go to the driver, not through SQLAlchemy's Connection: a
    # lost connection must still answer 503 and leave the pool to reconnect.
    buyer, owner = api.user(credit=100), api.user()
    first, second = api.app(owner, price=10), api.app(owner, price=10)
    bought = client.post(f"/api/v1/apps/{first['id']}/purchase", headers=buyer["headers"])
    assert bought.status_code == 201, bought.get_json()
    assert _terminate_sessions(api.components) >= 1

    broken = client.post(f"/api/v1/apps/{second['id']}/purchase", headers=buyer["headers"])
    again = client.post(f"/api/v1/apps/{second['id']}/purchase", headers=buyer["headers"])

    assert broken.status_code == 503, broken.get_json()
    assert broken.headers["Retry-After"] == "1"
    assert again.status_code == 201, again.get_json()
    assert api.balance(buyer) == 80


def test_the_relay_leads_again_after_its_connection_is_killed(components):
    publisher = MemoryPublisher()
    relay = Relay(components.db.engine, publisher, components.settings.data_dir)
    stop = threading.Event()
    runner = threading.Thread(target=relay.run, args=(stop.is_set,), daemon=True)
    runner.start()
    try:
        users.register(components.db, components.passwords, "first", "f@x.example", "p" * 10)
        _wait_for(lambda: len(publisher.published) == 1)

        assert _terminate_sessions(components) >= 1
        components.db.engine.dispose()  # the test's own write must not meet a killed connection
        users.register(components.db, components.passwords, "second", "s@x.example", "p" * 10)

        _wait_for(lambda: len(publisher.published) >= 2)
        assert runner.is_alive()
    finally:
        stop.set()
        runner.join(timeout=10)
    assert [m.routing_key for m in publisher.published] == ["user.registered"] * 2


def test_two_migrations_at_once_both_succeed(postgres_admin_url, tmp_path):
    # As when the API and the relay start together on a fresh database.
    appstore = Path(sys.executable).with_name("appstore")
    with throwaway_database(postgres_admin_url, "appstore_migrate") as url:
        env = {**os.environ, "APPSTORE_DATABASE_URL": url, "APPSTORE_DATA_DIR": str(tmp_path)}
        runs = [
            subprocess.Popen(
                [str(appstore), "db", "upgrade"], env=env, stderr=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        errors = [run.communicate(timeout=120)[1] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], errors


def _wait_for(condition, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_relay_that_stops_leading_frees_the_lock_for_the_next(components, monkeypatch):
    # One statement fails inside the leader's session (not a lost connection): leadership
    # ends there, and its session must end with it rather than go back to the pool.
    failed = threading.Event()
    real = outbox.published_through

    def failing_once(connection):
        if not failed.is_set():
            failed.set()
            connection.execute(text("SELECT * FROM no_such_table"))
        return real(connection)

    monkeypatch.setattr(outbox, "published_through", failing_once)
    relay = Relay(components.db.engine, MemoryPublisher(), components.settings.data_dir)
    stop = threading.Event()
    runner = threading.Thread(target=relay.run, args=(stop.is_set,), daemon=True)
    runner.start()
    _wait_for(lambda: failed.is_set() and _lock_held(components))  # leading again

    stop.set()
    runner.join(timeout=10)
    assert not runner.is_alive()

    # The server drops a closed session's locks a moment after the client hangs up; a
    # session kept in the pool would hold it for good, and this would time out.
    _wait_for(lambda: not _lock_held(components), seconds=5.0)


def _lock_held(components) -> bool:
    with components.db.engine.connect() as connection:
        taken = connection.scalar(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": leader.ADVISORY_LOCK_KEY}
        )
        if taken:
            connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": leader.ADVISORY_LOCK_KEY}
            )
        connection.commit()
    return not taken

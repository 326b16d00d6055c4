"""A real RabbitMQ, a throwaway PostgreSQL database and ``dashboard worker`` subprocesses.

The queue names are fixed (``dashboard.events`` and Dramatiq's ``.DQ``/``.XQ``), so the
three queues are purged before and after each test instead of being made unique.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from appstore_events import Envelope, encode_dict, new_envelope
from dashboard.migrations import upgrade
from dashboard.models import AppStats, DeadLetter, Total
from dashboard.worker.topology import QUEUE
from servicekit.testing import ProcessGroup
from sqlstore import Database

from ...truth import EventTruth

DASHBOARD = str(Path(sys.executable).parent / "dashboard")


@pytest.fixture
def worker_db_url(empty_postgres_url) -> str:
    """A migrated PostgreSQL database of this test's own."""
    upgrade(empty_postgres_url)
    return empty_postgres_url


@pytest.fixture
def worker_db(worker_db_url) -> Iterator[Database]:
    database = Database(worker_db_url)
    yield database
    database.dispose()


@dataclass
class WorkerProcesses:
    """``dashboard worker`` subprocesses, each in its own process group."""

    env: dict[str, str]
    running: list[ProcessGroup] = field(default_factory=list)

    def start(self, processes: int = 1, threads: int = 16) -> ProcessGroup:
        command = [DASHBOARD, "worker", "--processes", str(processes), "--threads", str(threads)]
        group = ProcessGroup(
            command, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.running.append(group)
        return group

    def kill(self, group: ProcessGroup) -> None:
        """SIGKILL the worker and every process it started: a crash, not a shutdown."""
        group.kill(timeout=10)
        self.running.remove(group)

    def stop_all(self) -> None:
        # To the main process only: it forwards the signal to its workers, and a second
        # SIGTERM would make them exit without finishing in-flight messages. Every worker
        # is asked first, so that they stop side by side.
        for group in self.running:
            group.send_signal(signal.SIGTERM, group=False)
        for group in self.running:
            if not group.wait(15):
                group.kill(timeout=5)
        self.running.clear()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def wait_drained(rabbit, timeout: float = 60, quiet: float = 1.5) -> None:
    """Wait until ``dashboard.events`` has had no ready message for ``quiet`` seconds,
    so that what the worker had prefetched has been processed too."""
    if not rabbit.drained(QUEUE, timeout, quiet):
        raise AssertionError(f"{QUEUE} not drained within {timeout} s")


@dataclass
class Workload:
    """A realistic mix of events and the projections they must produce."""

    envelopes: list[Envelope]
    totals: dict[str, int]
    apps: dict[int, tuple[int, int]]  # app_id -> (purchases, revenue)


def make_workload(events: int, seed: int = 7, start_sequence: int = 1) -> Workload:
    """Registrations, app creations and purchases (about 5 % / 5 % / 90 %)."""
    rng = random.Random(seed)
    users = max(2, events // 20)
    apps = max(1, events // 20)
    purchases = events - users - apps
    envelopes: list[Envelope] = []
    for user_id in range(1, users + 1):
        envelopes.append(
            new_envelope(
                "UserRegistered",
                {
                    "user_id": user_id,
                    "username": f"user{user_id}",
                    "role": "user",
                    "registered_at": "2026-11-26T09:00:00Z",
                },
            )
        )
    owners = {}
    prices = {}
    for app_id in range(1, apps + 1):
        owners[app_id] = rng.randint(1, users)
        prices[app_id] = rng.randint(0, 100)
        envelopes.append(
            new_envelope(
                "AppCreated",
                {
                    "app_id": app_id,
                    "owner_id": owners[app_id],
                    "title": f"App {app_id}",
                    "price": prices[app_id],
                    "created_at": "2026-11-26T09:30:00Z",
                },
            )
        )
    for purchase_id in range(1, purchases + 1):
        app_id = rng.randint(1, apps)
        buyer_id = rng.randint(1, users)
        minute = purchase_id % 600
        envelopes.append(
            new_envelope(
                "AppPurchased",
                {
                    "purchase_id": purchase_id,
                    "app_id": app_id,
                    "buyer_id": buyer_id,
                    "owner_id": owners[app_id],
                    "price": prices[app_id],
                    "purchased_at": f"2026-11-26T{10 + minute // 60:02d}:{minute % 60:02d}:00Z",
                },
            )
        )
    numbered = [e.with_sequence(start_sequence + i) for i, e in enumerate(envelopes)]
    truth = EventTruth(numbered)
    return Workload(numbered, truth.totals(), truth.app_sales())


def registration(user_id: int, sequence: int | None = None) -> dict:
    """A logged UserRegistered as the relay publishes it (by default numbered far past any
    workload, so it never collides with one)."""
    envelope = new_envelope(
        "UserRegistered",
        {
            "user_id": user_id,
            "username": f"late{user_id}",
            "role": "user",
            "registered_at": "2026-11-26T12:00:00Z",
        },
    ).with_sequence(900_000 + user_id if sequence is None else sequence)
    return encode_dict(envelope)


def read_totals(database: Database) -> dict[str, int]:
    with database.reading() as session:
        return dict(session.execute(select(Total.name, Total.value)).all())


def read_apps(database: Database) -> dict[int, tuple[int, int]]:
    with database.reading() as session:
        rows = session.execute(select(AppStats.app_id, AppStats.purchases, AppStats.revenue))
        return {app_id: (purchases, revenue) for app_id, purchases, revenue in rows}


def read_dead_letters(database: Database) -> list[DeadLetter]:
    with database.reading() as session:
        return list(session.scalars(select(DeadLetter).order_by(DeadLetter.id)))


@pytest.fixture
def worker_env(worker_db_url, broker_url) -> dict[str, str]:
    """The environment of a ``dashboard`` command aimed at the test database and broker."""
    env = dict(os.environ)
    env.update(
        DASHBOARD_DATABASE_URL=worker_db_url,
        BROKER_URL=broker_url,
        DASHBOARD_WORKER_METRICS_PORT="0",
    )
    return env


@pytest.fixture
def workers(worker_env, rabbit) -> Iterator[WorkerProcesses]:
    """Start ``dashboard worker`` subprocesses; all are stopped at teardown."""
    processes = WorkerProcesses(worker_env)
    yield processes
    processes.stop_all()

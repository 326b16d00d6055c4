"""The pipeline under test: the Appstore, its relay, RabbitMQ, the Dashboard's worker and
their databases, run as an operator would run them, and the figures to compare."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from appstore.throttling import UNTHROTTLED_ENV
from dashboard.worker.topology import QUEUE
from servicekit.testing import ServerDidNotStart, free_port, wait_ready

from ..truth import AppstoreTruth
from .processes import Service

APPSTORE = Path(sys.executable).with_name("appstore")
DASHBOARD = Path(sys.executable).with_name("dashboard")
PASSWORD = "e2e-password"
#: Upper bound on any wait for the dashboard to catch up.
CONVERGE_SECONDS = 90
COMMAND_SECONDS = 120


@dataclass
class Pipeline:
    """The Appstore, its relay, RabbitMQ, the Dashboard's worker and their databases."""

    tmp: Path
    rabbit: object  # the Rabbit of tests/conftest.py
    appstore_db_url: str
    dashboard_db_url: str
    appstore_url: str = ""
    services: list[Service] = field(default_factory=list)
    worker: Service | None = None
    commands: list[str] = field(default_factory=list)
    _worker_runs: itertools.count = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("APPSTORE_", "DASH"))}
        base.update(BROKER_URL=self.rabbit.url, PYTHONUNBUFFERED="1")
        self.appstore_env = {
            **base,
            "APPSTORE_DATABASE_URL": self.appstore_db_url,
            "APPSTORE_DATA_DIR": str(self.tmp / "appstore-data"),
            "APPSTORE_PASSWORD_PROFILE": "cheapest",
            **UNTHROTTLED_ENV,
            "APPSTORE_RELAY_METRICS_PORT": "0",
        }
        self.dashboard_env = {
            **base,
            "DASHBOARD_DATABASE_URL": self.dashboard_db_url,
            "DASHBOARD_SERVICE_USERNAME": "service",
            "DASHBOARD_SERVICE_PASSWORD": PASSWORD,
            "DASHBOARD_WORKER_METRICS_PORT": "0",
        }
        self.appstore_engine = create_engine(self.appstore_db_url, poolclass=NullPool)
        self.appstore_truth = AppstoreTruth(self.appstore_engine)
        self.dashboard_engine = create_engine(self.dashboard_db_url, poolclass=NullPool)

    # commands

    def run(self, executable: Path, *args: str, timeout: float = COMMAND_SECONDS):
        env = self.appstore_env if executable == APPSTORE else self.dashboard_env
        started = time.monotonic()
        try:
            result = subprocess.run(
                [str(executable), *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            self.fail(f"`{executable.name} {' '.join(args)}` ran over {timeout} s: {error}")
        self.commands.append(
            f"$ {executable.name} {' '.join(args)}  -> exit {result.returncode} "
            f"in {time.monotonic() - started:.1f} s\n{result.stdout}{result.stderr}".rstrip()
        )
        return result

    def appstore(self, *args: str, timeout: float = COMMAND_SECONDS):
        return self.run(APPSTORE, *args, timeout=timeout)

    def dashboard(self, *args: str, timeout: float = COMMAND_SECONDS):
        return self.run(DASHBOARD, *args, timeout=timeout)

    def must(self, result, what: str) -> subprocess.CompletedProcess:
        if result.returncode != 0:
            self.fail(f"{what} exited {result.returncode}")
        return result

    # processes

    def _service(self, name: str, command: list[str], env: dict[str, str]) -> Service:
        service = Service(name, command, env, self.tmp / f"{name}.log").start()
        self.services.append(service)
        return service

    def start_appstore(self) -> None:
        port = free_port()
        metrics_dir = self.tmp / "serve-metrics"
        metrics_dir.mkdir()
        env = {**self.appstore_env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
        command = [str(APPSTORE), "serve", "--port", str(port), "--workers", "3", "--threads", "4"]
        server = self._service("appstore-serve", command, env)
        self.appstore_url = f"http://127.0.0.1:{port}"
        self.dashboard_env["APPSTORE_URL"] = self.appstore_url
        try:
            wait_ready(self.appstore_url, timeout=40, running=lambda: server.alive)
        except ServerDidNotStart as error:
            self.fail(f"appstore serve did not become ready: {error}")

    def start_relay(self) -> None:
        relay = self._service("appstore-relay", [str(APPSTORE), "relay"], self.appstore_env)
        deadline = time.monotonic() + 30
        while "leading" not in relay.log():
            if not relay.alive:
                self.fail("appstore relay exited early")
            if time.monotonic() > deadline:
                self.fail("appstore relay did not start leading in 30 s")
            time.sleep(0.05)

    def start_worker(self, processes: int = 1, threads: int = 16, **env: str) -> Service:
        """Start ``dashboard worker`` (its metrics off), with ``env`` added to its settings."""
        assert self.worker is None or not self.worker.alive, "a worker is running already"
        command = [str(DASHBOARD), "worker", "--processes", str(processes)]
        command += ["--threads", str(threads)]
        name = f"dashboard-worker-{next(self._worker_runs) + 1}"
        self.worker = self._service(name, command, {**self.dashboard_env, **env})
        return self.worker

    def stop_worker(self) -> None:
        self.worker.stop()

    def kill_worker(self) -> None:
        self.worker.kill()

    def stop_all(self) -> None:
        for service in reversed(self.services):
            service.stop()
        self.appstore_engine.dispose()
        self.dashboard_engine.dispose()

    # figures

    def truth(self) -> dict[str, int]:
        """Ground truth: the totals computed from the Appstore's own tables."""
        return self.appstore_truth.totals()

    def app_truth(self) -> dict[int, tuple]:
        """Every app of the Appstore: ``{id: (owner_id, title, purchases, revenue)}``."""
        return self.appstore_truth.apps()

    def outbox_size(self) -> int:
        return self.appstore_truth.outbox_size()

    def totals(self) -> dict[str, int]:
        """The Dashboard's all-time totals."""
        with self.dashboard_engine.connect() as connection:
            return dict(connection.execute(text("SELECT name, value FROM totals")).all())

    def apps(self) -> dict[int, tuple]:
        with self.dashboard_engine.connect() as connection:
            rows = connection.execute(
                text("SELECT app_id, owner_id, title, purchases, revenue FROM app_stats")
            )
            return {row[0]: tuple(row[1:]) for row in rows}

    def processed(self) -> int:
        with self.dashboard_engine.connect() as connection:
            return connection.scalar(text("SELECT count(*) FROM processed_events"))

    def projections(self) -> dict[str, list]:
        """Every Dashboard table but the dead letters, rows sorted: a snapshot to compare."""
        tables = (
            "totals",
            "known_users",
            "buyers",
            "app_stats",
            "developer_stats",
            "series_minute",
            "series_quarter_hour",
            "fold_progress",
            "processed_events",
        )
        with self.dashboard_engine.connect() as connection:
            return {
                table: sorted(
                    (tuple(row) for row in connection.execute(text(f"SELECT * FROM {table}"))),
                    key=repr,
                )
                for table in tables
            }

    def converged(self) -> bool:
        return self.totals() == self.truth() and self.apps() == self.app_truth()

    def wait_converged(self, timeout: float = CONVERGE_SECONDS) -> None:
        """Wait until the projections equal ground truth, then require ``reconcile`` exit 0."""
        deadline = time.monotonic() + timeout
        while not self.converged():
            if time.monotonic() > deadline:
                self.fail(f"the dashboard did not converge within {timeout} s")
            if self.worker is not None and not self.worker.alive:
                self.fail("the dashboard worker died")
            time.sleep(0.25)
        self.assert_reconciled()

    def assert_reconciled(self) -> None:
        result = self.dashboard("reconcile")
        if result.returncode != 0:
            self.fail(f"dashboard reconcile exited {result.returncode}")
        assert "no drift" in result.stdout, result.stdout

    def wait_quiet(self, timeout: float = CONVERGE_SECONDS, quiet: float = 2.0) -> None:
        """Wait until ``dashboard.events`` has had no ready message for ``quiet`` seconds."""
        if not self.rabbit.drained(QUEUE, timeout, quiet):
            self.fail(f"{QUEUE} was not drained within {timeout} s")

    # failure reports

    def report(self) -> str:
        parts = []
        try:
            truth, totals = self.truth(), self.totals()
            differing = {k: (totals.get(k), v) for k, v in truth.items() if totals.get(k) != v}
            parts.append(f"appstore truth: {truth}\ndashboard totals: {totals}")
            parts.append(f"differing totals (dashboard, appstore): {differing}")
            apps, app_truth = self.apps(), self.app_truth()
            app_drift = {
                app_id: (apps.get(app_id), app_truth.get(app_id))
                for app_id in sorted(set(apps) | set(app_truth))
                if apps.get(app_id) != app_truth.get(app_id)
            }
            parts.append(f"differing apps (dashboard, appstore): {app_drift}")
            parts.append(f"{QUEUE} ready messages: {self.rabbit.depth(QUEUE)}")
        except Exception as error:  # the report must not hide the failure
            parts.append(f"(could not read the figures: {error!r})")
        parts.extend(self.commands[-5:])
        parts.extend(service.describe() for service in self.services)
        return "\n\n".join(parts)

    def fail(self, message: str):
        pytest.fail(f"{message}\n\n{self.report()}", pytrace=False)

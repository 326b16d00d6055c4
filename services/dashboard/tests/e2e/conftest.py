"""The whole event pipeline with real parts, for the end-to-end acceptance tests.

Each test gets its own stack: ``appstore serve`` and ``appstore relay`` on a throwaway
PostgreSQL database, RabbitMQ, and ``dashboard worker`` folding ``dashboard.events`` into a
throwaway PostgreSQL database of the Dashboard's own. ``dashboard reconcile`` / ``sync`` and
``appstore events replay`` run as subprocesses, as an operator would run them.

The queue ``dashboard.events`` (and Dramatiq's ``.DQ``/``.XQ``) has a fixed name on a shared
broker, so it is declared as ``infra/rabbitmq/definitions.json`` declares it, bound to
``appstore.events`` with ``#``, and purged before and after each test. A stack whose
worker folded another run's events would show drift: run one such suite per broker.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from dashboard.migrations import upgrade as upgrade_dashboard
from dashboard.worker.topology import QUEUE
from sqlstore.testing import throwaway_database

APPSTORE = Path(sys.executable).with_name("appstore")
DASHBOARD = Path(sys.executable).with_name("dashboard")
PASSWORD = "e2e-password"
#: Upper bound on any wait for the dashboard to catch up.
CONVERGE_SECONDS = 90
COMMAND_SECONDS = 120
LOG_TAIL_LINES = 60
#: Threads registering a workload's buyers (the served Appstore has 12).
SET_UP_THREADS = 8

TOTALS_SQL = text(
    """
    SELECT (SELECT count(*) FROM users) AS users,
           (SELECT count(*) FROM apps) AS apps_created,
           (SELECT count(*) FROM apps WHERE verified) AS apps_verified,
           (SELECT count(*) FROM purchases) AS purchases,
           (SELECT coalesce(sum(price), 0) FROM purchases) AS credits_spent,
           (SELECT coalesce(sum(amount), 0) FROM credit_grants) AS credits_granted,
           (SELECT count(DISTINCT buyer_id) FROM purchases) AS buyers
    """
)
APPS_SQL = text(
    """
    SELECT a.id, a.owner_id, a.title, count(p.id), coalesce(sum(p.price), 0)
    FROM apps a LEFT JOIN purchases p ON p.app_id = a.id
    GROUP BY a.id ORDER BY a.id
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# --- RabbitMQ -------------------------------------------------------------------------------


# --- processes ------------------------------------------------------------------------------


@dataclass
class Service:
    """A long-running subprocess in its own process group, its output in a log file."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None

    def start(self) -> Service:
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, grace: float = 20) -> None:
        """SIGTERM to the main process (it shuts its children down), SIGKILL after ``grace``."""
        if not self.alive:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.kill()
        else:
            self._kill_group()  # anything it left behind

    def kill(self) -> None:
        """SIGKILL the whole process group: a crash, not a shutdown."""
        self._kill_group()
        self.process.wait(10)

    def _kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def describe(self) -> str:
        state = "running" if self.alive else f"exited {self.process.returncode}"
        heading = f"--- {self.name} ({state}), last lines of {self.log_path} ---"
        return f"{heading}\n{tail(self.log_path)}"


# --- the stack ------------------------------------------------------------------------------


@dataclass
class Stack:
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
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            if not server.alive:
                self.fail("appstore serve exited early")
            try:
                if requests.get(f"{self.appstore_url}/readyz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.fail("appstore serve did not become ready in 40 s")

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
        with self.appstore_engine.connect() as connection:
            return dict(connection.execute(TOTALS_SQL).mappings().one())

    def app_truth(self) -> dict[int, tuple]:
        """Every app of the Appstore: ``{id: (owner_id, title, purchases, revenue)}``."""
        with self.appstore_engine.connect() as connection:
            return {row[0]: tuple(row[1:]) for row in connection.execute(APPS_SQL)}

    def outbox_size(self) -> int:
        with self.appstore_engine.connect() as connection:
            return connection.scalar(text("SELECT count(*) FROM outbox"))

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
        deadline = time.monotonic() + timeout
        empty_since = None
        while time.monotonic() < deadline:
            if self.rabbit.depth(QUEUE) == 0:
                empty_since = empty_since or time.monotonic()
                if time.monotonic() - empty_since >= quiet:
                    return
            else:
                empty_since = None
            time.sleep(0.1)
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


@pytest.fixture
def stack(postgres_admin_url, rabbit, tmp_path) -> Iterator[Stack]:
    """A running pipeline on empty databases: ``admin`` and ``service`` accounts exist."""
    with (
        throwaway_database(postgres_admin_url, "e2e_appstore") as appstore_db,
        throwaway_database(postgres_admin_url, "e2e_dashboard") as dashboard_db,
    ):
        parts = Stack(tmp_path, rabbit, appstore_db, dashboard_db)
        try:
            parts.must(parts.appstore("db", "upgrade"), "appstore db upgrade")
            for username, role in (("admin", "admin"), ("service", "service")):
                created = parts.appstore(
                    "users", "create", "--username", username, "--password", PASSWORD,
                    "--role", role,
                )  # fmt: skip
                parts.must(created, f"appstore users create {username}")
            upgrade_dashboard(dashboard_db)
            rabbit.purge()  # the queue is bound: from here on it receives this stack's events
            parts.start_relay()
            parts.start_appstore()
            parts.start_worker()
            yield parts
        finally:
            parts.stop_all()


# --- the scripted workload through the Appstore's HTTP API ---------------------------------


class Api:
    """The served Appstore's REST API; one ``requests`` session per thread."""

    def __init__(self, base_url: str, stack: Stack) -> None:
        self.base_url = base_url
        self.stack = stack
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def call(self, method: str, path: str, token=None, expect=(200,), **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.session.request(
            method, f"{self.base_url}{path}", headers=headers, timeout=30, **kwargs
        )
        if response.status_code not in expect:
            self.stack.fail(
                f"{method} {path} answered {response.status_code} (expected {expect}): "
                f"{response.text[:500]}"
            )
        return response

    def token(self, username: str) -> str:
        body = {"username": username, "password": PASSWORD}
        return self.call("POST", "/api/v1/auth/token", json=body).json()["access_token"]

    def register(self, username: str) -> int:
        body = {"username": username, "email": f"{username}@e2e.example", "password": PASSWORD}
        return self.call("POST", "/api/v1/auth/register", json=body, expect=(201,)).json()["id"]

    def grant(self, admin: str, user_id: int, amount: int) -> None:
        self.call("POST", f"/api/v1/users/{user_id}/credit", admin, json={"amount": amount})

    def create_app(self, token: str, title: str, price: int) -> int:
        body = {
            "title": title,
            "description": f"{title}, made for the end-to-end tests",
            "price": price,
            "access_link": "https://apps.e2e.example/launch",
        }
        return self.call("POST", "/api/v1/apps/", token, json=body, expect=(201,)).json()["id"]

    def verify(self, admin: str, app_id: int) -> None:
        self.call("POST", f"/api/v1/apps/{app_id}/verify", admin)

    def purchase(self, token: str, app_id: int) -> requests.Response:
        return self.call("POST", f"/api/v1/apps/{app_id}/purchase", token, expect=(201, 402, 409))


@dataclass
class Store:
    """What a workload set up: accounts (with tokens) and apps (with prices)."""

    admin: str
    rich: list[str] = field(default_factory=list)  # buyer tokens
    poor: list[str] = field(default_factory=list)
    credit: dict[str, int] = field(default_factory=dict)  # buyer token -> credit granted
    prices: dict[int, int] = field(default_factory=dict)  # verified app id -> price
    unverified: list[int] = field(default_factory=list)
    developers: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    statuses: Counter = field(default_factory=Counter)
    spent: int = 0  # the prices of the purchases answered 201
    attempts: int = 0


class Workload:
    """Registrations, credit grants, app creations and verifications, then purchases from
    many threads, some of them refused with 402 (credit short) or 409 (already bought)."""

    RICH_CREDIT = 1000  # more than a rich buyer can spend on the purchases planned
    POOR_CREDIT = 15  # enough for one app priced 10 at most
    PRICES = (0, 5, 10, 20, 30)

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.api = Api(stack.appstore_url, stack)

    @staticmethod
    def new_outcome() -> Outcome:
        return Outcome()

    def set_up(self, prefix: str, developers=4, apps_each=5, rich=30, poor=10, seed=1) -> Store:
        rng = random.Random(seed)
        api = self.api
        store = Store(admin=api.token("admin"))
        for d in range(developers):
            name = f"{prefix}dev{d}"
            api.register(name)
            token = api.token(name)
            store.developers.append(token)
            for a in range(apps_each):
                price = self.PRICES[(d + a) % len(self.PRICES)]
                app_id = api.create_app(token, f"{prefix} app {d}.{a}", price)
                if a == apps_each - 1:
                    store.unverified.append(app_id)  # never verified: not for sale
                else:
                    api.verify(store.admin, app_id)
                    store.prices[app_id] = price
        # Drawn before any request, so the store is the same whatever order the threads
        # below register the buyers in.
        buyers = []  # (kind, username, credit grants)
        kinds = (("rich", rich, self.RICH_CREDIT), ("poor", poor, self.POOR_CREDIT))
        for kind, count, credit in kinds:
            for b in range(count):
                grants = [credit]
                if kind == "rich" and rng.random() < 0.3:
                    grants.append(rng.randint(1, 50))  # a second grant
                buyers.append((kind, f"{prefix}{kind}{b}", grants))

        def register(buyer: tuple[str, str, list[int]]) -> str:
            _kind, name, grants = buyer
            user_id = api.register(name)
            for amount in grants:
                api.grant(store.admin, user_id, amount)
            return api.token(name)

        with ThreadPoolExecutor(SET_UP_THREADS) as pool:
            tokens = list(pool.map(register, buyers))
        for (kind, _name, grants), token in zip(buyers, tokens, strict=True):
            getattr(store, kind).append(token)
            store.credit[token] = sum(grants)
        return store

    def plan(self, store: Store, per_rich=8, per_poor=4, repeats=20, seed=2) -> list[tuple]:
        """``(token, app_id)`` attempts, shuffled: every rich buyer's are distinct apps (all
        201), ``repeats`` of them asked again (409), and each poor buyer's all cost 10 or
        more (at most one 201 each, then 402)."""
        rng = random.Random(seed)
        apps = sorted(store.prices)
        dear = [app_id for app_id in apps if store.prices[app_id] >= 10]
        assert len(apps) >= per_rich
        assert len(dear) >= per_poor
        attempts = [(t, a) for t in store.rich for a in rng.sample(apps, per_rich)]
        attempts += rng.sample(attempts, repeats)
        attempts += [(t, a) for t in store.poor for a in rng.sample(dear, per_poor)]
        rng.shuffle(attempts)
        return attempts

    @staticmethod
    def expected(store: Store, attempts: list[tuple]) -> Outcome:
        """The answers ``attempts`` must get, and the credit they spend, in any order.

        The plan makes the order irrelevant, which is checked here: a buyer either can
        afford every app planned for them (then only a repeated pair is refused, 409, once),
        or can afford at most one of them at a time and repeats none (then the first
        affordable one sent is 201 and every other 402, whichever it is). So the answers
        can be worked out by going through the attempts in plan order.
        """
        planned: dict[str, list[int]] = {}
        for token, app_id in attempts:
            planned.setdefault(token, []).append(app_id)
        for token, apps in planned.items():
            prices = [store.prices[app_id] for app_id in set(apps)]
            credit = store.credit[token]
            if sum(prices) > credit:
                assert len(set(apps)) == len(apps), "a buyer short of credit repeats a pair"
                left = [credit - price for price in prices if price <= credit]
                assert all(rest < min(prices) for rest in left), "order would matter"
        credit, bought, outcome = dict(store.credit), set(), Outcome()
        for token, app_id in attempts:
            price = store.prices[app_id]
            if (token, app_id) in bought:
                status = 409
            elif credit[token] < price:
                status = 402
            else:
                status = 201
                bought.add((token, app_id))
                credit[token] -= price
                outcome.spent += price
            outcome.statuses[status] += 1
            outcome.attempts += 1
        return outcome

    def purchase(
        self,
        store: Store,
        attempts: list[tuple],
        threads: int = 8,
        outcome: Outcome | None = None,
    ) -> Outcome:
        """Send the attempts from ``threads`` threads; ``outcome`` fills in as they answer."""
        outcome = outcome or Outcome()
        lock = threading.Lock()
        work = iter(attempts)
        errors: list[BaseException] = []

        def buyer() -> None:
            try:
                while True:
                    with lock:
                        attempt = next(work, None)
                    if attempt is None:
                        return
                    token, app_id = attempt
                    status = self.api.purchase(token, app_id).status_code
                    with lock:
                        outcome.statuses[status] += 1
                        outcome.attempts += 1
                        if status == 201:
                            outcome.spent += store.prices[app_id]
            except BaseException as error:  # reported by the caller
                errors.append(error)

        pool = [threading.Thread(target=buyer, daemon=True) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join(COMMAND_SECONDS)
            if thread.is_alive():
                self.stack.fail(f"purchases still running after {COMMAND_SECONDS} s")
        if errors:
            raise errors[0]
        return outcome

    def edit(self, store: Store) -> None:
        """An AppUpdated (a new title) and an AppDeleted, after the purchases: the first
        developer's first two verified apps (they were created first)."""
        renamed, delisted = sorted(store.prices)[:2]
        owner = store.developers[0]
        self.api.call("PATCH", f"/api/v1/apps/{renamed}", owner, json={"title": "Renamed app"})
        self.api.call("DELETE", f"/api/v1/apps/{delisted}", owner, expect=(204,))


@pytest.fixture
def workload(stack) -> Workload:
    return Workload(stack)

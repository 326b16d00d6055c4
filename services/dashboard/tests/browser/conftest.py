"""The management page in headless Chromium, against real parts.

- The Appstore: a throwaway PostgreSQL database holding a scripted month of history
  (``history.py``), served by ``appstore serve``; it signs the tokens the page uses.
- The Dashboard: a throwaway PostgreSQL database of its own, filled from the Appstore's event
  log by ``dashboard.sync.sync`` (no broker needed), served by the real ``create_app`` in a
  thread of this process.
- The browser: Debian's Chromium (``/usr/bin/chromium``) driven by Playwright, which never
  downloads a browser of its own here. A missing Chromium fails the run with the command that
  installs it.

Chart.js is installed with ``npm ci`` from ``services/dashboard/package-lock.json`` when it is
missing, as in a fresh clone. Screenshots go to ``services/dashboard/test-artifacts/``.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool
from werkzeug.serving import make_server

from appstore import outbox
from appstore.bootstrap import bootstrap as bootstrap_appstore
from appstore.config import Settings as AppstoreSettings
from appstore.migrations import upgrade as upgrade_appstore
from dashboard.app import create_app
from dashboard.appstore_client import AppstoreClient
from dashboard.bootstrap import bootstrap as bootstrap_dashboard
from dashboard.config import Settings as DashboardSettings
from dashboard.migrations import upgrade as upgrade_dashboard
from dashboard.sync import sync
from servicekit.testing import ServerDidNotStart, wait_ready
from sqlstore import Database
from sqlstore.testing import throwaway_database

from ..truth import AppstoreTruth
from .history import PASSWORD, SERVICE_ACCOUNT, Seeded, seed

SERVICE_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = SERVICE_ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_HINT = (
    f"Chromium is not installed at {CHROMIUM}. Install Debian's package: "
    "`apt-get update && apt-get install -y chromium` (the tests never download a browser)."
)
# As on this kind of machine Chromium runs: as root, no GPU, and no calls home (they are
# refused here, many at a time).
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_SECONDS = 60

#: The screenshots taken during the run, listed at its end.
SCREENSHOTS: list[Path] = []


def pytest_terminal_summary(terminalreporter) -> None:
    for path in SCREENSHOTS:
        terminalreporter.write_line(f"screenshot of the dashboard page: {path}")


def wait_until_ready(url: str) -> None:
    try:
        wait_ready(url, path="/healthz", timeout=STARTUP_SECONDS)
    except ServerDidNotStart as error:
        pytest.fail(str(error), pytrace=False)


# --- tools -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.is_file():
        pytest.fail(CHROMIUM_HINT, pytrace=False)
    return CHROMIUM


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """``services/dashboard/node_modules`` with Chart.js in it, ``npm ci`` run if needed."""
    directory = SERVICE_ROOT / "node_modules"
    if not (directory / "chart.js" / "dist" / "chart.umd.js").is_file():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(
                "npm is needed to install Chart.js: `apt-get install -y nodejs npm`",
                pytrace=False,
            )
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=SERVICE_ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(
                f"`npm ci` in {SERVICE_ROOT} failed:\n{result.stdout}{result.stderr}",
                pytrace=False,
            )
    return directory


# --- the Appstore ----------------------------------------------------------------------------


@dataclass
class SeededAppstore:
    url: str
    db: Database
    seeded: Seeded
    truth: AppstoreTruth

    def number_events(self) -> None:
        """Number the new outbox rows as the relay would (no relay runs here)."""
        with self.db.engine.begin() as connection:
            outbox.assign_sequences(connection)


@pytest.fixture(scope="session")
def seeded_appstore(
    postgres_admin_url, tmp_path_factory, serve_appstore
) -> Iterator[SeededAppstore]:
    """The Appstore with a month of history, served by ``appstore serve``."""
    data_dir = tmp_path_factory.mktemp("appstore")
    with throwaway_database(postgres_admin_url, "browser_appstore") as url:
        upgrade_appstore(url)
        settings = AppstoreSettings(
            database_url=url, data_dir=data_dir, password_profile="cheapest"
        )
        parts = bootstrap_appstore(settings)
        seeded = seed(parts, datetime.now(UTC))
        engine = create_engine(url, poolclass=NullPool)
        served = SeededAppstore("", parts.db, seeded, AppstoreTruth(engine))
        served.number_events()
        try:
            with serve_appstore(url, data_dir) as base_url:
                served.url = base_url
                yield served
        finally:
            engine.dispose()
            parts.db.dispose()


# --- the Dashboard ---------------------------------------------------------------------------


@dataclass
class ServedDashboard:
    url: str
    db: Database
    appstore: SeededAppstore

    def catch_up(self) -> None:
        """Fold what the Appstore logged since: number its new events, then sync."""
        self.appstore.number_events()
        sync(self.db, AppstoreClient(self.appstore.url, SERVICE_ACCOUNT, PASSWORD))


class ServerThread(threading.Thread):
    """A WSGI app on a free loopback port, served by werkzeug's threaded server."""

    def __init__(self, app) -> None:
        super().__init__(daemon=True)
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def run(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        self.server.shutdown()
        self.join(10)


@pytest.fixture(scope="session")
def dashboard(seeded_appstore, postgres_admin_url, node_modules) -> Iterator[ServedDashboard]:
    """The Dashboard's API and page on the folded history, the real app in a thread."""
    with throwaway_database(postgres_admin_url, "browser_dashboard") as url:
        upgrade_dashboard(url)
        db = Database(url)
        served = ServedDashboard("", db, seeded_appstore)
        served.catch_up()
        settings = DashboardSettings(
            database_url=url,
            appstore_url=seeded_appstore.url,
            service_username=SERVICE_ACCOUNT,
            service_password=PASSWORD,
        )
        components = bootstrap_dashboard(settings)
        # Open streams notice a closed tab at their next heartbeat; keep that soon.
        components.heartbeat_seconds = 1.0
        app = create_app(components=components)
        app.config["DASHBOARD_ASSETS_DIR"] = str(node_modules)
        server = ServerThread(app)
        server.start()
        served.url = server.url
        try:
            wait_until_ready(served.url)
            yield served
        finally:
            server.stop()
            wait_for_streams_to_end()
            components.close()
            db.dispose()


def wait_for_streams_to_end() -> None:
    """Wait until the generation watcher has stopped (no stream waits on it any more), so
    that it does not poll a database being dropped."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while any(t.name == "dashboard-generation-watcher" for t in threading.enumerate()):
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)


# --- the browser -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser, dashboard):
    """A fresh browser profile in Kathmandu (UTC+5:45: hours start at a quarter past in
    UTC), so the page's zone handling shows in every figure."""
    made = browser.new_context(
        base_url=dashboard.url,
        timezone_id="Asia/Kathmandu",
        locale="en-GB",
        viewport={"width": 1366, "height": 900},
        accept_downloads=True,
    )
    yield made
    made.close()

"""Both services as `make run` would serve them, on throwaway PostgreSQL databases, with the
accounts the fuzzer signs in as: an admin for the Appstore, a management account for the
Dashboard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from seeds import FIXED_SEED, FRESH_SEED

from appstore.throttling import UNTHROTTLED_ENV
from servicekit.testing import ServerDidNotStart, free_port, serving
from sqlstore.testing import postgres_server, throwaway_database

BIN = Path(sys.executable).parent
PASSWORD = "contract-password"
ADMIN = "contract-admin"
MANAGER = "contract-manager"


def pytest_report_header() -> str:
    return f"schemathesis seeds: fixed {FIXED_SEED}, fresh {FRESH_SEED} (CONTRACT_SEED replays it)"


def pytest_terminal_summary(terminalreporter) -> None:
    terminalreporter.write_line(
        f"schemathesis seeds: fixed {FIXED_SEED}, fresh {FRESH_SEED}; replay the fresh one "
        f"with CONTRACT_SEED={FRESH_SEED}"
    )


@dataclass(frozen=True)
class Served:
    """A running service: its base URL and a bearer token the fuzzer sends."""

    url: str
    token: str


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without any service setting of the caller's own."""
    prefixes = ("APPSTORE_", "DASHBOARD_", "BROKER_URL", "REDIS_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(extra)
    return env


def _run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command[:3])} failed:\n{done.stdout}{done.stderr}", pytrace=False)
    return done.stdout


def call(url: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    """POST ``body`` as JSON (or an empty POST); the answer's JSON."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else b""
    request = urllib.request.Request(f"{url}{path}", data=data, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def sign_in(url: str, username: str) -> str:
    """A bearer token from the Appstore at ``url``."""
    answer = call(url, "/api/v1/auth/token", {"username": username, "password": PASSWORD})
    return answer["access_token"]


def seed_catalogue(url: str, admin_token: str) -> None:
    """One verified app of another owner, so that the admin the fuzzer signs in as can buy
    (the catalogue's listing links to buying its first app)."""
    app = call(
        url,
        "/api/v1/apps/",
        {"title": "Seeded", "description": "", "price": 1, "access_link": "https://example.org"},
        sign_in(url, MANAGER),
    )
    call(url, f"/api/v1/apps/{app['id']}/verify", token=admin_token)


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def appstore(postgres_admin_url, tmp_path_factory) -> Iterator[Served]:
    """``appstore serve`` on a fresh database holding an admin and a management account."""
    data_dir = tmp_path_factory.mktemp("appstore")
    with throwaway_database(postgres_admin_url, "contract_appstore") as database_url:
        env = _clean_env(
            APPSTORE_DATABASE_URL=database_url,
            APPSTORE_DATA_DIR=str(data_dir),
            APPSTORE_PASSWORD_PROFILE="cheapest",
            # The fuzzer registers and signs in far faster than any person; the limits
            # themselves have tests of their own.
            **UNTHROTTLED_ENV,
        )
        appstore_cli = str(BIN / "appstore")
        _run([appstore_cli, "db", "upgrade"], env)
        for username, role in ((ADMIN, "admin"), (MANAGER, "management")):
            _run(
                [
                    appstore_cli,
                    "users",
                    "create",
                    "--username",
                    username,
                    "--password",
                    PASSWORD,
                    "--role",
                    role,
                    "--credit",
                    "1000000",
                ],
                env,
            )
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [appstore_cli, "serve", "--port", str(port), "--workers", "2"]
        try:
            with serving(command, env, url, data_dir / "serve.log"):
                token = sign_in(url, ADMIN)
                seed_catalogue(url, token)
                yield Served(url, token)
        except ServerDidNotStart as error:
            pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def dashboard(appstore, postgres_admin_url, tmp_path_factory) -> Iterator[Served]:
    """``dashboard serve`` on a fresh database, checking tokens against the Appstore."""
    data_dir = tmp_path_factory.mktemp("dashboard")
    with throwaway_database(postgres_admin_url, "contract_dashboard") as database_url:
        env = _clean_env(
            DASHBOARD_DATABASE_URL=database_url,
            APPSTORE_URL=appstore.url,
        )
        dashboard_cli = str(BIN / "dashboard")
        _run([dashboard_cli, "db", "upgrade"], env)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [dashboard_cli, "serve", "--port", str(port), "--workers", "1", "--threads", "8"]
        try:
            with serving(command, env, url, data_dir / "serve.log"):
                yield Served(url, sign_in(appstore.url, MANAGER))
        except ServerDidNotStart as error:
            pytest.fail(str(error), pytrace=False)

"""infra/appstore/ensure_service_account.py against a real `appstore serve` (embedded SQLite).

The compose stack runs the script on every start, so a second run must succeed without
touching anything, and a name taken by another kind of account must stop the stack.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from topology import REPOSITORY

from servicekit.testing import free_port, serving

SCRIPT = REPOSITORY / "infra/appstore/ensure_service_account.py"
APPSTORE = Path(sys.executable).with_name("appstore")


@pytest.fixture(scope="module")
def appstore_env(tmp_path_factory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("appstore")
    return {
        **os.environ,
        "APPSTORE_DATABASE_URL": f"sqlite:///{data}/appstore.db",
        "APPSTORE_DATA_DIR": str(data),
        "APPSTORE_PASSWORD_PROFILE": "cheapest",
        "PATH": f"{APPSTORE.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }


@pytest.fixture(scope="module")
def appstore_url(appstore_env, tmp_path_factory):
    subprocess.run([APPSTORE, "db", "upgrade"], env=appstore_env, check=True)
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    command = [str(APPSTORE), "serve", "--port", str(port), "--workers", "1"]
    url = f"http://127.0.0.1:{port}"
    with serving(command, appstore_env, url, log):
        yield url


def ensure(env: dict, url: str, username: str, password: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT)],
        env={
            **env,
            "APPSTORE_URL": url,
            "DASHBOARD_SERVICE_USERNAME": username,
            "DASHBOARD_SERVICE_PASSWORD": password,
        },
        capture_output=True,
        text=True,
        check=False,
    )


def role_of(url: str, username: str, password: str) -> str:
    request = urllib.request.Request(
        f"{url}/api/v1/auth/token",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        token = json.load(response)["access_token"]
    me = urllib.request.Request(
        f"{url}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(me) as response:
        return json.load(response)["role"]


def test_creates_the_account_once_and_then_finds_it(appstore_env, appstore_url):
    first = ensure(appstore_env, appstore_url, "dashboard", "service-password")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["role"] == "service"
    assert role_of(appstore_url, "dashboard", "service-password") == "service"

    again = ensure(appstore_env, appstore_url, "dashboard", "service-password")
    assert again.returncode == 0, again.stderr
    assert "already exists" in again.stdout


def test_a_name_taken_by_another_role_stops_it(appstore_env, appstore_url):
    made = subprocess.run(
        [APPSTORE, "users", "create", "--username", "someone", "--password", "password-1"],
        env=appstore_env,
        capture_output=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr

    result = ensure(appstore_env, appstore_url, "someone", "password-1")
    assert result.returncode == 1
    assert "has role 'user', not 'service'" in result.stderr


def test_a_name_taken_with_another_password_stops_it(appstore_env, appstore_url):
    assert ensure(appstore_env, appstore_url, "reader", "first-password").returncode == 0

    result = ensure(appstore_env, appstore_url, "reader", "other-password")
    assert result.returncode == 1
    assert "already taken" in result.stderr


def test_refuses_to_run_without_credentials(appstore_env):
    result = ensure(appstore_env, "http://127.0.0.1:1", "", "")
    assert result.returncode == 2
    assert "DASHBOARD_SERVICE_USERNAME" in result.stderr


def test_an_appstore_that_never_answers_is_an_error_not_a_traceback(appstore_env):
    result = ensure(
        {**appstore_env, "APPSTORE_WAIT_SECONDS": "0"}, "http://127.0.0.1:1", "dashboard", "pw"
    )
    assert result.returncode == 1
    assert "cannot reach the Appstore at http://127.0.0.1:1" in result.stderr
    assert "Traceback" not in result.stderr

"""A real ``appstore serve`` (gunicorn, several workers) on the test run's PostgreSQL database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(components, tmp_path_factory):
    """Yield the base URL of a served Appstore sharing ``components``' database and key."""
    port = free_port()
    settings = components.settings
    env = {
        **os.environ,
        "APPSTORE_DATABASE_URL": settings.database_url,
        "APPSTORE_DATA_DIR": str(settings.data_dir),
        "APPSTORE_PASSWORD_PROFILE": settings.password_profile,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path_factory.mktemp("metrics")),
    }
    log = tmp_path_factory.mktemp("server") / "serve.log"
    appstore = Path(sys.executable).with_name("appstore")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(appstore), "serve", "--port", str(port), "--workers", "4", "--threads", "4"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base_url, process, log)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=20)


def _wait_ready(base_url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"appstore serve exited early:\n{log.read_text()}")
        try:
            if requests.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    pytest.fail(f"appstore serve did not become ready:\n{log.read_text()}")

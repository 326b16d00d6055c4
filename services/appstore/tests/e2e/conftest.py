"""A real ``appstore serve`` (gunicorn, several workers) on the test run's PostgreSQL database."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from appstore.throttling import UNTHROTTLED_ENV
from servicekit.testing import free_port, serving


@pytest.fixture(scope="session")
def live_server(postgres_url, components_for, tmp_path_factory):
    """Yield the base URL of a served Appstore sharing ``components``' database and key."""
    port = free_port()
    settings = components_for(postgres_url).settings
    env = {
        **os.environ,
        "APPSTORE_DATABASE_URL": settings.database_url,
        "APPSTORE_DATA_DIR": str(settings.data_dir),
        "APPSTORE_PASSWORD_PROFILE": settings.password_profile,
        **UNTHROTTLED_ENV,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path_factory.mktemp("metrics")),
    }
    log = tmp_path_factory.mktemp("server") / "serve.log"
    command = [str(Path(sys.executable).with_name("appstore")), "serve", "--port", str(port)]
    base_url = f"http://127.0.0.1:{port}"
    with serving([*command, "--workers", "4", "--threads", "4"], env, base_url, log):
        yield base_url

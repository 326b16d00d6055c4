"""Throwaway PostgreSQL databases for test suites and benchmarks.

The server comes from TEST_DATABASE_URL (default: the local one, as a role that may create
databases); where it does not answer and a Docker engine runs, from a testcontainers
PostgreSQL; where neither, :class:`PostgresUnavailable` says what to start. Nothing is
skipped silently.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
from sqlalchemy.engine import make_url

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
START_HINT = (
    "start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start), "
    "or set TEST_DATABASE_URL to a server where the tests may create databases"
)


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server to test against, and no way to start one."""


def _reachable(url: str) -> bool:
    try:
        psycopg2.connect(url, connect_timeout=3).close()
        return True
    except psycopg2.OperationalError:
        return False


def _docker_engine() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield the admin URL of a PostgreSQL server where databases may be created.

    Raises:
        PostgresUnavailable: neither TEST_DATABASE_URL answers nor a Docker engine runs.
    """
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_ADMIN_URL)
    if _reachable(url):
        yield url
        return
    if _docker_engine():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver=None) as container:
            yield container.get_connection_url()
        return
    raise PostgresUnavailable(
        f"PostgreSQL is not reachable at {url} and there is no Docker engine: {START_HINT}"
    )


@contextmanager
def throwaway_database(admin_url: str, prefix: str = "test") -> Iterator[str]:
    """Create an empty database; yield its SQLAlchemy URL; drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(admin_url)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        url = make_url(admin_url).set(drivername="postgresql+psycopg2", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

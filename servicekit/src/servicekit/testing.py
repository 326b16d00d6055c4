"""The RabbitMQ and Redis servers test suites and benchmarks run against, and serving one of
the project's own HTTP servers for the length of a test.

RabbitMQ and Redis each come from its variable (``TEST_BROKER_URL``, ``TEST_REDIS_URL``;
default: the local server); where that does not answer and a Docker engine runs, from a
testcontainers container kept for the rest of the process; where neither,
:class:`ServiceUnavailable` says what to start. Nothing is skipped silently. (PostgreSQL:
:mod:`sqlstore.testing`.)
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class ServiceUnavailable(RuntimeError):
    """No server to test against, and no way to start one."""


class ServerDidNotStart(RuntimeError):
    """A server started by :func:`serving` exited or never answered; its output is quoted."""


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serving(
    command: Sequence[str],
    env: Mapping[str, str],
    url: str,
    output: Path,
    *,
    timeout: float = 60,
) -> Iterator[subprocess.Popen]:
    """Run ``command`` (e.g. ``appstore serve --port N``) until the block ends.

    The block starts once ``GET {url}/readyz`` answers 200; the server's output goes to
    ``output``. At the end it gets SIGTERM, gunicorn's graceful stop.

    Raises:
        ServerDidNotStart: it exited, or did not answer within ``timeout`` seconds.
    """
    with output.open("ab") as sink:
        server = subprocess.Popen(
            list(command), env=dict(env), stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + timeout
        while not _ready(url):
            if server.poll() is not None:
                raise ServerDidNotStart(
                    f"{command[0]} exited with {server.returncode}:\n{output.read_text()}"
                )
            if time.monotonic() > deadline:
                raise ServerDidNotStart(
                    f"{url} did not answer within {timeout:g} s:\n{output.read_text()}"
                )
            time.sleep(0.1)
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def answers(url: str, default_port: int, timeout: float = 3.0) -> bool:
    """Whether something accepts TCP connections where ``url`` points."""
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), timeout=timeout
        ):
            return True
    except OSError:
        return False


def docker_engine() -> bool:
    """Whether a Docker engine answers, so that testcontainers can start servers."""
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


@functools.cache
def rabbitmq_url() -> str:
    """The AMQP URL of a RabbitMQ the tests may use (declare, publish, purge)."""

    def container() -> str:
        from testcontainers.rabbitmq import RabbitMqContainer

        started = _keep(RabbitMqContainer("rabbitmq:3.13-management-alpine"))
        host, port = started.get_container_host_ip(), started.get_exposed_port(5672)
        return f"amqp://guest:guest@{host}:{port}/"

    return _server(
        "TEST_BROKER_URL",
        DEFAULT_BROKER_URL,
        5672,
        container,
        "RabbitMQ",
        "rabbitmq-server -detached",
    )


@functools.cache
def redis_url() -> str:
    """The URL of a Redis database the tests may fill and flush."""

    def container() -> str:
        from testcontainers.redis import RedisContainer

        started = _keep(RedisContainer("redis:7-alpine"))
        host, port = started.get_container_host_ip(), started.get_exposed_port(6379)
        return f"redis://{host}:{port}/0"

    return _server(
        "TEST_REDIS_URL",
        DEFAULT_REDIS_URL,
        6379,
        container,
        "Redis",
        'redis-server --daemonize yes --port 6379 --save "" --appendonly no',
    )


def _server(variable, default, port, container, name, start_command) -> str:
    url = os.environ.get(variable, default)
    if answers(url, port):
        return url
    if docker_engine():
        return container()
    raise ServiceUnavailable(
        f"{name} is not reachable at {url} and there is no Docker engine: start it "
        f"({start_command}) or set {variable}"
    )


def _keep(container):
    container.start()
    atexit.register(container.stop)
    return container

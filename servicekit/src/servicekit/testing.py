"""The RabbitMQ and Redis servers test suites and benchmarks run against.

Each comes from its variable (``TEST_BROKER_URL``, ``TEST_REDIS_URL``; default: the local
server); where that does not answer and a Docker engine runs, from a testcontainers
container kept for the rest of the process; where neither, :class:`ServiceUnavailable`
says what to start. Nothing is skipped silently. (PostgreSQL: :mod:`sqlstore.testing`.)
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import socket
import subprocess
from urllib.parse import urlsplit

DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class ServiceUnavailable(RuntimeError):
    """No server to test against, and no way to start one."""


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

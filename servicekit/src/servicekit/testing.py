"""The RabbitMQ and Redis servers test suites and benchmarks run against, serving one of
the project's own HTTP servers for the length of a test, and commands run as a process
group of their own.

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
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
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


class ProcessGroup:
    """A command started in a session of its own: it and every process it starts form one
    process group, signalled and killed together, so that nothing outlives a test or a run.

    Parameters:
        command: The program and its arguments.
        **popen: Passed on to :class:`subprocess.Popen` (``env``, ``cwd``, ``stdout``...).
    """

    def __init__(self, command: Sequence[str], **popen: Any) -> None:
        self.process = subprocess.Popen(list(command), start_new_session=True, **popen)

    @property
    def pid(self) -> int:
        """The main process's id, which is also the group's id."""
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def alive(self) -> bool:
        """Whether the main process still runs."""
        return self.process.poll() is None

    def send_signal(self, signum: int, *, group: bool = True) -> None:
        """Send ``signum`` to the whole group, or with ``group=False`` to the main process
        only (which then shuts down what it started, as a supervisor does).
        A group that has ended already is no error."""
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(self.pid, signum)
            else:
                os.kill(self.pid, signum)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` seconds for the main process to end; whether it did."""
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def stop(
        self,
        signum: int = signal.SIGTERM,
        *,
        timeout: float = 20,
        group: bool = True,
        sweep: bool = False,
    ) -> bool:
        """Send ``signum`` (see :meth:`send_signal`), wait up to ``timeout`` seconds, then
        SIGKILL the group if the main process still runs.

        Parameters:
            signum: The signal that asks for a graceful stop.
            timeout: Seconds the stop may take before the group is killed.
            group: Whether ``signum`` goes to the whole group or to the main process only.
            sweep: SIGKILL the group even after a graceful stop, for what it left behind.

        Returns:
            Whether the main process ended within ``timeout`` without being killed.
        """
        graceful = True
        if self.alive():
            self.send_signal(signum, group=group)
            graceful = self.wait(timeout)
        if sweep or not graceful:
            self.kill()
        return graceful

    def kill(self, timeout: float = 10) -> None:
        """SIGKILL the whole group, a crash rather than a shutdown, and reap the main
        process within ``timeout`` seconds."""
        self.send_signal(signal.SIGKILL)
        self.process.wait(timeout)

    def group_alive(self) -> bool:
        """Whether any process of the group still runs (zombies count as ended)."""
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                text = stat.read_text()
            except OSError:
                continue
            # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its ")".
            state, _ppid, group = text[text.rindex(")") + 2 :].split()[:3]
            if int(group) == self.pid and state != "Z":
                return True
        return False


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
        try:
            wait_ready(url, timeout=timeout, running=lambda: server.poll() is None)
        except ServerDidNotStart:
            if server.poll() is not None:
                raise ServerDidNotStart(
                    f"{command[0]} exited with {server.returncode}:\n{output.read_text()}"
                ) from None
            raise ServerDidNotStart(
                f"{url} did not answer within {timeout:g} s:\n{output.read_text()}"
            ) from None
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)


def wait_ready(
    url: str,
    *,
    path: str = "/readyz",
    timeout: float = 60,
    running: Callable[[], bool] | None = None,
) -> None:
    """Wait until ``GET {url}{path}`` answers 200.

    Parameters:
        url: The server's base URL.
        path: What to ask: ``/readyz`` (ready to serve) or ``/healthz`` (alive).
        timeout: Seconds to wait at most.
        running: Whether the server's process still runs, asked between attempts.

    Raises:
        ServerDidNotStart: ``running()`` turned false, or no 200 came within ``timeout``
            seconds.
    """
    deadline = time.monotonic() + timeout
    while not _answers_200(f"{url}{path}"):
        if running is not None and not running():
            raise ServerDidNotStart(f"the server of {url} exited before it answered {path}")
        if time.monotonic() > deadline:
            raise ServerDidNotStart(f"{url}{path} did not answer within {timeout:g} s")
        time.sleep(0.1)


def _answers_200(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
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

"""Fixtures for running ``appstore relay`` against a real RabbitMQ and watching what it sends.

The exchange ``appstore.events`` may be shared with other test runs on the same broker, so
the consumer keeps only messages whose envelope's ``event_id`` is in this test database's
outbox and counts the others in :attr:`EventConsumer.foreign`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pika
import pytest
from sqlalchemy import select

from appstore.bootstrap import Components
from appstore.models import OutboxEvent
from appstore.throttling import UNTHROTTLED_ENV
from appstore_events import EXCHANGE

from .tcp_proxy import TcpProxy

APPSTORE = Path(sys.executable).with_name("appstore")
STOP_GRACE_SECONDS = 10


class Received(NamedTuple):
    routing_key: str
    body: bytes
    properties: pika.BasicProperties


def appstore_env(components: Components, broker_url: str | None = None) -> dict[str, str]:
    """The environment a subprocess needs to work on the test run's database."""
    settings = components.settings
    env = {
        **os.environ,
        "APPSTORE_DATABASE_URL": settings.database_url,
        "APPSTORE_DATA_DIR": str(settings.data_dir),
        "APPSTORE_PASSWORD_PROFILE": settings.password_profile,
        **UNTHROTTLED_ENV,
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("APPSTORE_RELAY_METRICS_PORT", None)
    if broker_url is not None:
        env["BROKER_URL"] = broker_url
    return env


class EventConsumer:
    """A queue of its own bound to ``appstore.events`` with ``#``, consumed with acks.

    The queue outlives its connection (it expires when unused), and a dropped connection is
    reopened: a broker that closes every client connection loses no message of the test.
    Copies the broker redelivers after such a drop are recognised and left out.
    """

    QUEUE_EXPIRES_MS = 600_000

    def __init__(self, broker_url: str, components: Components) -> None:
        self.broker_url = broker_url
        self.components = components
        self.queue = f"test-relay-{uuid.uuid4().hex}"
        self.foreign = 0
        self.reconnects = 0
        self._ours: set[str] = set()
        self._accepted: set[str] = set()
        self._pending: list[tuple] = []
        self._connection: pika.BlockingConnection | None = None
        self._channel = None
        self._connect()

    def _connect(self) -> None:
        self._pending.clear()  # unacked: the broker delivers them again
        self._connection = pika.BlockingConnection(pika.URLParameters(self.broker_url))
        channel = self._connection.channel()
        # Declared as the relay declares it, so binding works before the relay ever ran.
        channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
        channel.queue_declare(self.queue, arguments={"x-expires": self.QUEUE_EXPIRES_MS})
        channel.queue_bind(self.queue, EXCHANGE, routing_key="#")
        channel.basic_consume(self.queue, self._on_message, auto_ack=False)
        self._channel = channel

    def _reconnect(self, deadline: float) -> None:
        self.reconnects += 1
        with contextlib.suppress(Exception):
            self._connection.close()
        while True:
            try:
                self._connect()
                return
            except pika.exceptions.AMQPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _on_message(self, _channel, method, properties, body) -> None:
        self._pending.append((method, properties, body))

    def drain(self, expected_count: int, timeout: float = 10.0, linger: float = 0.0):
        """Collect messages until ``expected_count`` of ours arrived or ``timeout`` passed.

        Then keep listening ``linger`` seconds more, to catch extra messages. Returns every
        message of ours that arrived, in arrival order, as ``Received`` tuples.
        """
        received: list[Received] = []
        self._listen(received, lambda: len(received) >= expected_count, timeout)
        if linger > 0:
            self._listen(received, lambda: False, linger)
        return received

    def _listen(self, received: list[Received], done: Callable[[], bool], seconds: float):
        deadline = time.monotonic() + seconds
        while True:
            try:
                self._accept(received)
                remaining = deadline - time.monotonic()
                if done() or remaining <= 0:
                    return
                self._connection.process_data_events(time_limit=min(0.05, remaining))
            except pika.exceptions.AMQPError:
                self._reconnect(deadline + 10)

    def _accept(self, received: list[Received]) -> None:
        """Move the delivered messages that are ours to ``received``, and ack them all."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        ids = [_event_id(body) for _, _, body in pending]
        unknown = {i for i in ids if i is not None and i not in self._ours}
        if unknown:
            with self.components.db.reading() as session:
                self._ours.update(
                    session.scalars(
                        select(OutboxEvent.event_id).where(OutboxEvent.event_id.in_(unknown))
                    )
                )
        for (method, properties, body), event_id in zip(pending, ids, strict=True):
            if event_id is None or event_id not in self._ours:
                self.foreign += 1
            elif method.redelivered and event_id in self._accepted:
                continue  # the broker's copy of one we took before our connection dropped
            else:
                self._accepted.add(event_id)
                received.append(Received(method.routing_key, body, properties))
        self._channel.basic_ack(pending[-1][0].delivery_tag, multiple=True)

    def close(self) -> None:
        try:
            if not (self._connection and self._connection.is_open):
                self._reconnect(time.monotonic() + 5)
            self._channel.queue_delete(self.queue)
        finally:
            if self._connection.is_open:
                self._connection.close()


def _event_id(body: bytes) -> str | None:
    try:
        envelope = json.loads(body)
    except ValueError:
        return None
    event_id = envelope.get("event_id") if isinstance(envelope, dict) else None
    return event_id if isinstance(event_id, str) else None


@pytest.fixture(name="consumer")
def consumer_fixture(broker_url, components) -> Iterator[EventConsumer]:
    queue = EventConsumer(broker_url, components)
    try:
        yield queue
    finally:
        queue.close()


class RelayProcess:
    """One ``appstore relay`` subprocess and its log."""

    def __init__(self, name: str, process: subprocess.Popen, log: Path) -> None:
        self.name = name
        self.process = process
        self.log_path = log

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def leading(self) -> bool:
        return "leading" in self.log()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_for_log(self, text: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if not self.alive:
                pytest.fail(
                    f"relay {self.name} exited ({self.process.returncode}) before logging "
                    f"{text!r}:\n{self.log()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"relay {self.name} did not log {text!r} in {timeout}s:\n{self.log()}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.alive:
            self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited after a grace period."""
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    @property
    def had_broker_trouble(self) -> bool:
        """Whether the relay lost the broker at some point (and so may have sent copies)."""
        log = self.log()
        return "not confirmed" in log or "cannot connect to the broker" in log

    def describe(self) -> str:
        return f"--- relay {self.name} (exit {self.process.poll()}) ---\n{self.log()}"


@pytest.fixture(name="start_relay")
def start_relay_fixture(components, broker_url, tmp_path) -> Iterator[Callable[..., RelayProcess]]:
    """Start ``appstore relay`` subprocesses; all are stopped when the test ends.

    ``start_relay(broker=None, wait_leading=True)``: ``broker`` overrides the broker URL
    (e.g. the proxy's); with ``wait_leading`` the call returns once the relay leads.
    Their logs are printed at teardown, so a failing test shows them.
    """
    relays: list[RelayProcess] = []

    def start(broker: str | None = None, *, wait_leading: bool = True) -> RelayProcess:
        name = f"relay{len(relays) + 1}"
        log = tmp_path / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(APPSTORE), "relay", "--metrics-port", "0"],
                env=appstore_env(components, broker or broker_url),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        relay = RelayProcess(name, process, log)
        relays.append(relay)
        if wait_leading:
            relay.wait_for_log("leading")
        return relay

    try:
        yield start
    finally:
        for relay in relays:
            relay.stop()
        for relay in relays:
            print(relay.describe())


@pytest.fixture(name="broker_proxy")
def broker_proxy_fixture(broker_url) -> Iterator[TcpProxy]:
    """A started TCP proxy to the broker; ``broker_proxy.url(broker_url)`` goes through it."""
    proxy = TcpProxy.for_url(broker_url).start()
    try:
        yield proxy
    finally:
        proxy.stop()


def run_appstore(components, broker_url: str, *args: str, timeout: float = 60):
    """Run an ``appstore`` command to completion on the test database; return the result."""
    return subprocess.run(
        [str(APPSTORE), *args],
        env=appstore_env(components, broker_url),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )

"""The relay's publisher against a real RabbitMQ: order, properties, confirms, reconnects.

Needs RabbitMQ (``broker_url`` in conftest.py) and
``rabbitmqctl`` on the PATH. Each test publishes to its own throwaway exchange, with the same
settings as ``appstore.events``, so that nothing else on a shared broker sees the test
traffic and nothing else's traffic reaches the test queues.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from kombu import Connection, Consumer, Exchange, Queue
from kombu.exceptions import OperationalError

from appstore.broker import check_broker
from appstore.errors import PublishError
from appstore.relay.amqp_publisher import AmqpPublisher
from appstore.relay.memory_publisher import MemoryPublisher
from appstore.relay.messages import OutgoingMessage
from appstore.relay.publisher import make_publisher
from appstore_events import CONTENT_TYPE, EXCHANGE

ROUTING_KEYS = ["app.purchased", "user.registered", "credit.granted", "app.created"]
BASELINES = Path(__file__).resolve().parents[4] / "bench" / "baselines.py"


def bench_baselines():
    """The benchmarks' ``baselines`` module, which lives outside any installed package."""
    spec = importlib.util.spec_from_file_location("bench_baselines", BASELINES)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def messages(count: int, tag: str) -> list[OutgoingMessage]:
    """``count`` distinct messages whose bodies carry their position."""
    return [
        OutgoingMessage(
            routing_key=ROUTING_KEYS[i % len(ROUTING_KEYS)],
            body=f'{{"tag": "{tag}", "sequence": {i}, "pad": "{"x" * 200}"}}'.encode(),
            message_id=str(uuid.uuid4()),
        )
        for i in range(count)
    ]


def rabbitmqctl(*args: str) -> str:
    if shutil.which("rabbitmqctl") is None:
        pytest.fail("rabbitmqctl is not on the PATH; these tests need the RabbitMQ server tools")
    done = subprocess.run(
        ["rabbitmqctl", *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, f"rabbitmqctl {' '.join(args)} failed: {done.stderr}"
    return done.stdout


def vhost(broker_url: str) -> str:
    """The broker URL's virtual host: the tests' exchanges and connections live there."""
    return Connection(broker_url).virtual_host


@pytest.fixture
def exchange_name(broker_url):
    name = f"test.appstore.events.{uuid.uuid4().hex[:12]}"
    yield name
    with Connection(broker_url, connect_timeout=3) as connection:
        connection.default_channel.exchange_delete(name)


class Capture:
    """An exclusive queue bound with ``#`` to the exchange, on its own connection."""

    def __init__(self, broker_url: str, exchange_name: str) -> None:
        self.connection = Connection(broker_url, connect_timeout=3)
        exchange = Exchange(exchange_name, type="topic", durable=True)
        self.queue = Queue(
            f"test-publisher-{uuid.uuid4().hex}",
            exchange=exchange,
            routing_key="#",
            exclusive=True,
            auto_delete=True,
        )
        self.queue(self.connection.default_channel).declare()

    def read(self, count: int, timeout: float = 30.0) -> list:
        """Return exactly ``count`` messages; fail on fewer, or on any extra one."""
        received: list = []
        consumer = Consumer(
            self.connection,
            queues=[self.queue],
            no_ack=True,
            on_message=received.append,
            prefetch_count=1000,
        )
        deadline = time.monotonic() + timeout
        with consumer:
            while len(received) < count and time.monotonic() < deadline:
                self._drain(0.5)
            self._drain(0.5)  # gives a duplicate or stray message the chance to show up
        assert len(received) == count, f"expected {count} messages, received {len(received)}"
        return received

    def ready(self) -> int:
        """How many messages the queue holds right now."""
        return self.queue(self.connection.default_channel).queue_declare(passive=True).message_count

    def _drain(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            self.connection.drain_events(timeout=timeout)

    def close(self) -> None:
        self.connection.release()


@pytest.fixture
def capture(broker_url, exchange_name):
    captured = Capture(broker_url, exchange_name)
    yield captured
    captured.close()


def raw_body(message) -> bytes:
    # py-amqp decodes bodies that declare a content encoding; compare the bytes sent.
    body = message.body
    return body if isinstance(body, bytes) else body.encode(message.content_encoding)


def assert_delivered(received: list, sent: list[OutgoingMessage]) -> None:
    assert [m.properties.get("message_id") for m in received] == [m.message_id for m in sent]
    assert [raw_body(m) for m in received] == [m.body for m in sent]
    assert [m.delivery_info["routing_key"] for m in received] == [m.routing_key for m in sent]
    for message in received:
        assert message.properties.get("delivery_mode") == 2
        assert message.content_type == CONTENT_TYPE
        assert message.content_encoding == "utf-8"


def test_publish_batch_delivers_every_message_in_order(broker_url, exchange_name, capture):
    sent = messages(2000, "batch")
    with AmqpPublisher(broker_url, exchange_name) as publisher:
        assert publisher.healthy
        publisher.publish_batch(sent, timeout=30)
        assert publisher.healthy
        # A confirm means the queue has the message: nothing may still be on its way.
        assert capture.ready() == len(sent)

    assert_delivered(capture.read(len(sent)), sent)
    listing = rabbitmqctl(
        "list_exchanges", "-p", vhost(broker_url), "name", "type", "durable", "auto_delete"
    )
    assert f"{exchange_name}\ttopic\ttrue\tfalse" in listing.splitlines()


def test_bench_baseline_publish_one_by_one_delivers_in_order(broker_url, exchange_name, capture):
    publish_one_by_one = bench_baselines().publish_one_by_one
    sent = messages(50, "one-by-one")
    with AmqpPublisher(broker_url, exchange_name) as publisher:
        publish_one_by_one(publisher.publish_batch, sent, timeout=30)
        assert capture.ready() == len(sent)

    assert_delivered(capture.read(len(sent)), sent)


def test_consecutive_batches_share_the_channel(broker_url, exchange_name, capture):
    first, second = messages(300, "first"), messages(300, "second")
    with AmqpPublisher(broker_url, exchange_name) as publisher:
        publisher.publish_batch(first)
        publisher.publish_batch([])
        publisher.publish_batch(second)

    assert_delivered(capture.read(600), first + second)


def wait_until_closed_by_broker(connection_name: str, timeout: float = 20.0) -> None:
    """Wait until the broker has begun closing the connection (it waits for our close-ok)."""
    deadline = time.monotonic() + timeout
    while any(
        line.startswith("running\t") and f'"{connection_name}"' in line
        for line in rabbitmqctl("list_connections", "state", "client_properties").splitlines()
    ):
        assert time.monotonic() < deadline, f"the broker still runs {connection_name}"
        time.sleep(0.2)


def test_broken_connection_raises_and_ensure_connected_recovers(broker_url, exchange_name):
    name = f"test-relay-{uuid.uuid4().hex[:8]}"
    publisher = AmqpPublisher(broker_url, exchange_name, connection_name=name)
    assert publisher.ensure_connected()
    publisher.publish_batch(messages(10, "before"))

    rabbitmqctl("close_all_connections", "-p", vhost(broker_url), "test")
    wait_until_closed_by_broker(name)

    with pytest.raises(PublishError):
        publisher.publish_batch(messages(100, "lost"), timeout=10)
    assert not publisher.healthy
    with pytest.raises(PublishError, match="not connected"):
        publisher.publish_batch(messages(1, "still lost"))

    assert publisher.ensure_connected()
    assert publisher.healthy
    capture = Capture(broker_url, exchange_name)
    try:
        sent = messages(500, "after")
        publisher.publish_batch(sent)
        assert_delivered(capture.read(len(sent)), sent)
    finally:
        capture.close()
        publisher.close()


def test_timeout_raises_and_closes(broker_url, exchange_name):
    with AmqpPublisher(broker_url, exchange_name) as publisher:
        with pytest.raises(PublishError, match="timed out"):
            publisher.publish_batch(messages(100, "late"), timeout=0)
        assert not publisher.healthy


def test_ensure_connected_backs_off_logs_and_stops_on_request(caplog):
    # Nothing listens on port 1: every attempt is refused at once.
    publisher = AmqpPublisher(
        "amqp://guest:guest@127.0.0.1:1//", connect_timeout=1, backoff_initial=0.2
    )
    polls = []

    def should_stop() -> bool:
        polls.append(time.monotonic())
        return len(polls) > 12

    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="appstore.relay"):
        assert publisher.ensure_connected(should_stop) is False
    elapsed = time.monotonic() - started

    failures = [r for r in caplog.records if r.name == "appstore.relay"]
    assert len(failures) >= 2
    assert "attempt 1" in failures[0].getMessage()
    assert elapsed < 3, "the backoff did not notice the stop request"
    assert not publisher.healthy


def test_ensure_connected_returns_false_at_once_when_stopping():
    publisher = AmqpPublisher("amqp://guest:guest@127.0.0.1:1//")
    assert publisher.ensure_connected(lambda: True) is False


def test_memory_publisher_and_make_publisher():
    publisher = make_publisher("memory://")
    assert isinstance(publisher, MemoryPublisher)
    sent = messages(5, "memory")

    with pytest.raises(PublishError):
        publisher.publish_batch(sent)
    assert publisher.ensure_connected()
    assert publisher.healthy
    publisher.publish_batch(sent[:3])
    bench_baselines().publish_one_by_one(publisher.publish_batch, sent[3:])
    assert publisher.published == sent

    publisher.fail_next()
    with pytest.raises(PublishError):
        publisher.publish_batch(messages(2, "failed"))
    assert not publisher.healthy
    assert publisher.published == sent
    assert publisher.ensure_connected()
    publisher.publish_batch(sent[:1])
    assert publisher.published == [*sent, sent[0]]

    publisher.close()
    assert not publisher.healthy

    for url in ("amqp://guest:guest@localhost//", "amqps://h//", "pyamqp://h//"):
        amqp = make_publisher(url)
        assert isinstance(amqp, AmqpPublisher)
        assert amqp.exchange_name == EXCHANGE
    assert make_publisher("amqp://h//", "other").exchange_name == "other"
    with pytest.raises(ValueError, match="redis"):
        make_publisher("redis://localhost:6379/0")


UNREACHABLE_NODE = "amqp://guest:guest@127.0.0.1:1/"


def test_a_publisher_naming_several_nodes_connects_past_one_that_does_not_answer(
    broker_url, exchange_name, capture
):
    sent = messages(10, "nodes")
    with AmqpPublisher(f"{UNREACHABLE_NODE};{broker_url}", exchange_name) as publisher:
        node = urlsplit(broker_url)
        assert publisher.node == f"{node.hostname}:{node.port or 5672}"
        publisher.publish_batch(sent, timeout=30)
    assert_delivered(capture.read(len(sent)), sent)


def test_the_broker_check_passes_while_any_node_answers(broker_url):
    check_broker(f"{UNREACHABLE_NODE};{broker_url}", timeout=2)
    with pytest.raises(OperationalError, match="refused"):
        check_broker(f"{UNREACHABLE_NODE};{UNREACHABLE_NODE}", timeout=2)

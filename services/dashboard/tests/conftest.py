"""Fixtures shared by the Dashboard's tests that talk to RabbitMQ."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pika
import pytest

from appstore_events import EXCHANGE, Envelope, encode, routing_key_for
from dashboard.worker.topology import QUEUE_ARGUMENTS, declare
from servicekit.testing import ServiceUnavailable, rabbitmq_url


class Rabbit:
    """A connection to the test broker with the dashboard's topology declared."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._connect()

    def _connect(self) -> None:
        try:
            self.connection = pika.BlockingConnection(pika.URLParameters(self.url))
        except pika.exceptions.AMQPConnectionError as error:
            pytest.fail(
                f"RabbitMQ is not reachable at {self.url}: {error!r}; start it "
                "(rabbitmq-server -detached) or set TEST_BROKER_URL",
                pytrace=False,
            )
        self.channel = self.connection.channel()
        self.channel.confirm_delivery()
        declare(self.channel)

    def purge(self, names=tuple(QUEUE_ARGUMENTS)) -> None:
        for name in names:
            self._retrying(lambda name=name: self.channel.queue_purge(name))

    def _retrying(self, action: Callable[[], object]) -> object:
        # The broker is shared: other suites close every connection on it now and then.
        # Repeating a publish is harmless here; delivery is at-least-once anyway.
        for _attempt in range(5):
            try:
                return action()
            except (pika.exceptions.AMQPConnectionError, pika.exceptions.AMQPChannelError):
                time.sleep(0.2)
                self._connect()
        return action()

    def publish(self, body: bytes, routing_key: str, message_id: str | None = None) -> None:
        self._retrying(lambda: self._publish(body, routing_key, message_id))

    def _publish(self, body: bytes, routing_key: str, message_id: str | None) -> None:
        self.channel.basic_publish(
            EXCHANGE,
            routing_key,
            body,
            pika.BasicProperties(
                content_type="application/json", delivery_mode=2, message_id=message_id
            ),
        )

    def publish_events(self, envelopes: list[Envelope]) -> None:
        for envelope in envelopes:
            self.publish(encode(envelope), routing_key_for(envelope.event_type), envelope.event_id)

    def depth(self, name: str) -> int:
        return self._retrying(
            lambda: self.channel.queue_declare(name, passive=True).method.message_count
        )

    def get_all(self, name: str) -> list[bytes]:
        bodies = []
        while True:
            method, _properties, body = self.channel.basic_get(name, auto_ack=True)
            if method is None:
                return bodies
            bodies.append(body)

    def close(self) -> None:
        if self.connection.is_open:
            self.connection.close()


@pytest.fixture(scope="session")
def broker_url() -> str:
    """RabbitMQ from TEST_BROKER_URL, else a container, else a failure saying what to start."""
    try:
        return rabbitmq_url()
    except ServiceUnavailable as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture
def rabbit(broker_url) -> Iterator[Rabbit]:
    """The dashboard's queues, declared, bound and empty before and after the test."""
    connection = Rabbit(broker_url)
    connection.purge()
    yield connection
    connection.purge()
    connection.close()

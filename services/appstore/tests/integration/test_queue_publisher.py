"""The replay's publisher into one queue, against a real RabbitMQ: only that queue gets the
messages, a missing queue fails on connect, and one deleted meanwhile fails the batch."""

from __future__ import annotations

import uuid

import pytest
from amqp.exceptions import NotFound
from kombu import Connection

from appstore.errors import PublishError
from appstore.relay.messages import OutgoingMessage
from appstore.relay.queue_publisher import QueuePublisher


@pytest.fixture
def queue(broker_url):
    """A throwaway queue; yields its name and a kombu connection to look into it."""
    name = f"test-replay-{uuid.uuid4().hex}"
    with Connection(broker_url) as connection:
        channel = connection.channel()
        channel.queue_declare(queue=name, durable=True)
        try:
            yield name, channel
        finally:
            channel.queue_delete(queue=name)


def batch(routing_key: str, count: int) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(routing_key, f'{{"n": {i}}}'.encode(), str(uuid.uuid4()))
        for i in range(count)
    ]


def test_the_named_queue_gets_the_batch_in_order(broker_url, queue):
    name, channel = queue
    with QueuePublisher(broker_url, name) as publisher:
        publisher.publish_batch(batch(name, 5))

    bodies = []
    while (message := channel.basic_get(queue=name, no_ack=True)) is not None:
        bodies.append(message.body)
        assert message.properties["delivery_mode"] == 2
    assert bodies == [f'{{"n": {i}}}' for i in range(5)]  # decoded: content_encoding utf-8


def test_a_missing_queue_fails_on_connect_and_is_not_made(broker_url, queue):
    name, channel = queue
    publisher = QueuePublisher(broker_url, f"{name}-missing")
    with pytest.raises(NotFound):
        publisher.connect()
    assert not publisher.healthy
    with pytest.raises(NotFound):
        channel.connection.channel().queue_declare(queue=f"{name}-missing", passive=True)


def test_a_queue_deleted_meanwhile_fails_the_batch(broker_url, queue):
    name, channel = queue
    with QueuePublisher(broker_url, name) as publisher:
        channel.queue_delete(queue=name)
        with pytest.raises(PublishError, match=f"returned 3 message.*{name}"):
            publisher.publish_batch(batch(name, 3))
        assert not publisher.healthy
    channel.queue_declare(queue=name, durable=True)  # for the fixture to delete

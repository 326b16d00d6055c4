"""The worker's bookkeeping of acks, and the Dramatiq internals its consumer relies on.

No broker: pika's connection is replaced by a recording fake.
"""

from __future__ import annotations

import inspect
from types import SimpleNamespace

import dramatiq
import pytest
from dramatiq.brokers import rabbitmq
from dramatiq.encoder import JSONEncoder

from dashboard.worker.bulk_ack import BulkAckConsumer, BulkAckRabbitmqBroker, Frames, Settlements
from dashboard.worker.held_acks import HoldingConsumer

# --- Settlements ----------------------------------------------------------------------------


def delivered(*tags: int) -> Settlements:
    settlements = Settlements()
    for tag in tags:
        settlements.delivered(tag)
    return settlements


def test_a_burst_settled_in_order_is_one_multiple_ack():
    settlements = delivered(1, 2, 3, 4, 5)
    for tag in (3, 1, 2):
        settlements.settle(tag, ack=True)
    assert settlements.take() == Frames(nacks=[], ack_through=3, acks=[])
    for tag in (4, 5):
        settlements.settle(tag, ack=True)
    assert settlements.take() == Frames(nacks=[], ack_through=5, acks=[])


def test_acks_after_a_delivery_still_in_work_go_singly_and_do_not_wait_for_it():
    settlements = delivered(1, 2, 3, 4)
    for tag in (1, 3, 4):
        settlements.settle(tag, ack=True)
    assert settlements.take() == Frames(nacks=[], ack_through=1, acks=[3, 4])
    settlements.settle(2, ack=True)  # the slow one: nothing after it is owed any more
    assert settlements.take() == Frames(nacks=[], ack_through=2, acks=[])


def test_a_nack_goes_first_and_no_multiple_ack_is_held_back_by_it():
    settlements = delivered(1, 2, 3)
    settlements.settle(2, ack=False)
    settlements.settle(1, ack=True)
    settlements.settle(3, ack=True)
    # The multiple ack through 3 is sent after the nack of 2, so it does not cover it.
    assert settlements.take() == Frames(nacks=[2], ack_through=3, acks=[])


def test_a_nack_of_a_delivery_never_recorded_is_sent_all_the_same():
    settlements = delivered(2)  # 1 was refused before it was ever handed on
    settlements.settle(1, ack=False)
    settlements.settle(2, ack=True)
    assert settlements.take() == Frames(nacks=[1], ack_through=2, acks=[])


def test_only_the_first_settlement_after_a_flush_asks_for_one():
    settlements = delivered(1, 2, 3)
    assert settlements.settle(1, ack=True) is True
    assert settlements.settle(2, ack=False) is False
    settlements.take()
    assert settlements.settle(3, ack=True) is True


def test_nothing_settled_sends_nothing():
    settlements = delivered(1)
    assert settlements.take() == Frames(nacks=[], ack_through=0, acks=[])


# --- Dramatiq's private consumer ------------------------------------------------------------


class FakeChannel:
    def __init__(self, deliveries) -> None:
        self.deliveries = deliveries
        self.sent: list[tuple] = []

    def basic_qos(self, prefetch_count) -> None:
        pass

    def consume(self, queue_name, inactivity_timeout):
        return iter(self.deliveries)

    def basic_ack(self, tag, multiple=False) -> None:
        self.sent.append(("ack", tag, multiple))

    def basic_nack(self, tag, requeue=True) -> None:
        self.sent.append(("nack", tag, requeue))


class FakeConnection:
    """pika's BlockingConnection as the consumer uses it; callbacks run when flushed."""

    def __init__(self, channel: FakeChannel) -> None:
        self._channel = channel
        self.callbacks: list = []

    def channel(self) -> FakeChannel:
        return self._channel

    def add_callback_threadsafe(self, callback) -> None:
        self.callbacks.append(callback)

    def run_callbacks(self) -> None:
        callbacks, self.callbacks = self.callbacks, []
        for callback in callbacks:
            callback()


def delivery(tag: int, body: bytes):
    return SimpleNamespace(delivery_tag=tag, redelivered=False), None, body


@pytest.fixture
def json_encoder():
    previous = dramatiq.get_encoder()
    dramatiq.set_encoder(JSONEncoder())
    yield
    dramatiq.set_encoder(previous)


@pytest.fixture
def consumer_on(monkeypatch, json_encoder):
    """A BulkAckConsumer over the given deliveries, and its fake connection."""

    def make(*deliveries):
        connection = FakeConnection(FakeChannel(list(deliveries)))
        monkeypatch.setattr(rabbitmq.pika, "BlockingConnection", lambda parameters: connection)
        broker = SimpleNamespace(parameters=None, queues_pending=set())
        return BulkAckConsumer(broker, "dashboard.events", 10, 1000), connection

    return make


def body(message_id: str) -> bytes:
    return dramatiq.Message(
        queue_name="dashboard.events",
        actor_name="fold_event",
        args=(),
        kwargs={},
        options={},
        message_id=message_id,
    ).encode()


def test_the_private_consumer_has_the_shape_the_bulk_ack_consumer_relies_on():
    # Pinned in pyproject.toml; an upgrade that moves any of these must fail here first.
    consumer_class = rabbitmq._RabbitmqConsumer
    assert issubclass(BulkAckConsumer, consumer_class)
    assert BulkAckRabbitmqBroker(url="amqp://127.0.0.1:1/").consumer_class is BulkAckConsumer
    assert list(inspect.signature(consumer_class.__init__).parameters) == [
        "self",
        "broker",
        "queue_name",
        "prefetch",
        "timeout",
    ]
    assert list(inspect.signature(consumer_class.ack).parameters) == ["self", "message"]
    assert list(inspect.signature(consumer_class.nack).parameters) == ["self", "message"]
    assert list(inspect.signature(consumer_class._nack).parameters) == ["self", "tag"]
    assert callable(consumer_class.__next__)


def test_the_consumer_keeps_its_connection_channel_and_known_tags(consumer_on):
    consumer, connection = consumer_on()

    assert consumer.connection is connection
    assert consumer.channel is connection.channel()
    assert consumer.known_tags == set()


def test_a_delivered_message_carries_its_tag_and_acks_in_bulk(consumer_on):
    consumer, connection = consumer_on(delivery(1, body("a")), delivery(2, body("b")))

    first, second = next(consumer), next(consumer)

    assert (first._tag, second._tag) == (1, 2)
    assert consumer.known_tags == {1, 2}
    consumer.ack(second)
    consumer.ack(first)
    assert consumer.known_tags == set()
    assert len(connection.callbacks) == 1  # one flush for both
    connection.run_callbacks()
    assert connection.channel().sent == [("ack", 2, True)]


def test_a_nack_and_an_undecodable_body_both_reach_the_settlements(consumer_on):
    consumer, connection = consumer_on(delivery(1, b"not json"), delivery(2, body("b")))

    assert next(consumer) is None  # Dramatiq nacks it itself, through _nack
    message = next(consumer)
    consumer.nack(message)
    connection.run_callbacks()

    assert connection.channel().sent == [("nack", 1, False), ("nack", 2, False)]
    assert consumer.known_tags == set()


def test_a_held_ack_sends_no_frame_until_its_batch_is_released(consumer_on):
    bulk, connection = consumer_on(delivery(1, body("a")), delivery(2, body("b")))
    consumer = HoldingConsumer(bulk)
    first, second = next(consumer), next(consumer)
    releases = [message.hold.engage(lambda message: None) for message in (first, second)]

    consumer.ack(first)
    consumer.ack(second)
    connection.run_callbacks()
    assert connection.channel().sent == []

    for release in releases:
        release(None)
    connection.run_callbacks()
    assert connection.channel().sent == [("ack", 2, True)]

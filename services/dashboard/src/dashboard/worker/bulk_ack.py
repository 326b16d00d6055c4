"""Acking a folded batch's messages together: one ``basic.ack`` frame instead of one each.

:class:`BulkAckConsumer` subclasses Dramatiq 2.x's private RabbitMQ consumer: it relies on
``_RabbitmqConsumer``'s ``connection``, ``channel`` and ``known_tags`` and on the
``_tag`` of its messages. ``pyproject.toml`` pins the Dramatiq releases this was tested
with, and ``tests/unit/test_worker_bulk_ack.py`` fails should an upgrade move them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pika
from dramatiq.brokers.rabbitmq import RabbitmqBroker, _RabbitmqConsumer
from dramatiq.errors import ConnectionClosed

from dashboard.worker import properties as amqp_properties


@dataclass(frozen=True)
class Frames:
    """What one flush sends: nacks first, then one multiple ack, then single acks."""

    nacks: list[int]
    ack_through: int  # 0: none; else every delivery up to this tag, with multiple=True
    acks: list[int]


class Settlements:
    """The acks and nacks owed on one channel, and the fewest frames that send them.

    Deliveries are recorded in the order they arrive (their tags grow); each is settled
    once, by an ack or a nack, from any thread. :meth:`take` hands over what was settled
    since the last call: the nacks, one by one (no multiple ack may cover a message meant
    for the dead-letter queue, and the broker refuses a nack for a delivery already acked,
    so they go first); one multiple ack for every settled delivery older than the oldest
    one still in work; and single acks for the settled ones after it, so that a message
    held long (a retry waiting in the delay queue) holds back no other ack.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._outstanding: dict[int, None] = {}  # delivered, not settled; in tag order
        self._acked: set[int] = set()
        self._nacked: list[int] = []
        self._flush_due = False

    def delivered(self, tag: int) -> None:
        with self._lock:
            self._outstanding[tag] = None

    def settle(self, tag: int, *, ack: bool) -> bool:
        """Record an ack or a nack; return True when a flush must be scheduled for it."""
        with self._lock:
            if ack:
                self._acked.add(tag)
            else:
                self._nacked.append(tag)
                self._outstanding.pop(tag, None)
            if self._flush_due:
                return False  # the flush already scheduled will send this one too
            self._flush_due = True
            return True

    def take(self) -> Frames:
        """What to send now; what is settled from here on needs another flush."""
        with self._lock:
            self._flush_due = False
            nacks, self._nacked = self._nacked, []
            acked, self._acked = self._acked, set()
            through = 0
            for tag in self._outstanding:
                if tag not in acked:
                    break
                through = tag
            for tag in acked:
                self._outstanding.pop(tag, None)
        return Frames(nacks, through, sorted(tag for tag in acked if tag > through))


class BulkAckConsumer(_RabbitmqConsumer):
    """Dramatiq's RabbitMQ consumer, acking a burst of messages with one frame.

    Dramatiq acks each message by itself: a wake-up of the connection's thread and an ack
    frame that the broker handles on its own, costing both sides about as much as the
    delivery did. The batcher lets a whole batch's actors return at once, so here their
    acks are gathered (:class:`Settlements`) and sent by one call on the connection's
    thread, mostly as a single ``basic.ack`` with ``multiple`` set.
    """

    def __init__(self, broker, queue_name, prefetch, timeout) -> None:
        self._settlements = Settlements()
        self._delivery = None  # (method, properties) of the delivery being decoded
        super().__init__(broker, queue_name, prefetch, timeout)
        self.iterator = self._noting(self.iterator)

    def _noting(self, deliveries):
        # Dramatiq's __next__ keeps only the body; the properties are noted on the way.
        for method, properties, body in deliveries:
            self._delivery = (method, properties)
            yield method, properties, body

    def __next__(self):
        message = super().__next__()
        if message is not None:
            self._settlements.delivered(message._tag)
            if self._delivery is not None:
                amqp_properties.record(message, *self._delivery)
        return message

    def ack(self, message) -> None:
        try:
            self.known_tags.remove(message._tag)
        except KeyError:  # delivered on a connection that has since been replaced
            self.logger.warning("Failed to ack message: not in known tags.")
            return
        self._settle(message._tag, ack=True)

    def _nack(self, tag: int) -> None:
        # Dramatiq's nack() and its path for undecodable bodies both end here.
        self._settle(tag, ack=False)

    def _settle(self, tag: int, *, ack: bool) -> None:
        if not self._settlements.settle(tag, ack=ack):
            return
        try:
            self.connection.add_callback_threadsafe(self._flush)
        except (pika.exceptions.AMQPConnectionError, pika.exceptions.AMQPChannelError) as e:
            raise ConnectionClosed(e) from None

    def _flush(self) -> None:
        # On the connection's thread, as pika requires.
        frames = self._settlements.take()
        for tag in frames.nacks:
            self.channel.basic_nack(tag, requeue=False)
        if frames.ack_through:
            self.channel.basic_ack(frames.ack_through, multiple=True)
        for tag in frames.acks:
            self.channel.basic_ack(tag)


class BulkAckRabbitmqBroker(RabbitmqBroker):
    """Dramatiq's RabbitMQ broker with :class:`BulkAckConsumer` as its consumer."""

    @property
    def consumer_class(self):
        return BulkAckConsumer

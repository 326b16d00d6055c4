"""The worker's composition root: broker, middleware and the folding actor.

On RabbitMQ the broker is Dramatiq's, with a consumer that acks the messages of a folded
batch together (:class:`BulkAckConsumer`) instead of one frame per message.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dramatiq
import pika
from dramatiq.brokers.rabbitmq import RabbitmqBroker, _RabbitmqConsumer
from dramatiq.brokers.stub import StubBroker
from dramatiq.errors import ConnectionClosed
from dramatiq.middleware import Retries, TimeLimit

from appstore_events import Envelope, decode
from dashboard.config import EMBEDDED_BROKER_URL, Settings
from dashboard.fold import FoldResult, fold
from dashboard.fold.plan import check_foldable
from dashboard.worker.batcher import Batcher
from dashboard.worker.dead_letters import DeadLetters
from dashboard.worker.encoder import EnvelopeEncoder
from dashboard.worker.retry_policy import should_retry
from dashboard.worker.topology import FOLD_ACTOR, QUEUE
from sqlstore import Database

#: Seconds an actor waits for its batch to commit before it gives up (and is retried).
FOLD_WAIT_SECONDS = 120
# Dramatiq's own limit is a backstop above the wait, not the usual way out.
TIME_LIMIT_MS = (FOLD_WAIT_SECONDS + 60) * 1000
# Backoff while the database is down: 1 s doubling to at most a minute, retried forever.
MIN_BACKOFF_MS = 1_000
MAX_BACKOFF_MS = 60_000
#: The most events folded in one transaction, unless DASHBOARD_FOLD_BATCH_MAX says otherwise.
MAX_BATCH = 500
BATCH_MAX_VARIABLE = "DASHBOARD_FOLD_BATCH_MAX"
LINGER_SECONDS = 0.005


def fold_batch_max(environ: Mapping[str, str] = os.environ) -> int:
    """The most events per fold transaction, from ``DASHBOARD_FOLD_BATCH_MAX``.

    Unset or empty gives :data:`MAX_BATCH`; ``1`` folds each event in a transaction of its
    own (the baseline the benchmarks compare batching against).

    Raises:
        ValueError: the value is not a positive integer.
    """
    raw = environ.get(BATCH_MAX_VARIABLE, "").strip()
    if not raw:
        return MAX_BATCH
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{BATCH_MAX_VARIABLE} must be a positive integer, got {raw!r}")
    return value


class Folding:
    """Per-process state of the folding actor: the database and the batcher.

    Both are made on first use, in the worker process: Dramatiq imports the broker module
    before it forks, and engines and threads must not cross a fork.
    """

    def __init__(
        self, settings: Settings, *, pool_size: int = 2, batch_max: int = MAX_BATCH
    ) -> None:
        self._settings = settings
        self._pool_size = pool_size
        self._batch_max = batch_max
        self._lock = threading.Lock()
        self._database: Database | None = None
        self._batcher: Batcher | None = None

    @property
    def database(self) -> Database:
        with self._lock:
            if self._database is None:
                self._database = Database(self._settings.database_url, self._pool_size)
            return self._database

    @property
    def batcher(self) -> Batcher:
        database = self.database
        with self._lock:
            if self._batcher is None:
                from dashboard.worker.metrics import record_fold

                def fold_batch(envelopes: Sequence[Envelope]) -> FoldResult:
                    with database.transaction() as session:
                        return fold(session, envelopes)

                self._batcher = Batcher(
                    fold_batch,
                    max_size=self._batch_max,
                    linger=LINGER_SECONDS,
                    on_folded=record_fold,
                )
            return self._batcher

    def fold_event(self, argument: Any) -> None:
        """The actor: decode one message's envelope and wait until its batch committed.

        Raises:
            EventError, UnfoldableEvent: never retried; the message is dead-lettered.
            FoldTimeout, SQLAlchemy errors: retried with backoff while transient.
        """
        envelope = decode(argument)
        # Checked here, alone, so that an event with no fold never enters a batch.
        check_foldable([envelope])
        self.batcher.submit(envelope, timeout=FOLD_WAIT_SECONDS)


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
        super().__init__(broker, queue_name, prefetch, timeout)
        # Dramatiq 2.x's consumer owns its connection and channel. Should a later version
        # lay it out otherwise, this consumer acks exactly as Dramatiq's own does.
        self._bulk = isinstance(getattr(self, "connection", None), pika.BlockingConnection)
        if not self._bulk:
            self.logger.warning("Dramatiq's consumer has changed: acking one by one.")

    def __next__(self):
        message = super().__next__()
        if message is not None and self._bulk:
            self._settlements.delivered(message._tag)
        return message

    def ack(self, message) -> None:
        if not self._bulk:
            super().ack(message)
            return
        try:
            self.known_tags.remove(message._tag)
        except KeyError:  # delivered on a connection that has since been replaced
            self.logger.warning("Failed to ack message: not in known tags.")
            return
        self._settle(message._tag, ack=True)

    def _nack(self, tag: int) -> None:
        # Dramatiq's nack() and its path for undecodable bodies both end here.
        if not self._bulk:
            super()._nack(tag)
            return
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


def build_broker(settings: Settings) -> dramatiq.Broker:
    """Build the worker's broker from settings, set it as Dramatiq's, declare the actor.

    Nothing connects here: RabbitMQ when the worker starts consuming, the database on
    the first message. ``DASHBOARD_FOLD_BATCH_MAX`` is read here, so a bad value stops
    the worker before it consumes anything.

    Parameters:
        settings: ``broker_url`` ``memory://`` gives Dramatiq's in-process stub broker
            (tests); otherwise a RabbitMQ URL.

    Returns:
        The broker, with the folding actor on queue ``dashboard.events``.

    Raises:
        ValueError: ``DASHBOARD_FOLD_BATCH_MAX`` is not a positive integer.
    """
    from dashboard.worker.metrics import DEAD_LETTER_STORE_FAILURES, DEAD_LETTERED

    folding = Folding(settings, batch_max=fold_batch_max())
    middleware = [
        # Before Retries: after_* hooks run in reverse, and this needs Retries' verdict.
        DeadLetters(lambda: folding.database, DEAD_LETTERED, DEAD_LETTER_STORE_FAILURES),
        TimeLimit(time_limit=TIME_LIMIT_MS),
        Retries(retry_when=should_retry, min_backoff=MIN_BACKOFF_MS, max_backoff=MAX_BACKOFF_MS),
    ]
    if settings.broker_url == EMBEDDED_BROKER_URL:
        broker: dramatiq.Broker = StubBroker(middleware=middleware)
    else:
        # Confirms: a retry published to the delay queue is on disk before the original
        # is acked.
        broker = BulkAckRabbitmqBroker(
            url=settings.broker_url, confirm_delivery=True, middleware=middleware
        )
    dramatiq.set_encoder(EnvelopeEncoder())
    dramatiq.set_broker(broker)
    dramatiq.actor(folding.fold_event, broker=broker, actor_name=FOLD_ACTOR, queue_name=QUEUE)
    broker.folding = folding  # type: ignore[attr-defined]  # for tests and the CLI
    return broker

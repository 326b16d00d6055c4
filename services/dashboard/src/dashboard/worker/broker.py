"""The worker's composition root: broker, middleware and the folding actor."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker
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
MAX_BATCH = 500
LINGER_SECONDS = 0.005


class Folding:
    """Per-process state of the folding actor: the database and the batcher.

    Both are made on first use, in the worker process: Dramatiq imports the broker module
    before it forks, and engines and threads must not cross a fork.
    """

    def __init__(self, settings: Settings, *, pool_size: int = 2) -> None:
        self._settings = settings
        self._pool_size = pool_size
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
                    fold_batch, max_size=MAX_BATCH, linger=LINGER_SECONDS, on_folded=record_fold
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


def build_broker(settings: Settings) -> dramatiq.Broker:
    """Build the worker's broker from settings, set it as Dramatiq's, declare the actor.

    Nothing connects here: RabbitMQ when the worker starts consuming, the database on
    the first message.

    Parameters:
        settings: ``broker_url`` ``memory://`` gives Dramatiq's in-process stub broker
            (tests); otherwise a RabbitMQ URL.

    Returns:
        The broker, with the folding actor on queue ``dashboard.events``.
    """
    from dashboard.worker.metrics import DEAD_LETTER_STORE_FAILURES, DEAD_LETTERED

    folding = Folding(settings)
    middleware = [
        # Before Retries: after_* hooks run in reverse, and this needs Retries' verdict.
        DeadLetters(lambda: folding.database, DEAD_LETTERED, DEAD_LETTER_STORE_FAILURES),
        TimeLimit(time_limit=TIME_LIMIT_MS),
        Retries(retry_when=should_retry, min_backoff=MIN_BACKOFF_MS, max_backoff=MAX_BACKOFF_MS),
    ]
    if settings.broker_url == EMBEDDED_BROKER_URL:
        broker: dramatiq.Broker = StubBroker(middleware=middleware)
    else:
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        # Confirms: a retry published to the delay queue is on disk before the original
        # is acked.
        broker = RabbitmqBroker(
            url=settings.broker_url, confirm_delivery=True, middleware=middleware
        )
    dramatiq.set_encoder(EnvelopeEncoder())
    dramatiq.set_broker(broker)
    dramatiq.actor(folding.fold_event, broker=broker, actor_name=FOLD_ACTOR, queue_name=QUEUE)
    broker.folding = folding  # type: ignore[attr-defined]  # for tests and the CLI
    return broker

"""The worker's composition root: broker, middleware and the folding actor.

On RabbitMQ the broker is Dramatiq's, with quorum queues (:mod:`dashboard.worker.topology`)
and a consumer that holds each message's ack until its batch has committed
(:mod:`dashboard.worker.held_acks`), then acks the messages of the batch together
(:mod:`dashboard.worker.bulk_ack`) instead of one frame per message. Without RabbitMQ it
is Dramatiq's in-process broker, with the same held acks.
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage, Retries

from dashboard.config import EMBEDDED_BROKER_URL, Settings
from dashboard.rabbitmq import WORKER_CONNECTION_NAME, name_connections, node_urls
from dashboard.worker.actor import Folding
from dashboard.worker.bulk_ack import BulkAckRabbitmqBroker
from dashboard.worker.dead_letters import DeadLetters
from dashboard.worker.encoder import EnvelopeEncoder
from dashboard.worker.heap import SettledHeap
from dashboard.worker.held_acks import HoldingBroker
from dashboard.worker.retry_policy import should_retry
from dashboard.worker.signals import DirectSignals
from dashboard.worker.topology import FOLD_ACTOR, QUEUE, QuorumQueues

# Backoff while the database is down: 1 s doubling to at most a minute, retried forever.
MIN_BACKOFF_MS = 1_000
MAX_BACKOFF_MS = 60_000


class WorkerBroker(DirectSignals, HoldingBroker, QuorumQueues, BulkAckRabbitmqBroker):
    """Dramatiq's RabbitMQ broker as the worker runs it: quorum queues, held acks sent in
    bulk, middleware signals sent only where handled (:mod:`dashboard.worker.signals`).

    ``url`` may name several nodes (``amqp://...;amqp://...``): Dramatiq connects to the
    first that answers, and its consumers reconnect to another when theirs is lost. Its
    connections are named ``dashboard-worker`` where RabbitMQ lists them.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        name_connections(self.parameters, WORKER_CONNECTION_NAME)


class EmbeddedBroker(DirectSignals, HoldingBroker, StubBroker):
    """Dramatiq's in-process broker, with held acks: the worker without RabbitMQ."""


def build_broker(settings: Settings) -> dramatiq.Broker:
    """Build the worker's broker from settings, set it as Dramatiq's, declare the actor.

    Nothing connects here: RabbitMQ when the worker starts consuming, the database on
    the first message.

    Parameters:
        settings: ``broker_url`` ``memory://`` gives Dramatiq's in-process stub broker
            (tests); otherwise a RabbitMQ URL. ``fold_batch_max`` bounds each batch.

    Returns:
        The broker, with the folding actor on queue ``dashboard.events``.
    """
    from dashboard.worker.metrics import DEAD_LETTER_STORE_FAILURES, DEAD_LETTERED

    folding = Folding(settings)
    middleware = [
        SettledHeap(),
        CurrentMessage(),
        folding.held_acks,
        # Before Retries: after_* hooks run in reverse, and this needs Retries' verdict.
        DeadLetters(lambda: folding.database, DEAD_LETTERED, DEAD_LETTER_STORE_FAILURES),
        Retries(retry_when=should_retry, min_backoff=MIN_BACKOFF_MS, max_backoff=MAX_BACKOFF_MS),
    ]
    if settings.broker_url == EMBEDDED_BROKER_URL:
        broker: dramatiq.Broker = EmbeddedBroker(middleware=middleware)
    else:
        # Confirms: a retry published to the delay queue is on disk before the original
        # is acked.
        # As a list: Dramatiq would split a string on ';' but keep the spaces around a URL.
        broker = WorkerBroker(
            url=node_urls(settings.broker_url), confirm_delivery=True, middleware=middleware
        )
    dramatiq.set_encoder(EnvelopeEncoder())
    dramatiq.set_broker(broker)
    dramatiq.actor(folding.fold_event, broker=broker, actor_name=FOLD_ACTOR, queue_name=QUEUE)
    broker.folding = folding  # type: ignore[attr-defined]  # for tests and the launcher
    return broker

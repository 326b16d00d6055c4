"""The worker on the embedded default: Dramatiq's in-process broker, fed from the event log.

With no RabbitMQ (``BROKER_URL`` unset, ``memory://``) the Appstore's relay reaches no other
process: it only numbers the outbox. So this worker follows the Appstore's event log over
HTTP (``GET /api/v1/events/``, the service account) and enqueues each envelope on Dramatiq's
:class:`~dramatiq.brokers.stub.StubBroker`, where the same actor, batcher, retries and
dead-letter handling as on RabbitMQ fold it. The follower starts from the highest
contiguous sequence folded, so a restart re-reads at most what was in flight, and the fold's
dedupe makes that harmless.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

import dramatiq
from dramatiq import Message

from dashboard.appstore_client import AppstoreClient
from dashboard.config import Settings
from dashboard.errors import AppstoreUnavailable
from dashboard.sync import contiguous_position
from dashboard.worker.bootstrap import build_broker
from dashboard.worker.encoder import EnvelopeEncoder
from dashboard.worker.topology import QUEUE
from servicekit.backoff import Backoff, sleep_unless_stopped

#: Seconds between looks at the log when the last look found nothing new.
POLL_SECONDS = 0.2
#: Events read per request, and the most left unfolded in the in-process queue.
PAGE_SIZE = 1000
MAX_QUEUED = 5000
#: Seconds between reads of an event log that cannot be read: doubling up to the maximum.
RETRY_INITIAL_SECONDS = 1.0
RETRY_MAX_SECONDS = 5.0

log = logging.getLogger("dashboard.worker.embedded")


def run(settings: Settings, threads: int, should_stop: Callable[[], bool]) -> None:
    """Fold the Appstore's log as it grows, until ``should_stop()`` is true.

    Parameters:
        settings: needs the service account (``DASHBOARD_SERVICE_USERNAME``/``_PASSWORD``).
        threads: worker threads; as on RabbitMQ, a batch holds one event per thread.
    """
    broker = build_broker(settings)
    worker = dramatiq.Worker(broker, worker_threads=threads)
    worker.start()
    client = AppstoreClient(
        settings.appstore_url, settings.service_username, settings.service_password
    )
    try:
        _follow(broker, client, contiguous_position(broker.folding.database), should_stop)
    finally:
        worker.stop()
        broker.close()
        client.close()


def _follow(broker, client: AppstoreClient, position: int, should_stop) -> None:
    encoder = EnvelopeEncoder()
    queue = broker.queues[QUEUE]
    retry = Backoff(RETRY_INITIAL_SECONDS, RETRY_MAX_SECONDS)
    failing = False
    while not should_stop():
        if queue.qsize() >= MAX_QUEUED:  # the folds are behind: let them catch up
            sleep_unless_stopped(POLL_SECONDS, should_stop)
            continue
        try:
            page = client.events(after=position, limit=PAGE_SIZE)
        except AppstoreUnavailable as error:
            if not failing:
                failing = True
                log.warning("cannot read the Appstore's event log, retrying: %s", error)
            sleep_unless_stopped(retry.next_delay(), should_stop)
            continue
        if failing:
            log.info("reading the Appstore's event log again")
            failing = False
            retry.reset()
        for raw in page:
            # The same mapping a RabbitMQ body gets, so a malformed envelope is
            # dead-lettered here exactly as it would be there.
            body = json.dumps(raw, separators=(",", ":")).encode("utf-8")
            broker.enqueue(Message(**encoder.decode(body)))
        if page:
            position = page[-1]["sequence"]
        if len(page) < PAGE_SIZE:
            sleep_unless_stopped(POLL_SECONDS, should_stop)


def stop_on_signals() -> Callable[[], bool]:
    """Return a ``should_stop`` that turns true on SIGINT or SIGTERM."""
    import signal

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop.is_set

"""Dramatiq's entry module for the floor of ``bench/pipeline.py``: the Dashboard worker's
broker (without its held acks, which only the fold needs), encoder, queue and prefetch,
with an actor that does nothing.

Run as ``dramatiq dramatiq_floor`` (with this directory on ``PYTHONPATH``) and
``BROKER_URL`` set. Each process writes how many messages it has handled to
``$FLOOR_COUNTS_DIR/<pid>`` every few milliseconds, so the benchmark knows when every
message has been handled, not merely delivered.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import dramatiq
from dramatiq import Middleware

from dashboard.config import DEFAULT_FOLD_BATCH_MAX
from dashboard.worker.actor import PREFETCH_BATCHES
from dashboard.worker.bulk_ack import BulkAckRabbitmqBroker
from dashboard.worker.encoder import EnvelopeEncoder
from dashboard.worker.topology import FOLD_ACTOR, QUEUE, QuorumQueues

WRITE_INTERVAL = 0.02


class FloorBroker(QuorumQueues, BulkAckRabbitmqBroker):
    """The worker's broker, quorum queues and bulk acks, without held acks."""


class Prefetch(Middleware):
    """The prefetch the worker has at its default settings, not Dramatiq's default."""

    def before_worker_boot(self, broker, worker) -> None:
        worker.queue_prefetch = PREFETCH_BATCHES * DEFAULT_FOLD_BATCH_MAX


broker = FloorBroker(url=os.environ["BROKER_URL"], confirm_delivery=True, middleware=[Prefetch()])
dramatiq.set_encoder(EnvelopeEncoder())
dramatiq.set_broker(broker)

_lock = threading.Lock()
_handled = 0
_writer: threading.Thread | None = None


def _write_counts() -> None:
    target = Path(os.environ["FLOOR_COUNTS_DIR"]) / str(os.getpid())
    while True:
        target.write_text(str(_handled))
        time.sleep(WRITE_INTERVAL)


@dramatiq.actor(actor_name=FOLD_ACTOR, queue_name=QUEUE)
def fold_event(argument) -> None:
    global _handled, _writer
    with _lock:
        _handled += 1
        if _writer is None:  # started in the forked process, on its first message
            _writer = threading.Thread(target=_write_counts, daemon=True)
            _writer.start()

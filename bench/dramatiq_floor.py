"""Dramatiq's entry module for the floor of ``bench/pipeline.py``: the Dashboard worker's
broker, encoder and queue, with an actor that does nothing.

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

from dashboard.worker.bootstrap import WorkerBroker
from dashboard.worker.encoder import EnvelopeEncoder
from dashboard.worker.topology import FOLD_ACTOR, QUEUE

WRITE_INTERVAL = 0.02

broker = WorkerBroker(url=os.environ["BROKER_URL"], confirm_delivery=True, middleware=[])
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

"""The worker's heap, frozen as the worker boots."""

from __future__ import annotations

import dataclasses
import gc
import weakref

import dramatiq

from dashboard.config import EMBEDDED_BROKER_URL, Settings
from dashboard.worker.bootstrap import build_broker
from dashboard.worker.heap import SettledHeap


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_booting_collects_the_garbage_then_freezes_what_is_alive():
    gc.unfreeze()
    garbage = Cycle()
    collected = weakref.ref(garbage)
    del garbage  # only the collector frees a cycle
    assert collected() is not None
    try:
        SettledHeap().before_worker_boot(None, None)
        assert collected() is None  # not frozen with the rest
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_the_worker_boots_with_its_heap_frozen():
    settings = dataclasses.replace(Settings.from_env(), broker_url=EMBEDDED_BROKER_URL)
    broker = build_broker(settings)
    worker = dramatiq.Worker(broker, worker_threads=1)
    gc.unfreeze()
    worker.start()
    try:
        assert gc.get_freeze_count() > 0
    finally:
        worker.stop()
        broker.close()
        gc.unfreeze()

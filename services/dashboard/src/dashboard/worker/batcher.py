"""Folding the events of a worker process together, in one transaction per batch.

Dramatiq has no batch actor: each message is one actor call on one of the process's
worker threads. Each call hands its envelope to the process's :class:`Batcher` with a
``release`` callback and returns at once; the batcher's one thread folds whatever has
been handed to it in one transaction, commits, and only then calls the ``release`` of
every envelope of the batch, with ``None``, or with the error if nothing of the batch was
committed. The folding actor's ``release`` lets go of its message's ack
(:mod:`dashboard.worker.held_acks`), so nothing is acked that a crash could lose, and a
message redelivered after a crash between commit and ack is a duplicate that
:func:`dashboard.fold.fold` skips.

No thread waits for a commit, so a batch grows as large as ``max_size`` whatever the
number of worker threads: how many messages are in flight is bounded by the consumer's
prefetch, not by the threads.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence

from appstore_events import Envelope
from dashboard.fold import FoldResult, UnfoldableEvent

logger = logging.getLogger(__name__)

#: Folds and commits a batch; raises if nothing was committed.
FoldBatch = Callable[[Sequence[Envelope]], FoldResult]
#: Told about each committed batch: its size, the result and the seconds the fold took.
OnFolded = Callable[[int, FoldResult, float], None]
#: Called once per envelope when its batch is done: ``None`` once committed, else the
#: error that kept it from being committed.
Release = Callable[[BaseException | None], None]

_Item = tuple[Envelope, Release]


class Batcher:
    """Collects envelopes from many threads and folds them in batches on one thread.

    Parameters:
        fold_batch: folds a batch in one transaction and commits it.
        max_size: the most envelopes in one batch.
        linger: seconds to wait for more envelopes after the first of a batch arrives.
        on_folded: called after each commit (metrics); its errors are logged, not raised.
    """

    def __init__(
        self,
        fold_batch: FoldBatch,
        *,
        max_size: int = 500,
        linger: float = 0.01,
        on_folded: OnFolded | None = None,
    ) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self._fold_batch = fold_batch
        self._max_size = max_size
        self._linger = linger
        self._on_folded = on_folded
        self._incoming: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def add(self, envelope: Envelope, release: Release) -> None:
        """Fold ``envelope`` with whatever else is waiting; return at once.

        ``release`` is called on the batcher's thread once the batch holding the envelope
        is done: with ``None`` after its commit; with :class:`UnfoldableEvent` if this
        envelope can never be folded (the rest of its batch was); with whatever the fold
        of its batch raised if nothing of it was committed. Its own errors are logged.
        """
        if self._thread is None:
            self._start()
        self._incoming.put((envelope, release))

    def stop(self) -> None:
        """Fold everything added so far, then end the folding thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._incoming.put(None)
            thread.join()

    def _start(self) -> None:
        # Started on first use, not in __init__: Dramatiq forks worker processes, and a
        # thread started before the fork would not exist in the child.
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="dashboard-batcher", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = self._collect()
            if batch is None:
                return
            self._fold(batch)

    def _collect(self) -> list[_Item] | None:
        first = self._incoming.get()
        if first is None:
            return None
        batch = [first]
        deadline = time.monotonic() + self._linger
        while len(batch) < self._max_size:
            remaining = deadline - time.monotonic()
            try:
                # Whatever is already queued joins at once; after the linger, nothing waits.
                item = (
                    self._incoming.get(timeout=remaining)
                    if remaining > 0
                    else self._incoming.get_nowait()
                )
            except queue.Empty:
                break
            if item is None:
                self._incoming.put(None)  # stop after this batch
                break
            batch.append(item)
        return batch

    def _fold(self, batch: list[_Item]) -> None:
        try:
            self._fold_and_release(batch)
        except UnfoldableEvent:
            # One bad envelope must not fail its neighbours: fold each on its own, so
            # only the unfoldable ones get the error.
            for item in batch:
                self._fold_and_release([item], isolated=True)
        except BaseException as error:
            logger.warning("fold of a batch of %d failed: %r", len(batch), error)
            _release(batch, error)

    def _fold_and_release(self, batch: list[_Item], *, isolated: bool = False) -> None:
        started = time.perf_counter()
        try:
            result = self._fold_batch([envelope for envelope, _release in batch])
        except BaseException as error:
            if not isolated:
                raise
            _release(batch, error)
            return
        elapsed = time.perf_counter() - started
        _release(batch, None)
        if self._on_folded is not None:
            try:
                self._on_folded(len(batch), result, elapsed)
            except Exception:
                logger.exception("reporting a folded batch failed")


def _release(batch: list[_Item], error: BaseException | None) -> None:
    for _envelope, release in batch:
        try:
            release(error)
        except Exception:
            logger.exception("releasing a folded envelope failed")

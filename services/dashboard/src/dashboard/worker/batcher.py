"""Folding the events of all worker threads of a process together, in one transaction.

Dramatiq has no batch actor: each message is one actor call on one of the process's
worker threads. Each call hands its envelope to the process's :class:`Batcher` and waits
until the batch holding it has been folded **and committed**; only then does the actor
return and Dramatiq ack the message. So nothing is acked that a crash could lose, and a
message redelivered after a crash between commit and ack is a duplicate that
:func:`dashboard.fold.fold` skips.

A batch holds at most one envelope per waiting worker thread, so batches only grow as
large as the worker has threads: ``dashboard worker`` defaults to 256 threads for that
reason (the threads mostly wait; they cost little).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence

from appstore_events import Envelope
from dashboard.errors import FoldTimeout
from dashboard.fold import FoldResult, UnfoldableEvent

logger = logging.getLogger(__name__)

#: Folds and commits a batch; raises if nothing was committed.
FoldBatch = Callable[[Sequence[Envelope]], FoldResult]
#: Told about each committed batch: its size, the result and the seconds the fold took.
OnFolded = Callable[[int, FoldResult, float], None]


class _Waiter:
    """One submitted envelope and its latch: a lock taken at the start and released, by
    the folding thread, when the envelope's batch is done.

    A bare lock rather than a :class:`threading.Event`: a batch wakes hundreds of waiting
    threads at once, and an Event's condition makes each of them take one more lock, all
    the same one, on its way out.
    """

    __slots__ = ("_latch", "envelope", "error")

    def __init__(self, envelope: Envelope) -> None:
        self.envelope = envelope
        self.error: BaseException | None = None
        self._latch = threading.Lock()
        self._latch.acquire()

    def release(self, error: BaseException | None = None) -> None:
        self.error = error
        if self._latch.locked():  # a second release (a failure while releasing) is a no-op
            self._latch.release()

    def wait(self, timeout: float | None) -> bool:
        """Return True once released, False if ``timeout`` seconds passed first."""
        return self._latch.acquire(timeout=-1 if timeout is None else timeout)


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
        self._incoming: queue.SimpleQueue[_Waiter | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, envelope: Envelope, timeout: float | None = None) -> None:
        """Fold ``envelope`` with whatever else is waiting; return once committed.

        Raises:
            FoldTimeout: not committed within ``timeout`` seconds.
            UnfoldableEvent: this envelope can never be folded (the rest of its batch was).
            Exception: whatever the fold of its batch raised (nothing of it committed).
        """
        self._ensure_started()
        waiter = _Waiter(envelope)
        self._incoming.put(waiter)
        if not waiter.wait(timeout):
            raise FoldTimeout(f"event {envelope.event_id} not folded within {timeout} s")
        if waiter.error is not None:
            raise waiter.error

    def stop(self) -> None:
        """Let the folding thread finish the batch in hand and end."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._incoming.put(None)
            thread.join()

    def _ensure_started(self) -> None:
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

    def _collect(self) -> list[_Waiter] | None:
        first = self._incoming.get()
        if first is None:
            return None
        batch = [first]
        deadline = time.monotonic() + self._linger
        while len(batch) < self._max_size:
            remaining = deadline - time.monotonic()
            try:
                # Whatever is already queued joins at once; after the linger, nothing waits.
                waiter = (
                    self._incoming.get(timeout=remaining)
                    if remaining > 0
                    else (self._incoming.get_nowait())
                )
            except queue.Empty:
                break
            if waiter is None:
                self._incoming.put(None)  # stop after this batch
                break
            batch.append(waiter)
        return batch

    def _fold(self, batch: list[_Waiter]) -> None:
        try:
            self._fold_and_release(batch)
        except UnfoldableEvent:
            # One bad envelope must not fail its neighbours: fold each on its own, so
            # only the unfoldable ones get the error.
            for waiter in batch:
                self._fold_and_release([waiter], isolated=True)
        except BaseException as error:
            logger.warning("fold of a batch of %d failed: %r", len(batch), error)
            for waiter in batch:
                waiter.release(error)

    def _fold_and_release(self, batch: list[_Waiter], *, isolated: bool = False) -> None:
        started = time.perf_counter()
        try:
            result = self._fold_batch([waiter.envelope for waiter in batch])
        except BaseException as error:
            if not isolated:
                raise
            batch[0].release(error)
            return
        elapsed = time.perf_counter() - started
        for waiter in batch:
            waiter.release()
        if self._on_folded is not None:
            try:
                self._on_folded(len(batch), result, elapsed)
            except Exception:
                logger.exception("reporting a folded batch failed")

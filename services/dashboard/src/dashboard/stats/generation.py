"""One poller per process that tells open event streams when the fold generation moves.

Each ``/api/v1/stream`` client waits on :class:`GenerationWatcher` instead of polling the
database itself, so a process with a hundred open streams still reads ``fold_progress``
once per interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 0.2


class GenerationWatcher:
    """Polls ``read_generation`` every ``interval`` seconds while anyone is waiting.

    The polling thread starts with the first waiter and stops once nobody has waited for
    a few intervals, so an idle process polls nothing. A failing read is logged and tried
    again on the next tick; waiters just see no change meanwhile.

    Parameters:
        read_generation: returns the current generation (one primary-key read).
        interval: seconds between reads.
    """

    def __init__(
        self, read_generation: Callable[[], int], interval: float = DEFAULT_INTERVAL_SECONDS
    ) -> None:
        self._read = read_generation
        self._interval = interval
        self._changed = threading.Condition()
        self._generation: int | None = None
        self._waiters = 0
        self._idle_since = time.monotonic()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def wait_for_change(self, seen: int, timeout: float) -> int:
        """Block until the generation is past ``seen``, or ``timeout`` seconds pass.

        Generations only grow (a rebuild bumps them too), so a poll that lags behind what
        the caller read itself is not a change.

        Returns:
            The latest generation known, or ``seen`` after a timeout with no newer one.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            self._waiters += 1
            self._ensure_polling()
            try:
                while self._generation is None or self._generation <= seen:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._changed.wait(remaining)
                return max(seen, self._generation or 0)
            finally:
                self._waiters -= 1
                if not self._waiters:
                    self._idle_since = time.monotonic()

    def stop(self) -> None:
        """End the polling for good (the process is shutting down)."""
        with self._changed:
            self._stopped = True
            self._changed.notify_all()

    def _ensure_polling(self) -> None:
        if self._stopped:
            return
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._poll, name="dashboard-generation-watcher", daemon=True
            )
            self._thread.start()

    def _poll(self) -> None:
        while not self._stopped:
            try:
                generation = self._read()
            except Exception as error:  # any failure: keep the streams open, try again
                log.warning("could not read the fold generation: %s", error)
                generation = None
            with self._changed:
                if generation is not None and generation != self._generation:
                    self._generation = generation
                    self._changed.notify_all()
                idle_for = time.monotonic() - self._idle_since
                if not self._waiters and idle_for > 5 * self._interval:
                    # Forget the value: a later waiter must not take a stale one for news.
                    self._thread, self._generation = None, None
                    return
            time.sleep(self._interval)

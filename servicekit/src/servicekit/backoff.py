"""Waiting between retries: capped, doubling, jittered delays and sleeps a stop cuts short.

One policy for every loop that retries an outside party (the relay's database and broker,
the embedded worker's reads of the event log), so they all back off alike and all stop
within a fraction of a second of being asked to.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

#: How often a sleep looks at its stop flag; bounds how long a stop waits on a backoff.
STOP_POLL_SECONDS = 0.05


class Backoff:
    """Delays that double from ``initial`` up to ``maximum``, each drawn with jitter.

    Each delay is drawn from the upper half of the current step, so processes that failed
    together do not retry in step, and none waits longer than ``maximum``.

    Parameters:
        initial: the largest first delay, in seconds.
        maximum: the cap on any delay, in seconds.
    """

    def __init__(self, initial: float, maximum: float) -> None:
        if not 0 < initial <= maximum:
            raise ValueError(f"need 0 < initial <= maximum, got {initial} and {maximum}")
        self.initial = initial
        self.maximum = maximum
        self._step = initial

    def next_delay(self) -> float:
        """The delay before the next attempt; the one after it will be up to twice as long."""
        delay = random.uniform(self._step / 2, self._step)
        self._step = min(self._step * 2, self.maximum)
        return delay

    def reset(self) -> None:
        """Start again from ``initial``: the last attempt succeeded."""
        self._step = self.initial


def sleep_unless_stopped(seconds: float, should_stop: Callable[[], bool]) -> bool:
    """Sleep ``seconds`` in short slices, giving up as soon as ``should_stop()`` is true.

    Returns:
        True when the whole sleep passed, False when a stop cut it short.
    """
    deadline = time.monotonic() + seconds
    while True:
        if should_stop():
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return True
        time.sleep(min(remaining, STOP_POLL_SECONDS))

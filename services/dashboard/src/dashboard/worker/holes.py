"""Which missing events have been missing long enough to heal: pure bookkeeping.

A message takes a moment from the Appstore's commit to the worker's fold (the relay, the
broker, the worker's prefetch and batch). An event the log has but the Dashboard has not
folded is usually just on its way; healing it at once folds it from the log, and then the
queue brings it again as a duplicate. :class:`Holes` remembers when each missing sequence
was first seen missing, so that only those missing for longer than the transit time are
healed.
"""

from __future__ import annotations

from collections.abc import Iterable


class Holes:
    """Missing sequences and the (monotonic) time each was first seen missing."""

    def __init__(self) -> None:
        self._since: dict[int, float] = {}

    def seen(self, missing: Iterable[int], now: float) -> None:
        """Record what is missing now: new holes start their clock, filled ones are dropped."""
        missing = set(missing)
        self._since = {seq: self._since.get(seq, now) for seq in missing}

    def ripe(self, now: float, after: float) -> set[int]:
        """The sequences missing for ``after`` seconds or more."""
        return {seq for seq, since in self._since.items() if now - since >= after}

    def forget(self, sequences: Iterable[int]) -> None:
        for seq in sequences:
            self._since.pop(seq, None)

    def __len__(self) -> int:
        return len(self._since)

"""The fold: decoded events in, projection rows out, each event's effect applied once.

:func:`fold` is the only writer of the projections. It reads in three steps:
:mod:`~dashboard.fold.plan` (pure) sums a batch into per-row deltas,
:mod:`~dashboard.fold.apply` upserts those deltas, and :mod:`~dashboard.fold.folding`
runs both in the caller's transaction, recording which events are done and how far the log
is folded (:mod:`~dashboard.fold.progress`).
"""

from dashboard.errors import MissingProgressRow, UnfoldableEvent
from dashboard.fold.folding import FoldResult, fold
from dashboard.fold.plan import (
    AppDelta,
    BuyerDelta,
    Deltas,
    DeveloperDelta,
    RegisteredUser,
    plan,
    unique_events,
)
from dashboard.fold.progress import contiguous_through

__all__ = [
    "AppDelta",
    "BuyerDelta",
    "Deltas",
    "DeveloperDelta",
    "FoldResult",
    "MissingProgressRow",
    "RegisteredUser",
    "UnfoldableEvent",
    "contiguous_through",
    "fold",
    "plan",
    "unique_events",
]

"""The fold: decoded events in, projection rows out, each event's effect applied once.

:func:`fold` is the only writer of the projections. :func:`plan` is its pure first half,
which sums a batch into per-row deltas; the rest upserts those deltas and records which
events are done.
"""

from dashboard.fold.batch import FoldResult, fold
from dashboard.fold.plan import (
    AppDelta,
    BuyerDelta,
    Deltas,
    DeveloperDelta,
    RegisteredUser,
    UnfoldableEvent,
    plan,
    unique_events,
)
from dashboard.fold.progress import MissingProgressRow, contiguous_through

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

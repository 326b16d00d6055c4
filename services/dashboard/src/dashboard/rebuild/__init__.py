"""``dashboard rebuild``: every projection re-folded from the whole event log into fresh
tables, swapped in for the live ones once caught up (see :mod:`dashboard.rebuild.run`)."""

from dashboard.errors import RebuildRunning
from dashboard.rebuild.postgres import FRESH_SCHEMA
from dashboard.rebuild.run import DONE, FOLDING, SWAPPING, RebuildResult, rebuild

__all__ = [
    "DONE",
    "FOLDING",
    "FRESH_SCHEMA",
    "SWAPPING",
    "RebuildResult",
    "RebuildRunning",
    "rebuild",
]

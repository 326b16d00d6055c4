"""The one ground truth the Dashboard's figures are checked against, from either source a
test has: an event history (:class:`EventTruth`, worked out naively in plain Python), or the
Appstore's own tables (:class:`AppstoreTruth`, SQL over the rows the events came from).

Both answer in the Dashboard's terms: all-time totals keyed as its ``totals`` table is,
per-app ``(purchases, revenue)``, window counts, series and rankings.
"""

from .appstore import AppstoreTruth
from .events import EventTruth

__all__ = ["AppstoreTruth", "EventTruth"]

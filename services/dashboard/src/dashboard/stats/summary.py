"""The summary: all-time totals, or the counts of a window beside the window before it.

A window's counts come from the series buckets: whole quarter-hours inside it, minutes at
its edges, so any window is exact to the minute and costs at most 28 minute rows plus one
row per quarter-hour per metric. ``apps_verified``, ``credits_granted`` and ``buyers`` have
no buckets and are all-time figures only; a window carries ``new_buyers`` instead (buyers
whose first purchase falls in it), counted on the index of ``buyers.first_purchase_at``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Select, func, literal, select, true, union_all

from dashboard.errors import MissingProgressRow
from dashboard.models import (
    EVENTS_PROGRESS,
    TOTALS,
    Buyer,
    FoldProgress,
    SeriesMinute,
    SeriesQuarterHour,
    Total,
)
from dashboard.stats.progress import progress_in
from dashboard.stats.reading import Reader
from dashboard.stats.windows import MINUTE, QUARTER_HOUR, Window, split, widen

#: The counts a window has: the series metrics, and new buyers.
WINDOW_SERIES = ("users", "apps_created", "purchases", "credits_spent")
WINDOW_COUNTS = (*WINDOW_SERIES, "new_buyers")


def all_time(reader: Reader) -> dict[str, Any]:
    """Every total and the fold progress, read in one statement so they agree."""
    statement = select(
        Total.name,
        Total.value,
        FoldProgress.contiguous_through,
        FoldProgress.last_sequence,
        FoldProgress.last_event_at,
    ).join_from(Total, FoldProgress, true())
    with reader.connect() as connection:
        rows = connection.execute(statement.where(FoldProgress.name == EVENTS_PROGRESS)).all()
    if not rows:
        raise MissingProgressRow("fold_progress has no row: run `dashboard db upgrade`")
    totals = dict.fromkeys(TOTALS, 0) | {row.name: int(row.value) for row in rows}
    first = rows[0]
    return {
        **{name: totals[name] for name in TOTALS},
        "contiguous_through": first.contiguous_through,
        "last_sequence": first.last_sequence,
        "last_event_at": first.last_event_at,
    }


def aligned(window: Window) -> Window:
    """The window a summary answers for ``window``: widened to whole minutes."""
    return widen(window, MINUTE)


def in_window(reader: Reader, window: Window) -> dict[str, Any]:
    """The counts of ``window`` (widened to minutes) and of the window just before it.

    Returns:
        ``{from, to, previous: {from, to, counts...}, counts..., progress...}``.
    """
    current = aligned(window)
    previous = current.previous()
    parts = [*_count_parts("current", current), *_count_parts("previous", previous)]
    sums: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(WINDOW_COUNTS, 0))
    with reader.connect() as connection:
        for label, metric, value in connection.execute(union_all(*parts)):
            sums[label][metric] += int(value or 0)
        progress = progress_in(connection)
    return {
        **sums["current"],
        "from": current.start,
        "to": current.end,
        "previous": {**sums["previous"], "from": previous.start, "to": previous.end},
        "contiguous_through": progress.contiguous_through,
        "last_sequence": progress.last_sequence,
        "last_event_at": progress.last_event_at,
    }


def _count_parts(label: str, window: Window) -> list[Select]:
    """Selects of ``(label, metric, sum)`` that add up to the window's counts."""
    parts = split(window, QUARTER_HOUR)
    pieces = [(SeriesMinute, part) for part in parts.fine]
    if parts.coarse is not None:
        pieces.append((SeriesQuarterHour, parts.coarse))
    selects = [
        select(literal(label), table.metric, func.sum(table.value))
        .where(
            table.metric.in_(WINDOW_SERIES),
            table.bucket_start >= part.start,
            table.bucket_start < part.end,
        )
        .group_by(table.metric)
        for table, part in pieces
    ]
    selects.append(
        select(literal(label), literal("new_buyers"), func.count()).where(
            Buyer.first_purchase_at >= window.start, Buyer.first_purchase_at < window.end
        )
    )
    return selects

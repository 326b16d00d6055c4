"""The summary: all-time totals, or the counts of a window beside the window before it.

A window's counts come from the series buckets: whole quarter-hours inside it, minutes at
its edges, so any window is exact to the minute and costs at most 28 minute rows plus one
row per quarter-hour per metric. ``apps_verified`` and ``buyers`` have no buckets and are
all-time figures only; a window carries ``new_buyers`` instead (buyers whose first purchase
falls in it), counted on the index of ``buyers.first_purchase_at``.

For one app or one developer (a :class:`~dashboard.stats.scope.Scope`) a window has its
``purchases`` and ``credits_spent`` only, read the same way from its rows of
``sales_series``; all-time, its counters in ``app_stats`` or ``developer_stats``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Select, func, literal, select, true, union_all

from dashboard.errors import MissingProgressRow
from dashboard.models import (
    EVENTS_PROGRESS,
    TOTALS,
    AppStats,
    Buyer,
    DeveloperStats,
    FoldProgress,
    SalesSeries,
    SeriesMinute,
    SeriesQuarterHour,
    Total,
)
from dashboard.stats.progress import progress_in
from dashboard.stats.reading import Reader
from dashboard.stats.scope import SCOPED_METRICS, Scope
from dashboard.stats.windows import MINUTE, QUARTER_HOUR, Window, split, widen

#: The counts a window has: the series metrics, and new buyers.
WINDOW_SERIES = ("users", "apps_created", "purchases", "credits_spent", "credits_granted")
WINDOW_COUNTS = (*WINDOW_SERIES, "new_buyers")
#: The counts a window of one app or developer has.
SCOPED_COUNTS = tuple(SCOPED_METRICS)


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


def scoped_all_time(reader: Reader, scope: Scope) -> dict[str, Any]:
    """One app's or developer's all-time sales (and a developer's apps), with the fold
    progress, read in one statement."""
    if scope.kind == "app":
        figures = select(AppStats.purchases, AppStats.revenue).where(AppStats.app_id == scope.id)
    else:
        figures = select(
            DeveloperStats.purchases, DeveloperStats.revenue, DeveloperStats.apps
        ).where(DeveloperStats.owner_id == scope.id)
    counters = figures.subquery("counters")
    statement = select(
        counters,
        FoldProgress.contiguous_through,
        FoldProgress.last_sequence,
        FoldProgress.last_event_at,
    ).outerjoin_from(FoldProgress, counters, true())
    with reader.connect() as connection:
        row = connection.execute(statement.where(FoldProgress.name == EVENTS_PROGRESS)).first()
    if row is None:
        raise MissingProgressRow("fold_progress has no row: run `dashboard db upgrade`")
    mapping = row._mapping
    answer: dict[str, Any] = {
        **scope.key(),
        "purchases": int(mapping["purchases"] or 0),
        "credits_spent": int(mapping["revenue"] or 0),
    }
    if scope.kind == "owner":
        answer["apps_created"] = int(mapping["apps"] or 0)
    return answer | {
        "contiguous_through": row.contiguous_through,
        "last_sequence": row.last_sequence,
        "last_event_at": row.last_event_at,
    }


def aligned(window: Window) -> Window:
    """The window a summary answers for ``window``: widened to whole minutes."""
    return widen(window, MINUTE)


def in_window(reader: Reader, window: Window, scope: Scope | None = None) -> dict[str, Any]:
    """The counts of ``window`` (widened to minutes) and of the window just before it, of
    the whole store or of ``scope``.

    Returns:
        ``{from, to, previous: {from, to, counts...}, counts..., progress...}``, and the
        scope's ``app_id`` or ``owner_id`` when there is one.
    """
    current = aligned(window)
    previous = current.previous()
    if scope is None:
        counts = WINDOW_COUNTS
        parts = [*_count_parts("current", current), *_count_parts("previous", previous)]
    else:
        counts = SCOPED_COUNTS
        parts = [
            *_scoped_parts("current", current, scope),
            *_scoped_parts("previous", previous, scope),
        ]
    sums: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(counts, 0))
    with reader.connect() as connection:
        for label, metric, value in connection.execute(union_all(*parts)):
            sums[label][metric] += int(value or 0)
        progress = progress_in(connection)
    return {
        **(scope.key() if scope is not None else {}),
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


def _scoped_parts(label: str, window: Window, scope: Scope) -> list[Select]:
    """Selects of ``(label, metric, sum)`` that add up to the window's sales of ``scope``."""
    parts = split(window, QUARTER_HOUR)
    pieces = [("minute", part) for part in parts.fine]
    if parts.coarse is not None:
        pieces.append(("quarter", parts.coarse))
    selects = []
    for span, part in pieces:
        inside = (
            SalesSeries.span == span,
            SalesSeries.scope == scope.kind,
            SalesSeries.scope_id == scope.id,
            SalesSeries.bucket_start >= part.start,
            SalesSeries.bucket_start < part.end,
        )
        selects += [
            select(literal(label), literal(metric), func.sum(column)).where(*inside)
            for metric, column in SCOPED_METRICS.items()
        ]
    return selects

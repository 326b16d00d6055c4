"""Time series of one metric, zero-filled, in buckets aligned in a time zone: the whole
store's, or one app's or one developer's (a :class:`~dashboard.stats.scope.Scope`)."""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime, timedelta
from itertools import pairwise

from sqlalchemy import Integer, cast, extract, func, select

from dashboard.models import SERIES_METRICS, SalesSeries, SeriesMinute, SeriesQuarterHour
from dashboard.stats.reading import Reader
from dashboard.stats.scope import SCOPED_METRICS, Scope

METRICS = SERIES_METRICS


def values(
    reader: Reader, metric: str, bucket: str, edges: list[datetime], scope: Scope | None = None
) -> list[int]:
    """Sum ``metric`` into the buckets ``[edges[i], edges[i + 1])``; empty buckets are 0.

    Minute buckets read ``series_minute`` row for row; hour and day buckets, in any zone,
    add up the ``series_quarter_hour`` rows that start inside them (see
    :mod:`dashboard.stats.calendar`). The rows read are at most one per minute or
    quarter-hour of the window, whatever the number of events.

    When every bucket lasts as long as the first (always for minutes; for hours unless
    the zone shifts by part of an hour; for days unless the clocks change), PostgreSQL
    adds the rows up itself and sends one row per bucket; otherwise they are added up here.

    With a ``scope``, the same buckets of that app or developer are read from
    ``sales_series`` (span ``minute`` or ``quarter``): one range of its primary key.

    Parameters:
        metric: one of :data:`METRICS`; with a scope, one of :data:`SCOPED_METRICS`.
        bucket: ``minute``, ``hour`` or ``day``.
        edges: increasing UTC bucket boundaries, as :func:`calendar.boundaries` makes them.
        scope: whose sales, or ``None`` for the whole store.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}")
    if scope is None:
        table = SeriesMinute if bucket == "minute" else SeriesQuarterHour
        value = table.value
        chosen = (table.metric == metric,)
    else:
        if metric not in SCOPED_METRICS:
            raise ValueError(f"metric {metric!r} has no figures per app or developer")
        table = SalesSeries
        value = SCOPED_METRICS[metric]
        chosen = (
            table.span == ("minute" if bucket == "minute" else "quarter"),
            table.scope == scope.kind,
            table.scope_id == scope.id,
        )
    inside = (*chosen, table.bucket_start >= edges[0], table.bucket_start < edges[-1])
    sums = [0] * (len(edges) - 1)
    step = _uniform_step(edges)
    with reader.connect() as connection:
        if step is not None and connection.dialect.name == "postgresql":
            since_first = extract("epoch", table.bucket_start - edges[0])
            number = cast(func.floor(since_first / step.total_seconds()), Integer)
            statement = select(number, func.sum(value)).where(*inside).group_by(number)
            for position, value in connection.execute(statement):
                sums[position] = int(value)
        else:
            statement = select(table.bucket_start, value).where(*inside)
            for start, value in connection.execute(statement):
                sums[bisect_right(edges, start) - 1] += value
    return sums


def _uniform_step(edges: list[datetime]) -> timedelta | None:
    step = edges[1] - edges[0]
    if all(later - earlier == step for earlier, later in pairwise(edges)):
        return step
    return None

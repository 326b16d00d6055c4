"""The stats answers: the summary, top lists and time series, each read through the cache.

Each answer reads the fold generation (one primary-key read), then takes the answer cached
under that generation, or computes it from the projections and caches it. An app or
developer asked for is checked to be known only when its answer is computed: a cached
answer under the same generation proves it was, and an unknown one is never cached. Answers are kept
as the JSON (or CSV) bytes sent to clients, so a cached one is never decoded again, except
the summary, whose lag moves with the clock and whose ``behind`` with the log's head.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.freshness import freshness
from dashboard.stats import lookups, timeseries, top
from dashboard.stats import summary as summaries
from dashboard.stats.cache import AnswerCache
from dashboard.stats.calendar import (
    NOMINAL_LENGTH,
    TooManyPoints,
    boundaries,
    covering,
    recent_start,
)
from dashboard.stats.encoding import to_json, utc_text
from dashboard.stats.progress import Progress, read_progress
from dashboard.stats.reading import Reader
from dashboard.stats.scope import Scope, check_known
from dashboard.stats.windows import Window

#: The most points a time series may have.
MAX_POINTS = 5000


def summary(
    reader: Reader, cache: AnswerCache, window: Window | None, scope: Scope | None = None
) -> dict[str, Any]:
    """The summary of ``window``, or all-time if ``None``, at the generation read now; of
    the whole store, or of ``scope``.

    Raises:
        MissingProgressRow: the database has no fold progress row.
        UnknownScope: the dashboard knows no such app or developer.
    """
    return summary_at(reader, cache, read_progress(reader), window, scope)


def summary_at(
    reader: Reader,
    cache: AnswerCache,
    progress: Progress,
    window: Window | None,
    scope: Scope | None = None,
) -> dict[str, Any]:
    """The summary under ``progress.generation``, cached, with ``lag_seconds`` as of now
    and ``behind``/``caught_up`` as of the last check of the Appstore's log.

    Returns:
        The JSON document (times as text): all-time totals, or the counts of ``window``
        widened to whole minutes beside those of the window before; the fold's progress.
        With a scope: its sales only, all-time or in the window.

    Raises:
        UnknownScope: the dashboard knows no such app or developer.
    """
    scoped = scope.key() if scope is not None else {}
    if window is None:

        def all_time() -> bytes:
            if scope is None:
                return to_json(summaries.all_time(reader))
            check_known(reader, scope)
            return to_json(summaries.scoped_all_time(reader, scope))

        cached = cache.answer(progress.generation, "summary", scoped, all_time)
    else:
        aligned = summaries.aligned(window)

        def in_window() -> bytes:
            check_known(reader, scope)
            return to_json(summaries.in_window(reader, aligned, scope))

        cached = cache.answer(
            progress.generation, "summary", {**_bounds(aligned), **scoped}, in_window
        )
    # The one figure that moves with the clock is added to each answer, never cached.
    document = json.loads(cached)
    lag = None
    if progress.last_event_at is not None:
        lag = round((datetime.now(UTC) - progress.last_event_at).total_seconds(), 3)
    document["lag_seconds"] = lag
    with reader.connect() as connection:
        fresh = freshness(connection, progress.contiguous_through)
    document["behind"] = fresh.behind
    document["caught_up"] = fresh.caught_up
    return document


@dataclass(frozen=True, slots=True)
class TopList:
    """A top list as JSON, and the window it was summed over (``None``: all-time)."""

    body: bytes
    window: Window | None


def top_apps(
    reader: Reader,
    cache: AnswerCache,
    by: str,
    limit: int,
    window: Window | None,
    owner_id: int | None = None,
) -> TopList:
    """The ``limit`` apps best by ``by``, all-time or in ``window`` widened to whole hours;
    only the apps of developer ``owner_id`` when it is given.

    Raises:
        UnknownScope: the dashboard knows no developer ``owner_id``.
    """
    if owner_id is None:
        return _top(reader, cache, "top-apps", top.top_apps, by, limit, window)
    scope = Scope("owner", owner_id)

    def query(reader: Reader, by: str, limit: int, window: Window | None) -> list[dict]:
        check_known(reader, scope)
        return top.top_apps(reader, by, limit, window, owner_id)

    return _top(reader, cache, "top-apps", query, by, limit, window, scope.key())


def top_developers(
    reader: Reader, cache: AnswerCache, by: str, limit: int, window: Window | None
) -> TopList:
    """The ``limit`` developers best by ``by``, as :func:`top_apps`."""
    return _top(reader, cache, "top-developers", top.top_developers, by, limit, window)


def _top(
    reader: Reader,
    cache: AnswerCache,
    name: str,
    query: Callable[[Reader, str, int, Window | None], list[dict]],
    by: str,
    limit: int,
    window: Window | None,
    scoped: dict[str, int] | None = None,
) -> TopList:
    progress = read_progress(reader)
    aligned = top.aligned(window) if window is not None else None
    key = {"by": by, "limit": limit, **(_bounds(aligned) if aligned else {}), **(scoped or {})}
    body = cache.answer(
        progress.generation, name, key, lambda: to_json(query(reader, by, limit, aligned))
    )
    return TopList(body, aligned)


@dataclass(frozen=True, slots=True)
class SeriesQuestion:
    """A time series asked for: ``window`` ``None`` means the recent buckets up to now,
    ``scope`` ``None`` the whole store."""

    metric: str
    bucket: str
    zone: ZoneInfo
    window: Window | None
    scope: Scope | None = None


@dataclass(frozen=True, slots=True)
class Series:
    """A time series, encoded, and the buckets it covers: ``[first, end)``."""

    body: bytes
    metric: str
    bucket: str
    first: datetime
    end: datetime
    scope: Scope | None = None


def series_json(reader: Reader, cache: AnswerCache, question: SeriesQuestion) -> Series:
    """The series as its JSON document: ``{metric, bucket, tz, from, to, points}``.

    Raises:
        TooManyPoints: the series has more than :data:`MAX_POINTS` points.
        UnknownScope: the dashboard knows no such app or developer.
    """
    return _series(reader, cache, question, "timeseries", to_json)


def series_csv(reader: Reader, cache: AnswerCache, question: SeriesQuestion) -> Series:
    """The series' points as ``t,value`` lines under that header.

    Raises:
        TooManyPoints: the series has more than :data:`MAX_POINTS` points.
        UnknownScope: the dashboard knows no such app or developer.
    """
    return _series(reader, cache, question, "export.csv", _csv)


def _series(
    reader: Reader,
    cache: AnswerCache,
    question: SeriesQuestion,
    name: str,
    encode: Callable[[dict[str, Any]], bytes],
) -> Series:
    metric, bucket, zone, scope = question.metric, question.bucket, question.zone, question.scope
    window = question.window
    if window is None:
        now = datetime.now(UTC)
        window = Window(recent_start(bucket, zone, now), now)
    first, end = covering(bucket, zone, window.start, window.end)
    # Checked before the cache: a too-long series is refused without making any point.
    if (end - first) / NOMINAL_LENGTH[bucket] > MAX_POINTS + 2:
        raise TooManyPoints(f"more than {MAX_POINTS} {bucket} buckets")
    progress = read_progress(reader)
    named = {"metric": metric, "bucket": bucket, "tz": zone.key, "from": first, "to": end}
    if scope is not None:
        named |= scope.key()

    def compute() -> bytes:
        check_known(reader, scope)
        edges = boundaries(bucket, zone, first, end, MAX_POINTS)
        values = timeseries.values(reader, metric, bucket, edges, scope)
        # The edges end with the last bucket's end: one more than there are values.
        starts = zip(edges, values, strict=False)
        points = [{"t": utc_text(t), "value": value} for t, value in starts]
        return encode({**named, "points": points})

    key = {**named, "from": utc_text(first), "to": utc_text(end)}
    body = cache.answer(progress.generation, name, key, compute)
    return Series(body, metric, bucket, first, end, scope)


#: What each kind of scope is looked up with, and the name its answers are cached under.
_LOOKUPS: dict[str, tuple[str, Callable[[Reader, int], dict[str, Any]]]] = {
    "app": ("app", lookups.app),
    "owner": ("developer", lookups.developer),
}


def lookup(reader: Reader, cache: AnswerCache, scope: Scope) -> bytes:
    """:func:`lookups.app` or :func:`lookups.developer` of ``scope`` as JSON, cached.

    Raises:
        UnknownScope: the dashboard knows no such app or developer (never cached).
    """
    name, query = _LOOKUPS[scope.kind]
    progress = read_progress(reader)
    return cache.answer(
        progress.generation, name, scope.key(), lambda: to_json(query(reader, scope.id))
    )


def search_apps(
    reader: Reader, cache: AnswerCache, q: str, page: int, page_size: int
) -> tuple[list[dict], int]:
    """One page of :func:`lookups.search` and the number of apps found, cached."""
    progress = read_progress(reader)
    key = {"q": json.dumps(q), "page": page, "page_size": page_size}

    def compute() -> bytes:
        found, total = lookups.search(reader, q, page, page_size)
        return to_json({"found": found, "total": total})

    cached = json.loads(cache.answer(progress.generation, "search-apps", key, compute))
    return cached["found"], cached["total"]


def _csv(document: dict[str, Any]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(("t", "value"))
    writer.writerows((point["t"], point["value"]) for point in document["points"])
    return text.getvalue().encode()


def _bounds(window: Window) -> dict[str, str]:
    return {"from": utc_text(window.start), "to": utc_text(window.end)}

"""Time windows of the stats queries, aligned to the buckets the projections keep.

A window is half-open, ``[start, end)``, in UTC. The projections hold sums per bucket, so
a window can only be answered at the granularity of its buckets: :func:`widen` rounds its
start down and its end up to whole buckets. A long window is then read from coarse buckets
inside it and fine ones only at its edges (:func:`split`), so that its cost grows with its
length in coarse buckets, never with the number of events folded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
QUARTER_HOUR = timedelta(minutes=15)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Window:
    """The instants ``start <= t < end``, both aware and in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.utcoffset() != timedelta(0) or self.end.utcoffset() != timedelta(0):
            raise ValueError("a window's bounds must be UTC datetimes")
        if self.start > self.end:
            raise ValueError("a window must not end before it starts")

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def previous(self) -> Window:
        """The window of the same length that ends where this one starts, cut at the Unix
        epoch (nothing happened before; a window of millennia would reach before year 1)."""
        if self.length > self.start - EPOCH:
            return Window(min(EPOCH, self.start), self.start)
        return Window(self.start - self.length, self.start)


def floor_to(moment: datetime, step: timedelta) -> datetime:
    """Round ``moment`` (aware, UTC) down to a multiple of ``step`` since the Unix epoch."""
    return moment - (moment - EPOCH) % step


def ceil_to(moment: datetime, step: timedelta) -> datetime:
    """Round ``moment`` (aware, UTC) up to a multiple of ``step`` since the Unix epoch."""
    floor = floor_to(moment, step)
    return floor if floor == moment else floor + step


def widen(window: Window, step: timedelta) -> Window:
    """The smallest window of whole ``step`` buckets that holds ``window``."""
    return Window(floor_to(window.start, step), ceil_to(window.end, step))


@dataclass(frozen=True)
class Split:
    """A window cut into the coarse buckets inside it and the fine ones at its edges."""

    coarse: Window | None
    fine: tuple[Window, ...]


def split(window: Window, coarse: timedelta) -> Split:
    """Cut ``window`` (already aligned to the fine buckets) at whole ``coarse`` buckets.

    Returns:
        The part made of whole coarse buckets, if any, and the one or two edge parts left,
        empty parts dropped.
    """
    inner_start, inner_end = ceil_to(window.start, coarse), floor_to(window.end, coarse)
    if inner_start >= inner_end:
        return Split(None, (window,) if window.length else ())
    edges = (Window(window.start, inner_start), Window(inner_end, window.end))
    return Split(Window(inner_start, inner_end), tuple(edge for edge in edges if edge.length))


@dataclass(frozen=True)
class Cover:
    """A window as coarse buckets plus fine ones, minus fine ones outside it."""

    coarse: Window | None
    fine: tuple[Window, ...]
    minus: tuple[Window, ...]


def cover(window: Window, coarse: timedelta) -> Cover:
    """Like :func:`split`, with fewer fine buckets: an edge longer than half a coarse bucket
    is read as that whole coarse bucket minus the fine buckets of it outside the window.

    So no edge costs more than half a coarse bucket of fine rows (12 hours of a day).
    """
    half = coarse / 2
    first, last = ceil_to(window.start, coarse), floor_to(window.end, coarse)
    if first > last:  # inside a single coarse bucket, [last, first)
        if window.length <= half:
            return Cover(None, (window,), ())
        outside = (Window(last, window.start), Window(window.end, first))
        return Cover(Window(last, first), (), tuple(part for part in outside if part.length))
    inner_start, inner_end = first, last
    fine: list[Window] = []
    minus: list[Window] = []
    if window.start < first:
        if first - window.start <= half:
            fine.append(Window(window.start, first))
        else:
            inner_start = first - coarse
            minus.append(Window(inner_start, window.start))
    if last < window.end:
        if window.end - last <= half:
            fine.append(Window(last, window.end))
        else:
            inner_end = last + coarse
            minus.append(Window(window.end, inner_end))
    inner = Window(inner_start, inner_end) if inner_start < inner_end else None
    return Cover(inner, tuple(fine), tuple(minus))

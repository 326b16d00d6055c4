"""Bucket arithmetic without a database: zones, clock changes, window splits."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboard.errors import TooManyPoints
from dashboard.stats.calendar import boundaries, bucket_start, covering
from dashboard.stats.windows import DAY, HOUR, QUARTER_HOUR, Cover, Window, cover, split, widen


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def lengths(edges: list[datetime]) -> list[timedelta]:
    return [b - a for a, b in itertools.pairwise(edges)]


def test_local_hours_begin_at_the_zones_offset():
    assert bucket_start("hour", ZoneInfo("Asia/Kathmandu"), utc("2026-10-24T06:20:00")) == utc(
        "2026-10-24T06:15:00"
    )
    assert bucket_start("hour", ZoneInfo("Asia/Kolkata"), utc("2026-10-24T06:20:00")) == utc(
        "2026-10-24T05:30:00"
    )


def test_a_skipped_midnight_starts_the_day_at_the_change():
    # Sao Paulo went from 00:00 straight to 01:00 on 2018-11-04 (03:00 UTC).
    zone = ZoneInfo("America/Sao_Paulo")
    edges = boundaries("day", zone, utc("2018-11-03T12:00:00"), utc("2018-11-05T12:00:00"), 10)

    assert edges[1] == utc("2018-11-04T03:00:00")
    assert lengths(edges) == [timedelta(hours=24), timedelta(hours=23), timedelta(hours=24)]


def test_lord_howe_island_shifts_by_half_an_hour_and_every_edge_is_a_quarter_hour():
    zone = ZoneInfo("Australia/Lord_Howe")
    edges = boundaries("hour", zone, utc("2026-10-03T13:00:00"), utc("2026-10-03T18:00:00"), 20)

    assert all(edge.minute % 15 == 0 for edge in edges)
    assert all(timedelta(0) < length <= HOUR for length in lengths(edges))
    assert timedelta(minutes=30) in lengths(edges)


def test_too_many_points_are_refused_before_they_are_made():
    with pytest.raises(TooManyPoints):
        boundaries(
            "minute", ZoneInfo("UTC"), utc("2000-01-01T00:00:00"), utc("8000-01-01T00:00:00"), 5000
        )
    with pytest.raises(TooManyPoints):
        boundaries(
            "hour", ZoneInfo("UTC"), utc("2026-01-01T00:00:00"), utc("2026-01-01T05:00:01"), 5
        )


def test_covering_names_the_same_span_as_the_boundaries():
    zone = ZoneInfo("Europe/Berlin")
    start, end = utc("2026-10-24T05:17:00"), utc("2026-10-27T00:00:00")

    edges = boundaries("day", zone, start, end, 10)

    assert covering("day", zone, start, end) == (edges[0], edges[-1])


def test_a_window_splits_into_coarse_inside_and_fine_edges():
    window = Window(utc("2026-10-24T05:00:00"), utc("2026-10-26T19:00:00"))

    parts = split(window, DAY)

    assert parts.coarse == Window(utc("2026-10-25T00:00:00"), utc("2026-10-26T00:00:00"))
    assert parts.fine == (
        Window(utc("2026-10-24T05:00:00"), utc("2026-10-25T00:00:00")),
        Window(utc("2026-10-26T00:00:00"), utc("2026-10-26T19:00:00")),
    )


def test_a_short_window_is_all_fine_and_widening_rounds_outwards():
    window = widen(
        Window(utc("2026-10-24T18:03:10"), utc("2026-10-24T18:14:01")), timedelta(minutes=1)
    )

    assert window == Window(utc("2026-10-24T18:03:00"), utc("2026-10-24T18:15:00"))
    assert split(window, QUARTER_HOUR).coarse is None
    assert split(window, QUARTER_HOUR).fine == (window,)


def w(start: str, end: str) -> Window:
    return Window(utc(start), utc(end))


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        # Short edges are read hour by hour.
        (
            w("2026-10-24T20:00:00", "2026-10-27T03:00:00"),
            Cover(
                w("2026-10-25T00:00:00", "2026-10-27T00:00:00"),
                (
                    w("2026-10-24T20:00:00", "2026-10-25T00:00:00"),
                    w("2026-10-27T00:00:00", "2026-10-27T03:00:00"),
                ),
                (),
            ),
        ),
        # Long edges are whole days less the hours outside.
        (
            w("2026-10-24T05:00:00", "2026-10-26T19:00:00"),
            Cover(
                w("2026-10-24T00:00:00", "2026-10-27T00:00:00"),
                (),
                (
                    w("2026-10-24T00:00:00", "2026-10-24T05:00:00"),
                    w("2026-10-26T19:00:00", "2026-10-27T00:00:00"),
                ),
            ),
        ),
        # Inside one day: hours, or the day less the hours outside, whichever is fewer.
        (
            w("2026-10-24T05:00:00", "2026-10-24T09:00:00"),
            Cover(None, (w("2026-10-24T05:00:00", "2026-10-24T09:00:00"),), ()),
        ),
        (
            w("2026-10-24T02:00:00", "2026-10-24T22:00:00"),
            Cover(
                w("2026-10-24T00:00:00", "2026-10-25T00:00:00"),
                (),
                (
                    w("2026-10-24T00:00:00", "2026-10-24T02:00:00"),
                    w("2026-10-24T22:00:00", "2026-10-25T00:00:00"),
                ),
            ),
        ),
        # Whole days need no hours at all.
        (
            w("2026-10-24T00:00:00", "2026-10-26T00:00:00"),
            Cover(w("2026-10-24T00:00:00", "2026-10-26T00:00:00"), (), ()),
        ),
    ],
)
def test_cover_reads_at_most_half_a_day_of_hours_per_edge(window, expected):
    assert cover(window, DAY) == expected
    assert all(part.length <= DAY / 2 for part in expected.fine + expected.minus)

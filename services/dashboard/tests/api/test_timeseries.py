"""GET /api/v1/stats/timeseries and export.csv: zero-filled buckets aligned in a zone."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

SERIES = "/api/v1/stats/timeseries"
EXPORT = "/api/v1/stats/export.csv"


def hours(*lengths: int) -> list[timedelta]:
    return [timedelta(hours=length) for length in lengths]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@pytest.mark.parametrize(
    ("metric", "bucket", "tz", "start", "end"),
    [
        # Berlin leaves summer time: the 25th lasts 25 hours, 02:00-03:00 comes twice.
        ("purchases", "day", "Europe/Berlin", "2026-10-23T00:00:00Z", "2026-10-27T00:00:00Z"),
        ("credits_spent", "hour", "Europe/Berlin", "2026-10-24T20:00:00Z", "2026-10-25T04:00:00Z"),
        # Berlin enters summer time: the 29th lasts 23 hours, 02:00-03:00 never happens.
        ("purchases", "day", "Europe/Berlin", "2026-03-27T12:00:00Z", "2026-03-31T00:00:00Z"),
        ("purchases", "hour", "Europe/Berlin", "2026-03-28T22:00:00Z", "2026-03-29T04:00:00Z"),
        # Offsets of 45 and 30 minutes: hours begin at :15 and :30 UTC.
        ("purchases", "hour", "Asia/Kathmandu", "2026-10-24T06:00:00Z", "2026-10-25T06:00:00Z"),
        (
            "credits_spent",
            "day",
            "America/St_Johns",
            "2026-10-22T00:00:00Z",
            "2026-10-28T00:00:00Z",
        ),
        ("purchases", "day", "UTC", "2026-10-20T00:00:00Z", "2026-10-30T00:00:00Z"),
        # Minutes, and windows that start and end inside a bucket.
        ("purchases", "minute", "UTC", "2026-10-25T00:50:30Z", "2026-10-25T01:10:00Z"),
        (
            "credits_spent",
            "minute",
            "Asia/Kathmandu",
            "2026-10-24T18:10:00Z",
            "2026-10-24T18:20:00Z",
        ),
        ("users", "day", "Europe/Berlin", "2026-10-22T13:00:00Z", "2026-10-27T13:00:00Z"),
        ("apps_created", "hour", "UTC", "2026-03-02T00:00:00Z", "2026-03-06T00:00:00Z"),
        # Long before any event: all zeros.
        ("purchases", "day", "UTC", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"),
    ],
)
def test_points_equal_the_events_sums_per_local_bucket(
    stack, store, metric, bucket, tz, start, end
):
    answer = stack.ok(
        SERIES, metric=metric, bucket=bucket, tz=tz, **{"from": start, "to": end}
    ).json

    expected = store.series(metric, bucket, ZoneInfo(tz), utc(start), utc(end))
    assert answer["points"] == expected
    assert (answer["metric"], answer["bucket"], answer["tz"]) == (metric, bucket, tz)
    assert answer["from"] == expected[0]["t"]


def test_the_autumn_day_in_berlin_lasts_25_hours_and_the_spring_day_23(stack, store):
    autumn = stack.ok(
        SERIES, bucket="day", tz="Europe/Berlin", **{"from": "2026-10-24", "to": "2026-10-27"}
    )
    spring = stack.ok(
        SERIES, bucket="day", tz="Europe/Berlin", **{"from": "2026-03-28", "to": "2026-03-31"}
    )

    # A date without an offset is read in tz: Berlin's midnights.
    starts = [utc(p["t"]) for p in autumn.json["points"]] + [utc(autumn.json["to"])]
    assert [b - a for a, b in itertools.pairwise(starts)] == hours(24, 25, 24)
    assert autumn.json["points"][0]["t"] == "2026-10-23T22:00:00Z"
    starts = [utc(p["t"]) for p in spring.json["points"]] + [utc(spring.json["to"])]
    assert [b - a for a, b in itertools.pairwise(starts)] == hours(24, 23, 24)


def test_the_repeated_autumn_hour_is_two_buckets(stack, store):
    answer = stack.ok(
        SERIES,
        bucket="hour",
        tz="Europe/Berlin",
        **{"from": "2026-10-25T00:00:00Z", "to": "2026-10-25T02:00:00Z"},
    ).json

    # 02:00 CEST and 02:00 CET: each holds one of the pinned 02:30 purchases, and more.
    assert [p["t"] for p in answer["points"]] == ["2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z"]
    assert all(p["value"] >= 1 for p in answer["points"])


@pytest.mark.parametrize(("bucket", "points"), [("minute", 60), ("hour", 48), ("day", 30)])
def test_without_a_window_the_recent_buckets_up_to_now(stack, store, bucket, points):
    answer = stack.ok(SERIES, bucket=bucket, tz="Europe/Berlin").json

    assert len(answer["points"]) == points
    assert utc(answer["points"][0]["t"]) <= datetime.now(UTC) <= utc(answer["to"])
    assert {p["value"] for p in answer["points"]} == {0}  # the events are all in the past


def test_to_alone_ends_the_recent_buckets_there(stack, store):
    end = "2026-10-25T10:30:00Z"
    answer = stack.ok(SERIES, bucket="hour", to=end).json
    window = stack.ok(SERIES, bucket="hour", **{"from": "2026-10-23T11:00:00Z", "to": end}).json

    assert len(answer["points"]) == 48
    assert (answer["from"], answer["to"]) == ("2026-10-23T11:00:00Z", "2026-10-25T11:00:00Z")
    assert answer["points"] == window["points"]


def test_the_csv_export_has_the_same_points(stack, store):
    params = {"metric": "credits_spent", "bucket": "hour", "tz": "Asia/Kathmandu"}
    window = {"from": "2026-10-24T06:00:00Z", "to": "2026-10-25T06:00:00Z"}
    series = stack.ok(SERIES, **params, **window).json
    export = stack.ok(EXPORT, **params, **window)

    assert export.mimetype == "text/csv"
    assert export.headers["Content-Disposition"].startswith("attachment; filename=")
    lines = export.get_data(as_text=True).splitlines()
    assert lines[0] == "t,value"
    assert lines[1:] == [f"{p['t']},{p['value']}" for p in series["points"]]
    assert sum(p["value"] for p in series["points"]) > 0


@pytest.mark.parametrize("path", [SERIES, EXPORT])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"metric": "revenue"}, "metric"),
        ({"metric": ""}, "metric"),
        ({"bucket": "week"}, "bucket"),
        ({"tz": "Mars/Olympus_Mons"}, "tz"),
        ({"tz": "../../etc/passwd"}, "tz"),
        ({"tz": "Europe"}, "tz"),
        ({"tz": "x" * 500}, "tz"),
        ({"from": "2026-10-25T00:00:00Z", "to": "2026-10-24T00:00:00Z"}, "to"),
        ({"from": "not a date"}, "from"),
        # Too many points: 5,001 minutes, and a day series of 20 years.
        ({"bucket": "minute", "from": "2026-10-20T00:00:00Z", "to": "2026-10-23T11:21:00Z"}, "to"),
        ({"bucket": "day", "from": "2000-01-01", "to": "2020-01-01"}, "to"),
        ({"bucket": "minute", "from": "1980-01-01", "to": "8999-01-01"}, "to"),
    ],
)
def test_malformed_series_requests_are_422(stack, path, params, field):
    response = stack.get(path, **params)

    assert response.status_code == 422, response.get_data(True)
    assert field in response.json["errors"]["query"], response.json


def test_exactly_5000_points_are_allowed(stack):
    answer = stack.ok(
        SERIES, bucket="minute", **{"from": "2026-10-20T00:00:00Z", "to": "2026-10-23T11:20:00Z"}
    )

    assert len(answer.json["points"]) == 5000

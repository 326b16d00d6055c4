"""GET /api/v1/stats/top-apps and top-developers, all-time and in windows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

TOP_APPS = "/api/v1/stats/top-apps"
TOP_DEVELOPERS = "/api/v1/stats/top-developers"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@pytest.mark.parametrize("by", ["purchases", "revenue"])
@pytest.mark.parametrize("limit", [1, 5, 100])
def test_all_time_top_lists_match_the_events(stack, store, by, limit):
    apps = stack.ok(TOP_APPS, by=by, limit=limit).json
    developers = stack.ok(TOP_DEVELOPERS, by=by, limit=limit).json

    assert apps == store.top_apps(by, limit)
    assert developers == store.top_developers(by, limit)
    assert len(apps) == min(limit, 12)
    assert len(developers) == min(limit, 4)


@pytest.mark.parametrize("by", ["purchases", "revenue"])
@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-10-24T00:00:00Z", "2026-10-26T00:00:00Z"),  # whole days
        ("2026-10-24T05:00:00Z", "2026-10-26T19:00:00Z"),  # days and hours at both edges
        ("2026-10-25T00:00:00Z", "2026-10-25T03:00:00Z"),  # hours only
        ("2026-10-23T23:00:00Z", "2026-10-25T01:00:00Z"),  # an hour, a day, an hour
        ("2026-10-24T02:00:00Z", "2026-10-24T22:00:00Z"),  # most of a day: a day less 4 h
        ("2026-10-23T20:00:00Z", "2026-10-24T05:00:00Z"),  # across midnight, no whole day
        ("2026-01-01T00:00:00Z", "2026-12-01T00:00:00Z"),  # everything
    ],
)
def test_windowed_top_lists_match_the_events_in_the_window(stack, store, by, start, end):
    begin, finish = utc(start), utc(end)
    apps = stack.ok(TOP_APPS, by=by, limit=8, **{"from": start, "to": end})
    developers = stack.ok(TOP_DEVELOPERS, by=by, limit=3, **{"from": start, "to": end})

    assert apps.json == store.top_apps(by, 8, begin, finish)
    assert developers.json == store.top_developers(by, 3, begin, finish)
    assert apps.headers["X-Window-From"] == start
    assert apps.headers["X-Window-To"] == end


def test_a_window_is_widened_to_whole_utc_hours(stack, store):
    answer = stack.ok(
        TOP_APPS, limit=100, **{"from": "2026-10-25T00:30:00Z", "to": "2026-10-25T01:10:00Z"}
    )

    assert answer.headers["X-Window-From"] == "2026-10-25T00:00:00Z"
    assert answer.headers["X-Window-To"] == "2026-10-25T02:00:00Z"
    begin, end = utc("2026-10-25T00:00:00Z"), utc("2026-10-25T02:00:00Z")
    assert answer.json == store.top_apps("purchases", 100, begin, end)


def test_a_window_without_sales_lists_nobody(stack, store):
    window = {"from": "2025-01-01T00:00:00Z", "to": "2025-02-01T00:00:00Z"}

    assert stack.ok(TOP_APPS, **window).json == []
    assert stack.ok(TOP_DEVELOPERS, **window).json == []


def test_defaults_are_ten_by_purchases_for_apps_and_by_revenue_for_developers(stack, store):
    assert stack.ok(TOP_APPS).json == store.top_apps("purchases", 10)
    assert stack.ok(TOP_DEVELOPERS).json == store.top_developers("revenue", 10)


def test_ties_go_to_the_smaller_id(stack, log):
    at = utc("2026-10-25T10:00:00Z")
    stack.fold(
        [
            log.created(7, 201, "Seven", at),
            log.created(3, 202, "Three", at),
            log.purchased(1, 7, 50, 201, 10, at),
            log.purchased(2, 3, 51, 202, 10, at),
        ]
    )

    assert [row["app_id"] for row in stack.ok(TOP_APPS).json] == [3, 7]
    assert [row["owner_id"] for row in stack.ok(TOP_DEVELOPERS).json] == [201, 202]
    # A developer whose UserRegistered is not folded has no name yet.
    assert stack.ok(TOP_DEVELOPERS).json[0]["username"] is None


@pytest.mark.parametrize("path", [TOP_APPS, TOP_DEVELOPERS])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": 10**30}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "1.5"}, "limit"),
        ({"by": "title"}, "by"),
        ({"from": "2026-10-25T00:00:00Z", "to": "2026-10-24T00:00:00Z"}, "to"),
        ({"from": "2026-02-30"}, "from"),
    ],
)
def test_malformed_top_requests_are_422(stack, path, params, field):
    response = stack.get(path, **params)

    assert response.status_code == 422, response.get_data(True)
    assert field in response.json["errors"]["query"], response.json

"""GET /api/v1/stats/summary: all-time totals and windows, against the events' own figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

SUMMARY = "/api/v1/stats/summary"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def z(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def test_the_all_time_summary_is_the_events_totals(stack, store):
    answer = stack.ok(SUMMARY).json

    assert {name: answer[name] for name in store.totals()} == store.totals()
    last = store.events[-1]
    assert answer["last_sequence"] == answer["contiguous_through"] == last.sequence
    assert answer["last_event_at"] == z(max(e.occurred_at for e in store.events))
    assert answer["lag_seconds"] > 0
    assert "previous" not in answer
    assert "from" not in answer


def test_an_empty_dashboard_answers_zeros(stack):
    answer = stack.ok(SUMMARY).json

    assert answer["purchases"] == answer["buyers"] == answer["last_sequence"] == 0
    assert answer["last_event_at"] is None
    assert answer["lag_seconds"] is None


@pytest.mark.parametrize(
    ("start", "end"),
    [
        # Whole quarter-hours, whole days, across Berlin's autumn clock change.
        ("2026-10-24T00:00:00Z", "2026-10-26T00:00:00Z"),
        # Minutes on both edges, inside and around the pinned quarter-hour edge.
        ("2026-10-24T18:07:00Z", "2026-10-25T01:01:00Z"),
        # Shorter than a quarter-hour, within one.
        ("2026-10-24T18:03:00Z", "2026-10-24T18:14:00Z"),
        # Shorter than a quarter-hour, across an edge.
        ("2026-10-24T18:14:00Z", "2026-10-24T18:16:00Z"),
        # Given with an offset: the same instants.
        ("2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00"),
        # The spring change, and everything since the first event.
        ("2026-03-29T00:00:00Z", "2026-03-30T00:00:00Z"),
        ("2026-01-01T00:00:00Z", "2026-11-01T00:00:00Z"),
    ],
)
def test_a_window_has_its_counts_and_the_previous_windows(stack, store, start, end):
    answer = stack.ok(SUMMARY, **{"from": start, "to": end}).json

    begin, finish = utc(start.replace("Z", "+00:00")), utc(end.replace("Z", "+00:00"))
    previous = begin - (finish - begin)
    assert answer["from"] == z(begin)
    assert answer["to"] == z(finish)
    assert {k: answer[k] for k in store.counts(begin, finish)} == store.counts(begin, finish)
    assert answer["previous"] == {
        **store.counts(previous, begin),
        "from": z(previous),
        "to": z(begin),
    }
    # Figures that have no buckets are all-time only.
    assert not {"apps_verified", "buyers"} & set(answer)
    assert answer["last_sequence"] == store.events[-1].sequence


def test_a_window_is_widened_to_whole_minutes(stack, store):
    answer = stack.ok(
        SUMMARY, **{"from": "2026-10-25T00:59:59.5Z", "to": "2026-10-25T01:00:01Z"}
    ).json

    begin, end = utc("2026-10-25T00:59:00+00:00"), utc("2026-10-25T01:01:00+00:00")
    assert (answer["from"], answer["to"]) == (z(begin), z(end))
    assert answer["purchases"] == store.counts(begin, end)["purchases"] >= 2


def test_from_alone_runs_to_now(stack, store):
    answer = stack.ok(SUMMARY, **{"from": "2026-10-25"}).json

    assert answer["from"] == "2026-10-25T00:00:00Z"
    now = datetime.now(UTC)
    assert utc(answer["to"].replace("Z", "+00:00")) - now < timedelta(minutes=2)
    assert answer["purchases"] == store.counts(utc("2026-10-25T00:00:00+00:00"), now)["purchases"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-13-01"}, "from"),
        ({"from": "2026-10-25T10:00:00Z", "to": "2026-10-25T09:00:00Z"}, "to"),
        ({"from": "2026-10-25T10:00:00Z", "to": "2026-10-25T10:00:00Z"}, "to"),
        ({"to": "1970-01-01T00:00:00Z"}, "to"),
        ({"from": "2" * 5000}, "from"),
        ({"from": "2026-10-25T10:00:00\x00"}, "from"),
    ],
)
def test_malformed_windows_are_422_naming_the_argument(stack, params, field):
    response = stack.get(SUMMARY, **params)

    assert response.status_code == 422, response.get_data(True)
    assert field in response.json["errors"]["query"], response.json


def test_to_alone_counts_everything_before_it(stack, store):
    answer = stack.ok(SUMMARY, to="2026-10-25T10:00:00Z").json

    assert (answer["from"], answer["to"]) == ("1980-01-01T00:00:00Z", "2026-10-25T10:00:00Z")
    before = store.counts(utc("1980-01-01T00:00:00+00:00"), utc("2026-10-25T10:00:00+00:00"))
    assert answer["purchases"] == before["purchases"]


@pytest.mark.parametrize(
    ("params", "start", "end"),
    [
        ({"from": "1969-12-31T00:00:00Z", "to": "2026-10-25"}, "1980-01-01", "2026-10-25"),
        ({"from": "0001-01-01T00:00:00+01:00", "to": "1990-01-01"}, "1980-01-01", "1990-01-01"),
        ({"from": "8999-12-31", "to": "9999-12-31T23:59:59Z"}, "8999-12-31", "9000-01-01"),
        ({"from": "1980-01-01", "to": "9999-12-31T23:59:59Z"}, "1980-01-01", "9000-01-01"),
    ],
)
def test_moments_beyond_the_years_kept_are_read_as_their_bounds(stack, params, start, end):
    answer = stack.ok(SUMMARY, **params).json

    assert (answer["from"], answer["to"]) == (f"{start}T00:00:00Z", f"{end}T00:00:00Z")


def test_an_unencoded_plus_in_an_offset_is_read_as_one(stack, store):
    encoded = stack.ok(
        SUMMARY, **{"from": "2026-10-25T02:00:00+02:00", "to": "2026-10-26T00:00:00Z"}
    )
    # What a client sends when it forgets to percent-encode the '+': a space.
    raw = stack.client.get(
        f"{SUMMARY}?from=2026-10-25T02:00:00+02:00&to=2026-10-26T00:00:00Z",
        headers=stack.headers(),
    )

    assert raw.status_code == 200
    assert raw.json["from"] == encoded.json["from"] == "2026-10-25T00:00:00Z"

"""One app's or one developer's figures (``app_id``, ``owner_id``) and credits granted per
bucket, against the same events summed in plain Python."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from .conftest import OWNERS

SUMMARY = "/api/v1/stats/summary"
SERIES = "/api/v1/stats/timeseries"
EXPORT = "/api/v1/stats/export.csv"
TOP_APPS = "/api/v1/stats/top-apps"
#: Apps 1-12 belong to developers 101-104 (app 3 to 104); app 3 changed its price twice.
APP, OWNER = 3, 102
SCOPES = [("app", APP), ("owner", OWNER)]
PARAMETER = {"app": "app_id", "owner": "owner_id"}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def z(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


# Minute, hour and day buckets in UTC, at +05:45 and across both of Berlin's clock changes.
SERIES_CASES = [
    ("minute", "UTC", "2026-10-25T00:50:30Z", "2026-10-25T01:10:00Z"),
    ("minute", "Asia/Kathmandu", "2026-10-24T18:05:00Z", "2026-10-24T18:25:00Z"),
    ("minute", "Europe/Berlin", "2026-03-29T00:45:00Z", "2026-03-29T01:15:00Z"),
    ("hour", "UTC", "2026-10-24T00:00:00Z", "2026-10-26T00:00:00Z"),
    ("hour", "Asia/Kathmandu", "2026-10-24T06:00:00Z", "2026-10-25T06:00:00Z"),
    ("hour", "Europe/Berlin", "2026-10-24T20:00:00Z", "2026-10-25T04:00:00Z"),
    ("hour", "Europe/Berlin", "2026-03-28T22:00:00Z", "2026-03-29T04:00:00Z"),
    ("day", "UTC", "2026-10-20T00:00:00Z", "2026-10-30T00:00:00Z"),
    ("day", "Asia/Kathmandu", "2026-10-22T00:00:00Z", "2026-10-28T00:00:00Z"),
    ("day", "Europe/Berlin", "2026-10-23T00:00:00Z", "2026-10-27T00:00:00Z"),
    ("day", "Europe/Berlin", "2026-03-27T12:00:00Z", "2026-03-31T00:00:00Z"),
]


@pytest.mark.parametrize(("kind", "key"), SCOPES)
@pytest.mark.parametrize(("bucket", "tz", "start", "end"), SERIES_CASES)
def test_one_apps_or_developers_series_are_their_purchases_per_local_bucket(
    stack, store, kind, key, bucket, tz, start, end
):
    window = {"from": start, "to": end}
    for metric in ("purchases", "credits_spent"):
        answer = stack.ok(
            SERIES, metric=metric, bucket=bucket, tz=tz, **{PARAMETER[kind]: key}, **window
        ).json

        expected = store.series(metric, bucket, ZoneInfo(tz), utc(start), utc(end), (kind, key))
        assert answer["points"] == expected, metric
        assert answer[PARAMETER[kind]] == key
        assert (answer["metric"], answer["bucket"], answer["tz"]) == (metric, bucket, tz)


@pytest.mark.parametrize(("kind", "key"), SCOPES)
def test_a_scope_has_a_part_of_the_stores_sales(stack, store, kind, key):
    window = {"from": "2026-10-20", "to": "2026-10-30", "bucket": "day"}
    mine = stack.ok(SERIES, **window, **{PARAMETER[kind]: key}).json["points"]
    everyone = stack.ok(SERIES, **window).json["points"]

    assert 0 < sum(p["value"] for p in mine) < sum(p["value"] for p in everyone)
    assert all(a["value"] <= b["value"] for a, b in zip(mine, everyone, strict=True))


@pytest.mark.parametrize(("bucket", "tz", "start", "end"), SERIES_CASES)
def test_credits_granted_per_local_bucket(stack, store, bucket, tz, start, end):
    answer = stack.ok(
        SERIES, metric="credits_granted", bucket=bucket, tz=tz, **{"from": start, "to": end}
    ).json

    assert answer["points"] == store.series(
        "credits_granted", bucket, ZoneInfo(tz), utc(start), utc(end)
    )


def test_the_scripted_grants_land_in_the_series(stack, store):
    # Not a test that passes on zeros: the autumn grants show up, on both sides of 01:00.
    answer = stack.ok(
        SERIES,
        metric="credits_granted",
        bucket="minute",
        **{"from": "2026-10-25T00:59:00Z", "to": "2026-10-25T01:01:00Z"},
    ).json

    assert [p["value"] for p in answer["points"]] == [7, 14]


WINDOWS = [
    ("2026-10-24T00:00:00Z", "2026-10-26T00:00:00Z"),  # whole quarter-hours and days
    ("2026-10-24T18:07:00Z", "2026-10-25T01:01:00Z"),  # minutes on both edges
    ("2026-10-24T18:03:00Z", "2026-10-24T18:14:00Z"),  # within one quarter-hour
    ("2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00"),  # with offsets
    ("2026-03-29T00:00:00Z", "2026-03-30T00:00:00Z"),
]


@pytest.mark.parametrize(("kind", "key"), SCOPES)
@pytest.mark.parametrize(("start", "end"), WINDOWS)
def test_one_apps_or_developers_window_has_its_sales_and_the_previous_windows(
    stack, store, kind, key, start, end
):
    answer = stack.ok(SUMMARY, **{"from": start, "to": end, PARAMETER[kind]: key}).json

    begin, finish = utc(start), utc(end)
    previous = begin - (finish - begin)
    assert answer == {
        PARAMETER[kind]: key,
        **store.scoped_counts((kind, key), begin, finish),
        "from": z(begin),
        "to": z(finish),
        "previous": {
            **store.scoped_counts((kind, key), previous, begin),
            "from": z(previous),
            "to": z(begin),
        },
        "contiguous_through": answer["contiguous_through"],
        "last_sequence": store.events[-1].sequence,
        "last_event_at": answer["last_event_at"],
        "lag_seconds": answer["lag_seconds"],
        # No Appstore log has been checked in this stack.
        "behind": None,
        "caught_up": None,
    }


@pytest.mark.parametrize(("start", "end"), WINDOWS)
def test_a_store_window_has_the_credits_granted_in_it(stack, store, start, end):
    answer = stack.ok(SUMMARY, **{"from": start, "to": end}).json

    begin, finish = utc(start), utc(end)
    assert answer["credits_granted"] == store.counts(begin, finish)["credits_granted"]
    previous = begin - (finish - begin)
    assert answer["previous"]["credits_granted"] == store.counts(previous, begin)["credits_granted"]


def test_the_grants_window_is_not_empty(stack, store):
    answer = stack.ok(SUMMARY, **{"from": "2026-10-24T00:00:00Z", "to": "2026-10-26T00:00:00Z"})

    assert (
        answer.json["credits_granted"]
        == store.counts(utc("2026-10-24T00:00:00Z"), utc("2026-10-26T00:00:00Z"))["credits_granted"]
        > 0
    )


@pytest.mark.parametrize(("kind", "key"), SCOPES)
def test_all_time_an_app_or_developer_has_its_counters(stack, store, kind, key):
    answer = stack.ok(SUMMARY, **{PARAMETER[kind]: key}).json

    expected = {PARAMETER[kind]: key, **store.scoped_counts((kind, key))}
    if kind == "owner":
        expected["apps_created"] = sum(1 for owner, _t, _c in store.apps.values() if owner == key)
    assert {name: answer[name] for name in expected} == expected
    assert answer["purchases"] > 0
    assert not {"users", "buyers", "credits_granted", "apps_verified"} & set(answer)
    assert answer["last_sequence"] == store.events[-1].sequence


@pytest.mark.parametrize(("kind", "key"), SCOPES)
def test_the_csv_of_an_app_or_developer_is_its_series(stack, store, kind, key):
    params = {
        "metric": "credits_spent",
        "bucket": "hour",
        "tz": "Asia/Kathmandu",
        "from": "2026-10-24T06:00:00Z",
        "to": "2026-10-25T06:00:00Z",
        PARAMETER[kind]: key,
    }
    series = stack.ok(SERIES, **params).json
    export = stack.ok(EXPORT, **params)

    lines = export.get_data(as_text=True).splitlines()
    assert lines[1:] == [f"{p['t']},{p['value']}" for p in series["points"]]
    assert f"credits_spent-{kind}{key}-hour-" in export.headers["Content-Disposition"]
    assert sum(p["value"] for p in series["points"]) > 0


@pytest.mark.parametrize("by", ["purchases", "revenue"])
@pytest.mark.parametrize(
    ("start", "end"),
    [(None, None), ("2026-10-24T05:00:00Z", "2026-10-26T19:00:00Z")],
)
def test_top_apps_of_one_developer(stack, store, by, start, end):
    window = {"from": start, "to": end} if start else {}
    bounds = (utc(start), utc(end)) if start else (None, None)
    for owner in OWNERS:
        answer = stack.ok(TOP_APPS, by=by, limit=100, owner_id=owner, **window).json

        assert answer == store.top_apps(by, 100, *bounds, owner_id=owner)
        assert answer
        assert {row["owner_id"] for row in answer} == {owner}


@pytest.mark.parametrize(
    ("path", "params", "what"),
    [
        (SUMMARY, {"app_id": 999}, "app with id 999"),
        (SUMMARY, {"owner_id": 999, "from": "2026-10-24"}, "developer with id 999"),
        (SERIES, {"app_id": 999}, "app with id 999"),
        (EXPORT, {"owner_id": 1}, "developer with id 1"),  # a buyer, not a developer
        (TOP_APPS, {"owner_id": 999}, "developer with id 999"),
    ],
)
def test_an_unknown_app_or_developer_is_404_saying_so(stack, store, path, params, what):
    response = stack.get(path, **params)

    assert response.status_code == 404, response.get_data(True)
    assert f"No {what} is known to the dashboard" in response.json["message"]


@pytest.mark.parametrize("path", [SUMMARY, SERIES, EXPORT])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"app_id": APP, "owner_id": OWNER}, "owner_id"),
        ({"app_id": 0}, "app_id"),
        ({"app_id": -3}, "app_id"),
        ({"owner_id": "ada"}, "owner_id"),
        ({"owner_id": 2**63}, "owner_id"),
        ({"app_id": "1.5"}, "app_id"),
    ],
)
def test_bad_or_both_filters_are_422(stack, path, params, field):
    response = stack.get(path, **params)

    assert response.status_code == 422, response.get_data(True)
    assert field in response.json["errors"]["query"], response.json


@pytest.mark.parametrize("path", [SERIES, EXPORT])
@pytest.mark.parametrize("metric", ["users", "apps_created", "credits_granted"])
def test_store_wide_metrics_have_no_per_app_series(stack, store, path, metric):
    response = stack.get(path, metric=metric, app_id=APP)

    assert response.status_code == 422
    assert "metric" in response.json["errors"]["query"]


def test_the_openapi_document_names_the_filters_and_the_lookups(stack):
    spec = stack.client.get("/api/openapi.json").json

    for path in ("summary", "timeseries", "export.csv"):
        names = {p["name"] for p in spec["paths"][f"/api/v1/stats/{path}"]["get"]["parameters"]}
        assert {"app_id", "owner_id"} <= names, path
        assert "404" in spec["paths"][f"/api/v1/stats/{path}"]["get"]["responses"]
    top = spec["paths"]["/api/v1/stats/top-apps"]["get"]
    assert "owner_id" in {p["name"] for p in top["parameters"]}
    metric = next(
        p
        for p in spec["paths"]["/api/v1/stats/timeseries"]["get"]["parameters"]
        if p["name"] == "metric"
    )
    assert "credits_granted" in metric["schema"]["enum"]
    for path in ("/api/v1/apps/{app_id}", "/api/v1/developers/{owner_id}", "/api/v1/stats/apps"):
        assert "200" in spec["paths"][path]["get"]["responses"], path
    search = {p["name"] for p in spec["paths"]["/api/v1/stats/apps"]["get"]["parameters"]}
    assert {"q", "page", "page_size"} <= search
    schemas = spec["components"]["schemas"]
    assert {"prices", "rank", "owner_id"} <= set(schemas["AppLookup"]["properties"])
    assert "credits_granted" in schemas["WindowCounts"]["properties"]

"""What the Dashboard reads benchmark asks, timed two ways: through the HTTP app, and as
GROUP BY over ``naive_purchases``; and whether both ways agree."""

from __future__ import annotations

import http.client
import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

from sqlstore import Database


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


#: Each filtered question, and the unfiltered one its p99 is held against (at most 2x).
FILTERED_PAIRS = {
    "summary 7d, app_id": "summary 7d window",
    "summary 7d, owner_id": "summary 7d window",
    "timeseries 30d, app_id": "timeseries 30d by hour",
    "timeseries 30d, owner_id": "timeseries 30d by hour",
    "top-apps 7d, owner_id": "top-apps 7d window",
}


def questions(history: dict) -> dict[str, tuple[str, dict]]:
    """The endpoints timed, with fixed windows so that a cached answer can be reused; the
    filtered ones ask about the most bought app and its developer (the most rows to read)."""
    # Whole hours: the windows need no widening, so GROUP BY over them gives the same sums.
    hour = history["now"].replace(minute=0, second=0, microsecond=0)
    week = {"from": iso(hour - timedelta(days=7)), "to": iso(hour)}
    month = {"from": iso(hour - timedelta(days=30)), "to": iso(hour)}
    series = {"metric": "purchases", "bucket": "hour", "tz": "Europe/Berlin", **month}
    app, owner = {"app_id": history["top_app"]}, {"owner_id": history["top_owner"]}
    return {
        "summary": ("/api/v1/stats/summary", {}),
        "summary 7d window": ("/api/v1/stats/summary", week),
        "summary 7d, app_id": ("/api/v1/stats/summary", {**week, **app}),
        "summary 7d, owner_id": ("/api/v1/stats/summary", {**week, **owner}),
        "timeseries 30d by hour": ("/api/v1/stats/timeseries", series),
        "timeseries 30d, app_id": ("/api/v1/stats/timeseries", {**series, **app}),
        "timeseries 30d, owner_id": ("/api/v1/stats/timeseries", {**series, **owner}),
        "top-apps": ("/api/v1/stats/top-apps", {"by": "purchases", "limit": 10}),
        "top-apps 7d window": ("/api/v1/stats/top-apps", {"by": "purchases", "limit": 10, **week}),
        "top-apps 7d, owner_id": (
            "/api/v1/stats/top-apps",
            {"by": "purchases", "limit": 10, **week, **owner},
        ),
        "top-developers": ("/api/v1/stats/top-developers", {"by": "revenue", "limit": 10}),
    }


def naive_queries(asked: dict[str, tuple[str, dict]]) -> dict[str, tuple[str, dict]]:
    """The same figures by GROUP BY over the purchases themselves."""
    week, month = asked["summary 7d window"][1], asked["timeseries 30d by hour"][1]
    app = {"app_id": asked["summary 7d, app_id"][1]["app_id"]}
    owner = {"owner_id": asked["summary 7d, owner_id"][1]["owner_id"]}
    window_sums = (
        "SELECT count(*) FILTER (WHERE purchased_at >= %(from)s),"
        " coalesce(sum(price) FILTER (WHERE purchased_at >= %(from)s), 0),"
        " count(*) FILTER (WHERE purchased_at < %(from)s),"
        " coalesce(sum(price) FILTER (WHERE purchased_at < %(from)s), 0)"
        " FROM naive_purchases"
        " WHERE purchased_at >= %(from)s::timestamptz"
        " - (%(to)s::timestamptz - %(from)s::timestamptz) AND purchased_at < %(to)s"
    )
    hourly = (
        "SELECT date_trunc('hour', purchased_at, 'Europe/Berlin') AS hour, count(*)"
        " FROM naive_purchases WHERE purchased_at >= %(from)s AND purchased_at < %(to)s"
    )
    return {
        "summary 7d, app_id": (f"{window_sums} AND app_id = %(app_id)s", {**week, **app}),
        "summary 7d, owner_id": (
            f"{window_sums} AND owner_id = %(owner_id)s",
            {**week, **owner},
        ),
        "timeseries 30d, app_id": (
            f"{hourly} AND app_id = %(app_id)s GROUP BY hour ORDER BY hour",
            {**month, **app},
        ),
        "timeseries 30d, owner_id": (
            f"{hourly} AND owner_id = %(owner_id)s GROUP BY hour ORDER BY hour",
            {**month, **owner},
        ),
        "top-apps 7d, owner_id": (
            "SELECT app_id, count(*) AS n, sum(price) FROM naive_purchases"
            " WHERE purchased_at >= %(from)s AND purchased_at < %(to)s"
            " AND owner_id = %(owner_id)s"
            " GROUP BY app_id ORDER BY n DESC, app_id LIMIT 10",
            {**week, **owner},
        ),
        "summary": (
            "SELECT count(*), coalesce(sum(price), 0), count(DISTINCT buyer_id)"
            " FROM naive_purchases",
            {},
        ),
        "summary 7d window": (
            "SELECT count(*) FILTER (WHERE purchased_at >= %(from)s),"
            " coalesce(sum(price) FILTER (WHERE purchased_at >= %(from)s), 0),"
            " count(*) FILTER (WHERE purchased_at < %(from)s),"
            " coalesce(sum(price) FILTER (WHERE purchased_at < %(from)s), 0)"
            " FROM naive_purchases"
            " WHERE purchased_at >= %(from)s::timestamptz"
            " - (%(to)s::timestamptz - %(from)s::timestamptz) AND purchased_at < %(to)s",
            week,
        ),
        "timeseries 30d by hour": (
            "SELECT date_trunc('hour', purchased_at, 'Europe/Berlin') AS hour, count(*)"
            " FROM naive_purchases WHERE purchased_at >= %(from)s AND purchased_at < %(to)s"
            " GROUP BY hour ORDER BY hour",
            month,
        ),
        "top-apps": (
            "SELECT app_id, count(*) AS n, sum(price) FROM naive_purchases"
            " GROUP BY app_id ORDER BY n DESC, app_id LIMIT 10",
            {},
        ),
        "top-apps 7d window": (
            "SELECT app_id, count(*) AS n, sum(price) FROM naive_purchases"
            " WHERE purchased_at >= %(from)s AND purchased_at < %(to)s"
            " GROUP BY app_id ORDER BY n DESC, app_id LIMIT 10",
            week,
        ),
        "top-developers": (
            "SELECT owner_id, count(*), sum(price) AS r FROM naive_purchases"
            " GROUP BY owner_id ORDER BY r DESC, owner_id LIMIT 10",
            {},
        ),
    }


class Client:
    """One kept-alive HTTP/1.1 connection, as a page's fetches would use."""

    def __init__(self, base: str, token: str) -> None:
        parts = urlsplit(base)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, params: dict) -> tuple[float, bytes]:
        started = time.perf_counter()
        self.connection.request("GET", f"{path}?{urlencode(params)}", headers=self.headers)
        response = self.connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}: {body[:300]!r}")
        return elapsed, body

    def close(self) -> None:
        self.connection.close()


def time_http(base: str, token: str, asked: dict, requests: int, warmup: int) -> dict:
    client = Client(base, token)
    found = {}
    try:
        for name, (path, params) in asked.items():
            for _ in range(warmup):
                client.get(path, params)
            samples = [client.get(path, params)[0] for _ in range(requests)]
            found[name] = (samples, json.loads(client.get(path, params)[1]))
    finally:
        client.close()
    return found


def time_naive(db: Database, queries: dict, repeats: int) -> dict:
    found = {}
    raw = db.engine.raw_connection()
    try:
        raw.set_session(autocommit=True)
        with raw.cursor() as cursor:
            for name, (sql, params) in queries.items():
                samples = []
                for _ in range(repeats + 1):
                    started = time.perf_counter()
                    cursor.execute(sql, params)
                    rows = cursor.fetchall()
                    samples.append(time.perf_counter() - started)
                found[name] = (samples[1:], rows)
    finally:
        raw.close()
    return found


def check_agreement(answers: dict, naive: dict) -> list[str]:
    """Where the projections and GROUP BY disagree (nothing, if all is well)."""
    problems = []
    summary, rows = answers["summary"][1], naive["summary"][1][0]
    if (summary["purchases"], summary["credits_spent"], summary["buyers"]) != tuple(rows):
        problems.append(f"summary {summary} vs {rows}")
    for name in ("summary 7d window", "summary 7d, app_id", "summary 7d, owner_id"):
        window, rows = answers[name][1], naive[name][1][0]
        mine = (window["purchases"], window["credits_spent"])
        mine += (window["previous"]["purchases"], window["previous"]["credits_spent"])
        if mine != tuple(rows):
            problems.append(f"{name} {mine} vs {rows}")
    for name in ("timeseries 30d by hour", "timeseries 30d, app_id", "timeseries 30d, owner_id"):
        series = {p["t"]: p["value"] for p in answers[name][1]["points"]}
        grouped = {iso(hour): count for hour, count in naive[name][1]}
        mine = {t: v for t, v in series.items() if v}
        if mine != grouped:
            differ = sorted(
                t for t in mine.keys() | grouped.keys() if mine.get(t) != grouped.get(t)
            )
            shown = ", ".join(f"{t}: {mine.get(t)} vs {grouped.get(t)}" for t in differ[:3])
            problems.append(f"{name}: the hourly series differ in {len(differ)} hours ({shown})")
    for name, key in (
        ("top-apps", "app_id"),
        ("top-apps 7d window", "app_id"),
        ("top-apps 7d, owner_id", "app_id"),
        ("top-developers", "owner_id"),
    ):
        mine = [(row[key], row["purchases"], row["revenue"]) for row in answers[name][1]]
        if mine != [tuple(row) for row in naive[name][1]]:
            problems.append(f"{name}: {mine} vs {naive[name][1]}")
    return problems

"""Dashboard reads over 1,000,000 folded purchases: projections vs GROUP BY, side by side.

Folds synthetic events with the real fold (``dashboard.fold.fold``, big batches) into a
throwaway PostgreSQL database: developers and buyers registering, about 1,000 apps created
and verified, then the purchases spread over the last 30+ days (popular apps more often,
as a Zipf law), in time order. The same purchases go, row for row, into a plain
``naive_purchases`` table of the same database, indexed on time, app and owner.

Then it times, through the real HTTP app (``dashboard serve``: gunicorn, gthread workers,
one client on a kept-alive connection, requests one after another), the summary (all-time
and a 7-day window), the 30-day hourly series in Europe/Berlin, and the top apps and
developers (all-time and a 7-day window): uncached (cache TTL 0), cached in Redis and
cached in the process. Beside them it times the naive way: the same figures by GROUP BY
over ``naive_purchases``, as bare SQL (no HTTP, which only flatters it), and checks that
both ways agree. Prints p50/p99 per endpoint and mode, and the speed-up over naive.
"""

from __future__ import annotations

import argparse
import bisect
import http.client
import io
import itertools
import json
import os
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from dashboard_support import SigningKeys, percentile, serve
from sqlalchemy import text

from appstore_events import Envelope
from dashboard.fold import fold
from dashboard.migrations import upgrade
from sqlstore import Database
from sqlstore.testing import postgres_server, throwaway_database

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5")
NAIVE_TABLE = """
CREATE TABLE naive_purchases (
    id BIGINT PRIMARY KEY, app_id BIGINT NOT NULL, buyer_id BIGINT NOT NULL,
    owner_id BIGINT NOT NULL, price BIGINT NOT NULL, purchased_at TIMESTAMPTZ NOT NULL
)"""
NAIVE_INDEXES = (
    "CREATE INDEX ON naive_purchases (purchased_at)",
    "CREATE INDEX ON naive_purchases (app_id)",
    "CREATE INDEX ON naive_purchases (owner_id)",
    "ANALYZE naive_purchases",
)
PRICES = (0, 1, 2, 5, 10, 25, 50, 100)


def envelope(event_type: str, sequence: int, at: datetime, **data) -> Envelope:
    """An event as the worker decodes it (built directly: the codec is not measured here)."""
    return Envelope(str(uuid.uuid4()), event_type, 1, sequence, "appstore", at, data)


def seed(db: Database, args) -> dict:
    """Fold the synthetic history; copy its purchases into ``naive_purchases``."""
    rng = random.Random(args.seed)
    now = datetime.now(UTC)
    start = now - timedelta(days=args.days)
    sequence = itertools.count(1)
    developers = range(1_000_001, 1_000_001 + args.developers)
    buyers = range(1, args.buyers + 1)
    setup = [
        envelope(
            "UserRegistered",
            next(sequence),
            start - timedelta(days=1),
            user_id=user,
            username=f"user{user}",
            role="user",
            registered_at=start - timedelta(days=1, seconds=-user % 86400),
        )
        for user in itertools.chain(developers, buyers)
    ]
    owners = {app: developers[app % len(developers)] for app in range(1, args.apps + 1)}
    for app, owner in owners.items():
        created = start - timedelta(hours=12, minutes=app % 600)
        setup.append(
            envelope(
                "AppCreated",
                next(sequence),
                created,
                app_id=app,
                owner_id=owner,
                title=f"App {app}",
                price=10,
                created_at=created,
            )
        )
        setup.append(
            envelope(
                "AppVerified",
                next(sequence),
                created,
                app_id=app,
                verified_by=1,
                verified_at=created,
            )
        )
    with db.transaction() as session:
        fold(session, setup)
    with db.engine.begin() as connection:
        connection.execute(text(NAIVE_TABLE))

    # Zipf-like popularity: the app of rank r is bought in proportion to 1 / r^0.8.
    apps = list(owners)
    cumulative = list(itertools.accumulate(1 / rank**0.8 for rank in range(1, len(apps) + 1)))
    span = (now - start).total_seconds()
    moments = sorted(rng.random() * span for _ in range(args.purchases))
    folding = time.perf_counter()
    for batch_start in range(0, args.purchases, args.batch):
        batch, naive = [], io.StringIO()
        for offset in range(batch_start, min(batch_start + args.batch, args.purchases)):
            at = start + timedelta(seconds=moments[offset])
            app = apps[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
            buyer, price = rng.choice(buyers), rng.choice(PRICES)
            purchase = offset + 1
            batch.append(
                envelope(
                    "AppPurchased",
                    next(sequence),
                    at,
                    purchase_id=purchase,
                    app_id=app,
                    buyer_id=buyer,
                    owner_id=owners[app],
                    price=price,
                    purchased_at=at,
                )
            )
            naive.write(f"{purchase}\t{app}\t{buyer}\t{owners[app]}\t{price}\t{at.isoformat()}\n")
        with db.engine.begin() as connection:
            fold(connection, batch)
        naive.seek(0)
        raw = db.engine.raw_connection()
        try:
            with raw.cursor() as cursor:
                cursor.copy_expert("COPY naive_purchases FROM STDIN", naive)
            raw.commit()
        finally:
            raw.close()
        done = batch_start + len(batch)
        if done % (args.batch * 20) == 0 or done == args.purchases:
            rate = done / (time.perf_counter() - folding)
            print(f"  folded {done:,} purchases ({rate:,.0f}/s)", flush=True)
    fold_seconds = time.perf_counter() - folding
    with db.engine.begin() as connection:
        for statement in NAIVE_INDEXES:
            connection.execute(text(statement))
    raw = db.engine.raw_connection()
    try:
        raw.set_session(autocommit=True)
        with raw.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    finally:
        raw.close()
    return {
        "now": now,
        "start": start,
        "fold_seconds": fold_seconds,
    }


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def questions(history: dict) -> dict[str, tuple[str, dict]]:
    """The endpoints timed, with fixed windows so that a cached answer can be reused."""
    # Whole hours: the windows need no widening, so GROUP BY over them gives the same sums.
    hour = history["now"].replace(minute=0, second=0, microsecond=0)
    week = {"from": iso(hour - timedelta(days=7)), "to": iso(hour)}
    month = {"from": iso(hour - timedelta(days=30)), "to": iso(hour)}
    return {
        "summary": ("/api/v1/stats/summary", {}),
        "summary 7d window": ("/api/v1/stats/summary", week),
        "timeseries 30d by hour": (
            "/api/v1/stats/timeseries",
            {"metric": "purchases", "bucket": "hour", "tz": "Europe/Berlin", **month},
        ),
        "top-apps": ("/api/v1/stats/top-apps", {"by": "purchases", "limit": 10}),
        "top-apps 7d window": ("/api/v1/stats/top-apps", {"by": "purchases", "limit": 10, **week}),
        "top-developers": ("/api/v1/stats/top-developers", {"by": "revenue", "limit": 10}),
    }


def naive_queries(asked: dict[str, tuple[str, dict]]) -> dict[str, tuple[str, dict]]:
    """The same figures by GROUP BY over the purchases themselves."""
    week, month = asked["summary 7d window"][1], asked["timeseries 30d by hour"][1]
    return {
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
    window, rows = answers["summary 7d window"][1], naive["summary 7d window"][1][0]
    mine = (window["purchases"], window["credits_spent"])
    mine += (window["previous"]["purchases"], window["previous"]["credits_spent"])
    if mine != tuple(rows):
        problems.append(f"7-day window {mine} vs {rows}")
    series = {p["t"]: p["value"] for p in answers["timeseries 30d by hour"][1]["points"]}
    grouped = {iso(hour): count for hour, count in naive["timeseries 30d by hour"][1]}
    if {t: v for t, v in series.items() if v} != grouped:
        problems.append("the hourly series differ")
    for name, key in (
        ("top-apps", "app_id"),
        ("top-apps 7d window", "app_id"),
        ("top-developers", "owner_id"),
    ):
        mine = [(row[key], row["purchases"], row["revenue"]) for row in answers[name][1]]
        if mine != [tuple(row) for row in naive[name][1]]:
            problems.append(f"{name}: {mine} vs {naive[name][1]}")
    return problems


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:8.2f}"


def report(modes: dict[str, dict], naive: dict) -> None:
    print(f"\n{'endpoint':<24}{'mode':<18}{'p50 ms':>9}{'p99 ms':>9}{'naive p50/p50':>15}")
    for name in naive:
        naive_p50 = percentile(naive[name][0], 0.5)
        for mode, found in modes.items():
            samples = found[name][0]
            p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
            speedup = naive_p50 / p50
            print(f"{name:<24}{mode:<18}{milliseconds(p50)} {milliseconds(p99)}{speedup:14.0f}x")
        samples = naive[name][0]
        p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
        print(f"{name:<24}{'naive GROUP BY':<18}{milliseconds(p50)} {milliseconds(p99)}{1:14.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--purchases", type=int, default=1_000_000)
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--buyers", type=int, default=5000)
    parser.add_argument("--developers", type=int, default=200)
    parser.add_argument("--days", type=int, default=32)
    parser.add_argument("--batch", type=int, default=5000, help="events per fold")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per endpoint")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--naive-repeats", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    keys = SigningKeys()
    token = keys.token()
    logs = Path(tempfile.mkdtemp(prefix="dashboard-reads-"))
    with postgres_server() as admin_url, throwaway_database(admin_url, "bench_reads") as url:
        upgrade(url)
        db = Database(url)
        print(
            f"folding {args.purchases:,} purchases over {args.days} days, "
            f"{args.apps} apps, {args.buyers} buyers"
        )
        history = seed(db, args)
        print(
            f"folded in {history['fold_seconds']:.1f} s "
            f"({args.purchases / history['fold_seconds']:,.0f} purchases/s)"
        )
        with db.engine.connect() as connection:
            sizes = connection.execute(
                text(
                    "SELECT relname, n_live_tup FROM pg_stat_user_tables"
                    " WHERE relname IN ('app_sales', 'series_quarter_hour',"
                    " 'series_minute', 'naive_purchases', 'processed_events') ORDER BY relname"
                )
            ).all()
        print("rows: " + ", ".join(f"{name} {count:,}" for name, count in sizes))
        asked = questions(history)
        modes = {}
        for mode, redis_url, ttl in (
            ("uncached", None, 0),
            ("cached, Redis", REDIS_URL, 60),
            ("cached, process", None, 60),
        ):
            server, base = serve(
                url,
                keys,
                logs / f"{mode}.log",
                redis_url=redis_url,
                cache_ttl=ttl,
                workers=args.workers,
                threads=args.threads,
            )
            try:
                modes[mode] = time_http(base, token, asked, args.requests, args.warmup)
            finally:
                server.stop()
        naive = time_naive(db, naive_queries(asked), args.naive_repeats)
        db.dispose()
    keys.close()
    report(modes, naive)
    problems = check_agreement(modes["uncached"], naive)
    print(
        "\nprojections and GROUP BY agree"
        if not problems
        else "\nDISAGREE:\n" + "\n".join(problems)
    )
    print(
        f"measured through `dashboard serve` (gunicorn, {args.workers} workers x "
        f"{args.threads} threads), one client, {args.requests} requests per endpoint and mode; "
        f"naive: bare SQL over psycopg2, {args.naive_repeats} runs each"
    )
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

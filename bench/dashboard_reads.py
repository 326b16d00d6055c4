"""Dashboard reads over 1,000,000 folded purchases: projections vs GROUP BY, side by side.

Folds synthetic events with the real fold (``dashboard.fold.fold``, big batches) into a
throwaway PostgreSQL database: developers and buyers registering, about 1,000 apps created
and verified, then the purchases spread over the last 30+ days (popular apps more often,
as a Zipf law), in time order. The same purchases go, row for row, into a plain
``naive_purchases`` table of the same database, indexed on time, app and owner.

Then it times, through the real HTTP app (``dashboard serve``: gunicorn, gthread workers,
one client on a kept-alive connection, requests one after another), the summary (all-time
and a 7-day window), the 30-day hourly series in Europe/Berlin, and the top apps and
developers (all-time and a 7-day window), and the window, series and top apps narrowed to
the most bought app (``app_id``) and its developer (``owner_id``): uncached (cache TTL 0),
cached in Redis and cached in the process. Beside them it times the naive way: the same
figures by GROUP BY over ``naive_purchases``, as bare SQL (no HTTP, which only flatters
it), and checks that both ways agree. Prints p50/p99 per endpoint and mode, the speed-up
over naive, and each filtered p99 over its unfiltered one.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from dashboard_support import SigningKeys, percentile, serve
from reads_history import REDIS_URL, seed
from reads_timing import (
    FILTERED_PAIRS,
    check_agreement,
    naive_queries,
    questions,
    time_http,
    time_naive,
)
from sqlalchemy import text

from dashboard.migrations import upgrade
from sqlstore import Database
from sqlstore.testing import postgres_server, throwaway_database


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:8.2f}"


def report(modes: dict[str, dict], naive: dict) -> None:
    print(f"\n{'endpoint':<26}{'mode':<18}{'p50 ms':>9}{'p99 ms':>9}{'naive p50/p50':>15}")
    for name in naive:
        naive_p50 = percentile(naive[name][0], 0.5)
        for mode, found in modes.items():
            samples = found[name][0]
            p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
            speedup = naive_p50 / p50
            print(f"{name:<26}{mode:<18}{milliseconds(p50)} {milliseconds(p99)}{speedup:14.0f}x")
        samples = naive[name][0]
        p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
        print(f"{name:<26}{'naive GROUP BY':<18}{milliseconds(p50)} {milliseconds(p99)}{1:14.0f}x")


def report_filtered(modes: dict[str, dict]) -> list[str]:
    """Filtered p99 over the unfiltered p99 of the same question, per mode; the filtered
    ones above twice theirs are returned."""
    print(f"\n{'filtered':<26}{'unfiltered':<24}{'mode':<18}{'p99 / p99':>10}")
    over = []
    for filtered, unfiltered in FILTERED_PAIRS.items():
        for mode, found in modes.items():
            ratio = percentile(found[filtered][0], 0.99) / percentile(found[unfiltered][0], 0.99)
            print(f"{filtered:<26}{unfiltered:<24}{mode:<18}{ratio:9.2f}x")
            if ratio > 2:
                over.append(f"{filtered} ({mode}): {ratio:.2f}x")
    return over


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
                    " WHERE relname IN ('app_sales', 'series_quarter_hour', 'sales_series',"
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
    over = report_filtered(modes)
    print(
        "filtered p99 within 2x of unfiltered"
        if not over
        else "filtered p99 over 2x of unfiltered: " + ", ".join(over)
    )
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

"""Catalogue pages at 10k and at 1M purchases side by side, and search at 100k apps.

Run with ``make bench``. Three throwaway PostgreSQL databases are seeded with SQL (see
``catalogue_seed.py``): two stores of 200 listed apps, one with 10,000 purchases and one
with 1,000,000, app 1 holding a tenth of each; and one of 100,000 apps with word-like titles
and descriptions. ``appstore serve`` serves each; threaded clients on kept-alive connections
GET ``/api/v1/apps/`` page after page (20 apps each), alternating between the two stores
round by round so both see the same machine, then search the third store for words, first
with its indexes (trigrams, and the apps' words), then with them dropped (the scan the search
was before them). It prints p50/p99 of each, the ratios, and a JSON line; it fails if a
page's ``purchases_count`` differs from the purchases in the database, if credit is not conserved,
or if the search answers differ with and without the indexes.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import catalogue_seed as seed
import requests
from tqdm import tqdm

from appstore.bootstrap import bootstrap
from appstore.config import Settings
from appstore.migrations import upgrade
from appstore.throttling import UNTHROTTLED_ENV
from servicekit.testing import free_port
from sqlstore.testing import postgres_server, throwaway_database

PAGE_SIZE = 20
APPS = "/api/v1/apps/"


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def summary(samples: list[float]) -> dict:
    return {
        "requests": len(samples),
        "p50_ms": round(percentile(samples, 0.50), 2),
        "p99_ms": round(percentile(samples, 0.99), 2),
        "mean_ms": round(statistics.fmean(samples) * 1000, 2),
    }


class Client:
    """One HTTP/1.1 connection, opened again whenever the server closes it."""

    def __init__(self, base: str, token: str) -> None:
        parts = urlsplit(base)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str) -> tuple[float, dict]:
        """GET ``path``; the seconds it took, and the answer: its apps, total, and whether
        the total is exact."""
        started = time.perf_counter()
        self.connection.request("GET", path, headers=self.headers)
        response = self.connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}: {body[:300]!r}")
        if "X-Pagination" not in response.headers:  # not a list: /healthz
            return elapsed, {}
        pagination = json.loads(response.headers["X-Pagination"])
        exact = pagination.get("total_exact", True)  # false: the total is a lower bound
        return elapsed, {"apps": json.loads(body), "total": pagination["total"], "exact": exact}

    def close(self) -> None:
        self.connection.close()


def drive(base: str, token: str, paths: list[str], clients: int) -> tuple[list[float], list]:
    """GET ``paths`` with ``clients`` threads, each on its own connection.

    Returns:
        The seconds each GET took and its answer, in the order of ``paths``.
    """
    latencies: list = [None] * len(paths)
    bodies: list = [None] * len(paths)

    def run(first: int) -> None:
        client = Client(base, token)
        try:
            for i in range(first, len(paths), clients):
                latencies[i], bodies[i] = client.get(paths[i])
        finally:
            client.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if None in latencies:
        raise SystemExit("a client failed; see its traceback above")
    return latencies, bodies


def check_listing(url: str, base: str, token: str, pages: int) -> list[str]:
    """Problems with a listing store: counts on its pages, credit, balances (none if well)."""
    problems = []
    _, bodies = drive(base, token, [f"{APPS}?page={n}" for n in range(1, pages + 1)], 1)
    listed = {app["id"]: app["purchases_count"] for body in bodies for app in body["apps"]}
    connection = seed.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT a.id, count(p.id) FROM apps a LEFT JOIN purchases p ON p.app_id = a.id"
                " GROUP BY a.id"
            )
            counted = dict(cursor.fetchall())
            cursor.execute(
                "SELECT (SELECT sum(credit) FROM users), (SELECT sum(amount) FROM credit_grants),"
                " (SELECT min(credit) FROM users)"
            )
            credit, granted, lowest = cursor.fetchone()
    finally:
        connection.close()
    if listed != counted:
        wrong = {k: (listed.get(k), v) for k, v in counted.items() if listed.get(k) != v}
        problems.append(f"purchases_count listed vs counted: {dict(list(wrong.items())[:5])}")
    if credit != granted or lowest < 0:
        problems.append(f"credit {credit} vs granted {granted}, lowest balance {lowest}")
    return problems


def start_server(settings: Settings, port: int, workers: int, threads: int, log: Path):
    """``appstore serve`` on ``settings``' database, once it answers ``/readyz``."""
    env = {
        **os.environ,
        "APPSTORE_DATABASE_URL": settings.database_url,
        "APPSTORE_DATA_DIR": str(settings.data_dir),
        **UNTHROTTLED_ENV,
    }
    command = [str(Path(sys.executable).with_name("appstore")), "serve", "--port", str(port)]
    command += ["--workers", str(workers), "--threads", str(threads)]
    process = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"server did not start:\n{log.read_text()}")


def listing(args, stack: ExitStack, admin_url: str, data_dir: Path) -> tuple[dict, list[str]]:
    sizes = {"small": args.small, "large": args.large}
    urls, servers, problems = {}, {}, []
    for name, purchases in sizes.items():
        urls[name] = stack.enter_context(throwaway_database(admin_url, "appstore_catalogue"))
        upgrade(urls[name])
        started = time.monotonic()
        ids = seed.seed_listing(urls[name], purchases, args.apps, args.owners, args.hot_share)
        print(f"seeded {purchases:,} purchases in {time.monotonic() - started:.0f}s", flush=True)
    settings = Settings(database_url=urls["small"], data_dir=data_dir, password_profile="cheapest")
    token = bootstrap(settings).tokens.issue(ids["buyer_id"], f"buyer{ids['buyer_id']}", "user")
    for name, url in urls.items():
        port = free_port()
        server = start_server(
            Settings(database_url=url, data_dir=data_dir),
            port,
            args.workers,
            args.threads,
            data_dir / f"log-{name}",
        )
        stack.callback(server.wait, timeout=30)
        stack.callback(server.terminate)
        servers[name] = f"http://127.0.0.1:{port}"
    pages = -(-args.apps // PAGE_SIZE)
    for name in sizes:
        problems += [f"{name}: {p}" for p in check_listing(urls[name], servers[name], token, pages)]
    paths = [f"{APPS}?page={1 + n % pages}" for n in range(args.requests // args.rounds)]
    for base in servers.values():  # every server process warmed up before timing
        drive(base, token, paths[: 4 * args.workers * args.threads], args.clients)
    samples: dict[str, list[float]] = {name: [] for name in sizes}
    for round_number in tqdm(range(args.rounds), desc="catalogue pages", unit="round"):
        order = list(sizes) if round_number % 2 == 0 else list(reversed(sizes))
        for name in order:
            samples[name] += drive(servers[name], token, paths, args.clients)[0]
    return {name: summary(found) for name, found in samples.items()}, problems


def search(args, stack: ExitStack, admin_url: str, data_dir: Path) -> tuple[dict, list[str]]:
    url = stack.enter_context(throwaway_database(admin_url, "appstore_search"))
    upgrade(url)
    rng = random.Random(18)
    words = seed.vocabulary(args.words, rng)
    started = time.monotonic()
    ids = seed.seed_search(url, args.search_apps, words, rng)
    print(f"seeded {args.search_apps:,} apps in {time.monotonic() - started:.0f}s", flush=True)
    settings = Settings(database_url=url, data_dir=data_dir, password_profile="cheapest")
    token = bootstrap(settings).tokens.issue(ids["buyer_id"], "user", "user")
    port = free_port()
    server = start_server(settings, port, args.workers, args.threads, data_dir / "log-search")
    stack.callback(server.wait, timeout=30)
    stack.callback(server.terminate)
    base = f"http://127.0.0.1:{port}"
    # What a shopper types: a word of the store (most words are rare, as in any text), or a
    # word's first four letters; and, apart, the store's most common word.
    kinds = {
        "words": [rng.choice(words) for _ in range(args.queries)],
        "first 4 letters": [rng.choice(words)[:4] for _ in range(args.queries)],
        "most common word": [words[0]] * args.common_repeats,
    }
    results, answers, matched = {}, {}, {}
    steps = tqdm(total=2 * len(kinds), desc="searches", unit="kind")
    for phase in ("indexed", "scan"):
        for kind, asked in kinds.items():
            if phase == "scan":  # a scan takes long: a sample of the same searches
                asked = asked[: args.scan_queries]
            paths = [f"{APPS}?{urlencode({'q': q})}" for q in asked]
            drive(base, token, paths[: 2 * args.workers * args.threads], args.clients)  # warm
            latencies, bodies = drive(base, token, paths, args.clients)
            results[f"{kind}, {phase}"] = summary(latencies)
            answers[phase, kind] = [
                (b["total"], [a["id"] for a in b["apps"]], b["exact"]) for b in bodies
            ]
            if (phase, kind) == ("indexed", "words"):
                selective = (latencies, answers[phase, kind])
            if phase == "indexed":
                totals = sorted(body["total"] for body in bodies)
                matched[kind] = {
                    "median": totals[len(totals) // 2],
                    "largest": totals[-1],
                    "lower bounds": sum(not body["exact"] for body in bodies),
                }
            steps.update()
        if phase == "indexed":
            drop_search_indexes(url)
    steps.close()
    # What any answer costs on this machine now, searched or not: the framework's floor.
    results["GET /healthz, the floor"] = summary(
        drive(base, token, ["/healthz"] * args.queries, args.clients)[0]
    )
    few = [
        took
        for took, (total, _, exact) in zip(*selective, strict=True)
        if exact and total <= args.few
    ]
    results[f"words matching <= {args.few} apps, indexed"] = summary(few)
    problems = [
        f"{kind}: the answers differ with and without the indexes"
        for kind in kinds
        if answers["scan", kind] != answers["indexed", kind][: args.scan_queries]
    ]
    results["apps matched, indexed searches"] = matched
    return results, problems


def drop_search_indexes(url: str) -> None:
    """Leave the search nothing but a scan: drop its indexes (those of the schema there is).

    Without its index, looking apps up by their words would compute every app's words;
    ``catalogue_words()`` made to give each app only the mark of a word too long to index
    lets every app through to the LIKE, which is the scan the search was before its indexes.
    """
    connection = seed.connect(url)
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP INDEX IF EXISTS ix_apps_title_trgm, ix_apps_description_trgm,"
            " ix_apps_catalogue_words"
        )
        cursor.execute("SELECT to_regprocedure('catalogue_words(text, text)') IS NOT NULL")
        if cursor.fetchone()[0]:
            cursor.execute(
                "CREATE OR REPLACE FUNCTION catalogue_words(title text, description text)"
                " RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT '{*}'::text[] $$"
            )
        cursor.execute("ANALYZE apps")
    connection.close()


def print_row(name: str, run: dict) -> None:
    print(f"{name:34} {run['requests']:9d} {run['p50_ms']:8.1f} {run['p99_ms']:8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000, help="purchases, small store")
    parser.add_argument("--large", type=int, default=1_000_000, help="purchases, large store")
    parser.add_argument("--hot-share", type=float, default=0.1, help="of purchases, on app 1")
    parser.add_argument("--apps", type=int, default=200, help="listed apps of each store")
    parser.add_argument("--owners", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200, help="page GETs per store")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--search-apps", type=int, default=100_000)
    parser.add_argument("--words", type=int, default=30_000, help="vocabulary of the apps")
    parser.add_argument("--queries", type=int, default=400, help="searches of each kind")
    parser.add_argument("--scan-queries", type=int, default=40, help="of them, without index")
    parser.add_argument("--common-repeats", type=int, default=20)
    parser.add_argument("--few", type=int, default=1000, help="matches of a selective search")
    parser.add_argument("--clients", type=int, default=2, help="concurrent connections")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument("--skip-search", action="store_true")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="appstore-catalogue-"))
    found, problems = {}, []
    with postgres_server() as admin_url:
        if not args.skip_pages:
            with ExitStack() as stack:  # the listing's servers stop before the search starts
                found["pages"], problems = listing(args, stack, admin_url, data_dir)
        if not args.skip_search:
            with ExitStack() as stack:
                found["search"], more = search(args, stack, admin_url, data_dir)
                problems += more
    if "pages" in found:
        pages = found["pages"]
        ratio = {k: round(pages["large"][k] / pages["small"][k], 2) for k in ("p50_ms", "p99_ms")}
        pages["large / small"] = ratio
        print(f"\n{'catalogue pages':34} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8}")
        for name, size in (("small", args.small), ("large", args.large)):
            print_row(f"{size:,} purchases", pages[name])
        print(f"{'large / small':34} {'':9} {ratio['p50_ms']:7.2f}x {ratio['p99_ms']:7.2f}x")
    if "search" in found:
        print(f"\n{f'search, {args.search_apps:,} apps':34}")
        matched = found["search"].pop("apps matched, indexed searches")
        for name, run in found["search"].items():
            print_row(name, run)
        for kind, counts in matched.items():
            print(
                f"apps matched, {kind}: median {counts['median']}, largest {counts['largest']},"
                f" {counts['lower bounds']} totals lower bounds"
            )
        found["search"]["apps matched, indexed searches"] = matched
    print("RESULT " + json.dumps({**found, "problems": problems}))
    if problems:
        raise SystemExit("broken: " + "; ".join(problems))


if __name__ == "__main__":
    main()

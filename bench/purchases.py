"""Purchases/s and latency of ``appstore serve`` on PostgreSQL under 64 concurrent buyers.

Run with ``make bench``. wrk drives the load (a C client, so the load generator takes as little
of the machine's two cores as possible); every request buys a distinct (buyer, app) pair.
Side by side, on the same server, the same load against ``GET /healthz`` (the framework's
floor) and ``GET /api/v1/users/me`` (a token check plus one query) puts the purchase
numbers in proportion. After the run the database must hold exactly the purchases answered
201, no balance below zero, and every credit that existed before.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from sqlalchemy import func, select

from appstore.bootstrap import bootstrap
from appstore.config import Settings
from appstore.migrations import upgrade
from appstore.models import Purchase, User
from appstore.security.principal import Principal
from appstore.services import apps, users
from appstore.throttling import UNTHROTTLED, UNTHROTTLED_ENV
from servicekit.testing import free_port
from sqlstore.testing import postgres_server, throwaway_database

HERE = Path(__file__).resolve().parent

PRICE = 3
APPS_EACH = 10


def seed(parts, buyers: int, owners: int, apps_per_owner: int) -> tuple[list[str], list[int]]:
    """Buyers with credit for every app, and verified apps spread over many owners."""
    admin = users.register(parts.db, parts.passwords, "bench-admin", "a@bench.test", "x" * 12)
    admin_principal = Principal(admin.id, admin.username, "admin")
    app_ids = []
    for o in range(owners):
        owner = users.register(parts.db, parts.passwords, f"dev{o}", f"d{o}@bench.test", "x" * 12)
        principal = Principal(owner.id, owner.username, "user")
        for a in range(apps_per_owner):
            fields = {
                "title": f"App {o}-{a}",
                "description": "Benchmark app.",
                "price": PRICE,
                "access_link": "https://bench.test/app",
            }
            created = apps.create_app(parts.db, principal, fields)
            apps.verify_app(parts.db, admin_principal, created.id)
            app_ids.append(created.id)
    tokens = []
    for b in range(buyers):
        buyer = users.register(parts.db, parts.passwords, f"buyer{b}", f"b{b}@bench.test", "x" * 12)
        users.grant_credit(parts.db, admin_principal, buyer.id, PRICE * len(app_ids))
        tokens.append(parts.tokens.issue(buyer.id, buyer.username, "user"))
    return tokens, app_ids


def start_server(settings: Settings, port: int, workers: int, threads: int, log: Path):
    env = {
        **os.environ,
        "APPSTORE_DATABASE_URL": settings.database_url,
        "APPSTORE_DATA_DIR": str(settings.data_dir),
        "APPSTORE_DB_POOL_SIZE": str(max(2, threads)),
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


def wrk(url: str, env: dict, connections: int, threads: int, seconds: int) -> dict:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["-s", str(HERE / "wrk.lua"), url]
    output = subprocess.run(
        command,
        env={**os.environ, **env, "BENCH_THREADS": str(threads)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    result["per_second"] = result["requests"] / result["seconds"]
    return result


def check_invariants(parts, credit_before: int, answered_201: int, in_flight: int) -> dict:
    with parts.db.transaction() as session:
        purchases = session.scalar(select(func.count(Purchase.id)))
        credit_after = session.scalar(select(func.sum(User.credit)))
        lowest = session.scalar(select(func.min(User.credit)))
        wrong_price = session.scalar(select(func.count(Purchase.id)).where(Purchase.price != PRICE))
    checks = {
        "purchases_in_db": purchases,
        "purchases_answered_201": answered_201,
        "credit_conserved": credit_after == credit_before,
        "lowest_balance": lowest,
        "wrong_price_rows": wrong_price,
    }
    # wrk stops counting at the deadline; the requests still in flight then (at most one per
    # connection) complete on the server but are not in its count.
    checks["ok"] = (
        answered_201 <= purchases <= answered_201 + in_flight
        and checks["credit_conserved"]
        and lowest >= 0
        and wrong_price == 0
    )
    return checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=5, help="seconds of unmeasured load first")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--wrk-threads", type=int, default=2)
    args = parser.parse_args()

    with postgres_server() as admin_url, throwaway_database(admin_url, "appstore_bench") as url:
        upgrade(url)
        data_dir = Path(tempfile.mkdtemp(prefix="appstore-bench-"))
        settings = Settings(
            database_url=url, data_dir=data_dir, password_profile="cheapest", **UNTHROTTLED
        )
        parts = bootstrap(settings)
        print("seeding buyers and apps ...", flush=True)
        tokens, app_ids = seed(parts, buyers=args.connections, owners=64, apps_per_owner=APPS_EACH)
        (data_dir / "tokens").write_text("\n".join(tokens) + "\n")
        (data_dir / "apps").write_text("\n".join(map(str, app_ids)) + "\n")
        env = {
            "BENCH_TOKENS": str(data_dir / "tokens"),
            "BENCH_APPS": str(data_dir / "apps"),
            "BENCH_SPREAD": str(APPS_EACH),
        }
        with parts.db.transaction() as session:
            credit_before = session.scalar(select(func.sum(User.credit)))

        port = free_port()
        server = start_server(settings, port, args.workers, args.threads, data_dir / "log")
        base = f"http://127.0.0.1:{port}"
        try:
            # /readyz answers once one worker is up; the others may still be starting. Nothing
            # is measured until all of them answer and the machine has settled.
            print(f"warming up for {args.warmup}s", flush=True)
            warmup_env = {**env, "BENCH_GET": "/healthz"}
            wrk(base, warmup_env, args.connections, args.wrk_threads, args.warmup)
            runs = {}
            for name, extra in (
                ("GET /healthz", {"BENCH_GET": "/healthz"}),
                ("GET /api/v1/users/me", {"BENCH_GET": "/api/v1/users/me"}),
                ("POST /api/v1/apps/{id}/purchase", {}),
            ):
                print(f"{name}: {args.connections} connections for {args.seconds}s", flush=True)
                runs[name] = wrk(
                    base, {**env, **extra}, args.connections, args.wrk_threads, args.seconds
                )
        finally:
            server.terminate()
            server.wait(timeout=30)

        purchase = runs["POST /api/v1/apps/{id}/purchase"]
        answered = purchase["requests"] - purchase["non_2xx"]
        checks = check_invariants(parts, credit_before, answered, args.connections)
        parts.db.dispose()

    print()
    print(f"{'load':34} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for name, run in runs.items():
        print(
            f"{name:34} {run['per_second']:9.0f} {run['p50_ms']:8.1f} {run['p90_ms']:8.1f}"
            f" {run['p99_ms']:8.1f} {run['non_2xx']:8d}"
        )
    floor = runs["GET /healthz"]["per_second"]
    print(f"\npurchases/s as a share of the /healthz floor: {purchase['per_second'] / floor:.2f}")
    print(f"invariants: {json.dumps(checks)}")
    if not checks["ok"] or purchase["socket_errors"]:
        raise SystemExit("invariants broken after the run")


if __name__ == "__main__":
    main()

"""Purchases/s, latency and machine use of ``appstore serve`` on PostgreSQL under 64 buyers.

Run with ``make bench``. wrk drives the load (a C client, so the load generator takes as little
of the machine's cores as possible); every request buys a distinct (buyer, app) pair. Two
shapes of store: ``spread``, the apps of 64 developers (purchases in flight together credit
different owners), and ``one-owner``, every app of one developer, as a hit app's would be
(every purchase credits the same balance). Each round prints purchases/s, p50/p99 latency and
how busy the whole machine was (from /proc/stat) while wrk ran.

Side by side: with ``--against REF`` the same is measured for a git revision checked out
beside this one (see :mod:`ref_tree`), each on a database of its own seeded by its own code
and served the same way, both servers up together and driven alternately by the same load,
round after round; the ratios are printed per shape. Without it, ``GET /healthz`` (the
framework's floor) and ``GET /api/v1/users/me`` (a token check plus one query) are measured
on the same server to put the purchase numbers in proportion.

After the runs every database must hold exactly the purchases answered 201 (plus at most one
in flight per connection), no balance below zero, and every credit that existed before.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import requests
from ref_tree import ROOT, checked_out, describe, environment

from appstore.throttling import UNTHROTTLED_ENV
from servicekit.testing import free_port
from sqlstore.testing import postgres_server, throwaway_database

HERE = Path(__file__).resolve().parent
SHAPES = {"spread": 64, "one-owner": 1}  # owners of the apps


@dataclass
class Side:
    """One revision's server on its own seeded database."""

    name: str
    tree: Path
    database_url: str
    data_dir: Path
    credit_before: int = 0
    answered_201: int = 0
    pairs_used: int = 0
    socket_errors: int = 0
    server: subprocess.Popen | None = None
    port: int = 0
    rounds: list[dict] = field(default_factory=list)

    def run(self, *args: str) -> dict:
        command = [sys.executable, str(HERE / "purchases_side.py"), *args]
        command += ["--database-url", self.database_url, "--data-dir", str(self.data_dir)]
        done = subprocess.run(
            command, env=environment(self.tree), capture_output=True, text=True, check=False
        )
        if done.returncode:
            raise SystemExit(f"{self.name}: {' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_server(side: Side, args) -> None:
    env = {
        **environment(side.tree),
        "APPSTORE_DATABASE_URL": side.database_url,
        "APPSTORE_DATA_DIR": str(side.data_dir),
        # Limits off, as for every load test; a revision without them ignores these.
        **UNTHROTTLED_ENV,
    }
    side.port = free_port()
    command = [str(Path(sys.executable).with_name("appstore")), "serve", "--port", str(side.port)]
    command += ["--workers", str(args.workers)]
    if args.threads:
        command += ["--threads", str(args.threads)]
    log = side.data_dir / "server.log"
    side.server = subprocess.Popen(
        command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    for _ in range(300):
        try:
            if requests.get(f"{side.base}/readyz", timeout=1).ok:
                return
        except requests.RequestException:
            time.sleep(0.1)
    side.server.kill()
    raise SystemExit(f"{side.name}: server did not start:\n{log.read_text()}")


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine so far."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # guest time is already inside user time
    return total - idle, total


def wrk(side: Side, args, seconds: int, extra: dict) -> dict:
    command = ["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{seconds}s"]
    command += ["--timeout", "10s", "-s", str(HERE / "wrk.lua"), side.base]
    env = {
        **os.environ,
        "BENCH_TOKENS": str(side.data_dir / "tokens"),
        "BENCH_APPS": str(side.data_dir / "apps"),
        "BENCH_SPREAD": str(args.apps // args.owners),
        "BENCH_THREADS": str(args.wrk_threads),
        "BENCH_OFFSET": str(side.pairs_used),
        **extra,
    }
    busy_before, total_before = cpu_times()
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    busy_after, total_after = cpu_times()
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    result["per_second"] = result["requests"] / result["seconds"]
    result["busy"] = (busy_after - busy_before) / max(1, total_after - total_before)
    return result


def buy(side: Side, args, seconds: int) -> dict:
    result = wrk(side, args, seconds, {})
    side.answered_201 += result["requests"] - result["non_2xx"]
    side.socket_errors += result["socket_errors"]
    # Requests still in flight at wrk's deadline complete on the server, uncounted.
    side.pairs_used += result["pairs"] + args.connections
    return result


def check(side: Side, args) -> dict:
    found = side.run("check")
    checks = {
        "purchases_in_db": found["purchases"],
        "purchases_answered_201": side.answered_201,
        "credit_conserved": found["credit"] == side.credit_before,
        "lowest_balance": found["lowest_balance"],
        "wrong_price_rows": found["wrong_price_rows"],
        "socket_errors": side.socket_errors,
    }
    in_flight = args.connections * (args.rounds + 1)
    checks["ok"] = (
        side.answered_201 <= found["purchases"] <= side.answered_201 + in_flight
        and checks["credit_conserved"]
        and found["lowest_balance"] >= 0
        and found["wrong_price_rows"] == 0
        and side.socket_errors == 0
    )
    return checks


def row(label: str, run: dict) -> str:
    return (
        f"{label:44} {run['per_second']:8.0f} {run['p50_ms']:8.1f} {run['p99_ms']:8.1f}"
        f" {run['busy']:6.0%} {run['non_2xx']:8d}"
    )


def measure_shape(shape: str, sides: list[Side], args) -> dict:
    """Seed, serve and load every side for one shape; return its figures and checks."""
    owners = SHAPES[shape]
    args.owners = owners
    print(f"\n== {shape}: {args.apps} apps of {owners} developer(s)", flush=True)
    for side in sides:
        print(f"seeding {side.name} ...", flush=True)
        seeded = side.run("seed", "--owners", str(owners), "--apps", str(args.apps))
        side.credit_before = seeded["credit"]
        start_server(side, args)
    floors = {}
    try:
        for side in sides:
            # /readyz answers once one worker is up; nothing is measured until every worker
            # answers and the machine has settled.
            wrk(side, args, args.warmup, {"BENCH_GET": "/healthz"})
            buy(side, args, args.warmup)
        if len(sides) == 1:
            for path in ("/healthz", "/api/v1/users/me"):
                floors[f"GET {path}"] = wrk(sides[0], args, args.seconds, {"BENCH_GET": path})
        for n in range(args.rounds):
            # Alternate who goes first, so neither always runs right after the other.
            for side in sides if n % 2 == 0 else sides[::-1]:
                print(f"round {n + 1}: {side.name} for {args.seconds}s", flush=True)
                side.rounds.append(buy(side, args, args.seconds))
    finally:
        for side in sides:
            side.server.terminate()
            side.server.wait(timeout=30)
    checks = {side.name: check(side, args) for side in sides}
    header = f"{'purchases, ' + shape:44} {'/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'busy':>6}"
    print(f"\n{header} {'non-2xx':>8}")
    for name, run in floors.items():
        print(row(name, run))
    for side in sides:
        for n, run in enumerate(side.rounds):
            print(row(f"{side.name}, round {n + 1}", run))
    figures = {
        side.name: {
            "per_second": [round(r["per_second"]) for r in side.rounds],
            "p99_ms": [round(r["p99_ms"], 1) for r in side.rounds],
            "busy": [round(r["busy"], 3) for r in side.rounds],
        }
        for side in sides
    }
    if len(sides) == 2:
        ours, theirs = sides
        rate = [
            a["per_second"] / b["per_second"]
            for a, b in zip(ours.rounds, theirs.rounds, strict=True)
        ]
        p99 = [a["p99_ms"] / b["p99_ms"] for a, b in zip(ours.rounds, theirs.rounds, strict=True)]
        figures["ratio"] = {
            "per_second": [round(r, 2) for r in rate],
            "per_second_median": round(statistics.median(rate), 2),
            "p99": [round(r, 2) for r in p99],
        }
        print(
            f"{ours.name} / {theirs.name}: purchases/s x"
            + ", x".join(f"{r:.2f}" for r in rate)
            + "; p99 x"
            + ", x".join(f"{r:.2f}" for r in p99)
        )
    print(f"invariants: {json.dumps(checks)}")
    figures["invariants"] = checks
    for side in sides:
        side.rounds, side.answered_201, side.pairs_used, side.socket_errors = [], 0, 0, 0
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=("spread", "one-owner", "both"), default="both")
    parser.add_argument("--against", metavar="REF", help="a git revision to run side by side")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10, help="of each round")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of unmeasured load first")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--apps", type=int, default=1024, help="apps in the store")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes per server")
    parser.add_argument(
        "--threads", type=int, help="threads per process (default: each revision's own)"
    )
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON at the end")
    args = parser.parse_args()
    args.owners = 64
    shapes = ["spread", "one-owner"] if args.shape == "both" else [args.shape]

    results = {}
    with ExitStack() as stack:
        admin_url = stack.enter_context(postgres_server())
        trees = {f"this tree ({describe()})": ROOT}
        if args.against:
            trees[f"{args.against} ({describe(args.against)})"] = stack.enter_context(
                checked_out(args.against)
            )
        for shape in shapes:
            with ExitStack() as databases:
                sides = [
                    Side(
                        name,
                        tree,
                        databases.enter_context(throwaway_database(admin_url, "appstore_bench")),
                        Path(databases.enter_context(tempfile.TemporaryDirectory())),
                    )
                    for name, tree in trees.items()
                ]
                results[shape] = measure_shape(shape, sides, args)
    if args.json:
        print(json.dumps(results, indent=2))
    if not all(c["ok"] for figures in results.values() for c in figures["invariants"].values()):
        raise SystemExit("invariants broken after the run")


if __name__ == "__main__":
    main()

"""``dashboard rebuild`` events/s: the whole log read over HTTP, decoded, folded and swapped in.

A throwaway Appstore database gets the workload of ``bench/pipeline.py`` (a live mix, mostly
purchases) in its outbox, numbered as the relay numbers it, and ``appstore serve`` serves it
as the event log. The clock runs over the whole :func:`dashboard.rebuild.rebuild` into a
throwaway Dashboard database (creating the fresh tables, reading the log with read-ahead,
folding batches of pages, the swap). Side by side, on the same server: the per-page path of
``dashboard sync`` (read a page, fold it in its own transaction, read the next), from an
empty dashboard, over fewer events. The rebuilt totals must equal the workload's.

Besides events/s, each run prints the CPU time per event of this process, of the Appstore's
server and of PostgreSQL: on a machine shared with other work, that is what says how far two
idle cores would go.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg2
import requests
from outbox_seed import insert_rows, outbox_rows
from pipeline_workload import make_workload
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from appstore import outbox
from appstore.bootstrap import bootstrap
from appstore.config import Settings
from appstore.migrations import upgrade as upgrade_appstore
from appstore.services import users
from appstore.throttling import UNTHROTTLED_ENV
from dashboard.appstore_client import AppstoreClient
from dashboard.migrations import upgrade as upgrade_dashboard
from dashboard.models import ProcessedEvent, Total
from dashboard.rebuild import rebuild
from dashboard.sync import sync
from sqlstore import Database
from sqlstore.testing import postgres_server, throwaway_database

BIN = Path(sys.executable).parent
PASSWORD = "bench-service-password"
#: On the project's 2-core machine, with the Appstore and PostgreSQL on it too.
TARGET_RATE = 20_000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class FirstEvents(AppstoreClient):
    """The log cut after sequence ``until``: the baseline reads only that much of it."""

    def __init__(self, url: str, until: int) -> None:
        super().__init__(url, "bench-service", PASSWORD)
        self.until = until

    def events(self, after: int, limit: int = 1000) -> list[dict]:
        if after >= self.until:
            return []
        return super().events(after, min(limit, self.until - after))


def seed(appstore_url: str, data_dir: Path, count: int) -> Counter:
    """The workload in the outbox, numbered, plus the service account; its expected totals."""
    upgrade_appstore(appstore_url)
    parts = bootstrap(Settings(appstore_url, data_dir, password_profile="cheapest"))
    users.register(parts.db, parts.passwords, "bench-service", "s@bench.test", PASSWORD, "service")
    workload = make_workload(count)
    rows = list(outbox_rows(workload.events))
    with parts.db.engine.begin() as connection:
        insert_rows(connection, rows)
        outbox.assign_sequences(connection, limit=len(rows) + 1)
    parts.db.dispose()
    return workload.totals + Counter(users=1)  # the service account's registration


def serve(appstore_url: str, data_dir: Path, workers: int) -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "APPSTORE_DATABASE_URL": appstore_url,
        "APPSTORE_DATA_DIR": str(data_dir),
        "APPSTORE_PASSWORD_PROFILE": "cheapest",
        **UNTHROTTLED_ENV,
    }
    command = [str(BIN / "appstore"), "serve", "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("appstore serve exited early")
        try:
            if requests.get(f"{base_url}/readyz", timeout=1).ok:
                settle(server.pid)
                return server, base_url
        except requests.RequestException:
            pass
        time.sleep(0.1)
    server.terminate()
    raise SystemExit("appstore serve did not become ready")


def settle(pid: int, idle_share: float = 0.05, window: float = 0.5) -> None:
    """Wait until ``pid`` and its children use less than ``idle_share`` of a core: /readyz
    answers once one worker is up, while the others may still be starting."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        before = sum(_cpu_seconds(p) or 0 for p in [pid, *_children(pid)])
        time.sleep(window)
        after = sum(_cpu_seconds(p) or 0 for p in [pid, *_children(pid)])
        if after - before < idle_share * window:
            return


class CpuMeter:
    """CPU seconds of this process, of ``appstore serve`` (master and workers) and of the
    PostgreSQL backends serving the bench's databases, sampled from /proc while it runs.

    On a machine shared with other work, events/s depends on what else runs; CPU time per
    event does much less, and says what two idle cores could do.
    """

    def __init__(self, admin_url: str, server_pid: int, databases: list[str]) -> None:
        self.admin_url, self.server_pid, self.databases = admin_url, server_pid, databases
        self.first: dict[tuple[str, int], float] = {}
        self.last: dict[tuple[str, int], float] = {}
        self._stop = threading.Event()

    def __enter__(self) -> CpuMeter:
        self._started = time.process_time()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.own = time.process_time() - self._started

    def seconds(self) -> dict[str, float]:
        spent = {"this process": self.own, "appstore serve": 0.0, "postgresql": 0.0}
        for (who, pid), last in self.last.items():
            spent[who] += last - self.first[who, pid]
        return spent

    def _sample(self) -> None:
        admin = psycopg2.connect(self.admin_url)
        admin.autocommit = True
        try:
            while True:
                with admin.cursor() as cursor:
                    cursor.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = ANY(%s)",
                        (self.databases,),
                    )
                    backends = [pid for (pid,) in cursor.fetchall()]
                server = [self.server_pid, *_children(self.server_pid)]
                for who, pids in (("postgresql", backends), ("appstore serve", server)):
                    for pid in pids:
                        if (used := _cpu_seconds(pid)) is not None:
                            self.first.setdefault((who, pid), used)
                            self.last[who, pid] = used
                if self._stop.wait(0.1):
                    return
        finally:
            admin.close()


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _children(pid: int) -> list[int]:
    try:
        return [
            int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ]
    except FileNotFoundError:
        return []


def check(name: str, db: Database, expected: Counter, events: int) -> None:
    """Every event recorded once, and totals exactly those expected."""
    with db.reading() as session:
        totals = dict(session.execute(select(Total.name, Total.value)).all())
        processed = session.scalar(select(func.count()).select_from(ProcessedEvent))
    differing = {k: (totals.get(k, 0), v) for k, v in expected.items() if totals.get(k, 0) != v}
    if processed != events or differing:
        raise SystemExit(
            f"{name}: {processed:,} of {events:,} events recorded; totals that differ "
            f"(dashboard, expected): {differing}"
        )


def timed(admin_url: str, server, appstore_db: str, run) -> tuple[int, float, dict]:
    """``run(db)`` on a fresh Dashboard database: events read, seconds, CPU seconds by part."""
    with throwaway_database(admin_url, "rebuild_bench_dashboard") as url:
        upgrade_dashboard(url)
        db = Database(url)
        meter = CpuMeter(admin_url, server.pid, [appstore_db, make_url(url).database])
        with meter:
            started = time.perf_counter()
            events = run(db)
            seconds = time.perf_counter() - started
        db.dispose()
    return events, seconds, meter.seconds()


def rebuild_all(db: Database, base_url: str, expected: Counter, batch_size: int) -> int:
    client = AppstoreClient(base_url, "bench-service", PASSWORD)
    client.events(after=0, limit=1)  # signed in before the clock starts
    result = rebuild(db, client, batch_size=batch_size)
    check("rebuild", db, expected, result.read)
    return result.read


def sync_first(db: Database, base_url: str, events: int) -> int:
    client = FirstEvents(base_url, events)
    client.events(after=0, limit=1)
    return sync(db, client).read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--baseline-events", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=2, help="appstore serve's processes")
    args = parser.parse_args()

    with (
        postgres_server() as admin_url,
        throwaway_database(admin_url, "rebuild_bench_appstore") as appstore_url,
    ):
        data_dir = Path(tempfile.mkdtemp(prefix="rebuild-bench-"))
        print(f"seeding the Appstore's log with {args.events:,} events ...", flush=True)
        expected = seed(appstore_url, data_dir, args.events)
        server, base_url = serve(appstore_url, data_dir, args.workers)
        try:
            appstore_db = make_url(appstore_url).database
            print("rebuilding ...", flush=True)
            rebuilt = timed(
                admin_url,
                server,
                appstore_db,
                lambda db: rebuild_all(db, base_url, expected, args.batch_size),
            )
            print("the sync path ...", flush=True)
            synced = timed(
                admin_url,
                server,
                appstore_db,
                lambda db: sync_first(db, base_url, args.baseline_events),
            )
        finally:
            server.terminate()
            server.wait(30)

    rows = [("dashboard rebuild", *rebuilt), ("sync path, a page per transaction", *synced)]
    print(f"\n{'way':34} {'events':>8} {'seconds':>8} {'events/s':>9}   CPU µs per event")
    for name, events, seconds, cpu in rows:
        parts = "  ".join(f"{who} {used / events * 1e6:.0f}" for who, used in cpu.items())
        print(f"{name:34} {events:8,} {seconds:8.1f} {events / seconds:9,.0f}   {parts}")
    rate, baseline = (events / seconds for _, events, seconds, _ in rows)
    cpu_per_event = sum(rebuilt[2].values()) / rebuilt[0]
    print(f"\nrebuild: {rate:,.0f} events/s (target >= {TARGET_RATE:,})")
    print(f"rebuild / sync path: {rate / baseline:.1f}x")
    print(
        f"rebuild CPU, all parts: {cpu_per_event * 1e6:.0f} µs per event, a ceiling of "
        f"{os.cpu_count() / cpu_per_event:,.0f} events/s on {os.cpu_count()} idle cores"
    )


if __name__ == "__main__":
    main()

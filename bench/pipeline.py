"""End-to-end events/s: outbox -> appstore relay -> RabbitMQ -> dashboard worker -> projections.

Run with ``make bench``. Each run gets two throwaway PostgreSQL databases (the Appstore's
outbox, the Dashboard's projections) and real processes: ``dashboard worker`` consuming
``dashboard.events`` (bound to ``appstore.events`` with ``#``) and ``appstore relay``. Once
both are up and idle, one transaction commits the whole workload to the outbox (a live mix:
mostly AppPurchased, plus registrations with their credit grants, app creations and
verifications); the clock runs from that commit until the Dashboard's
``fold_progress.contiguous_through`` reaches the last sequence, i.e. every event is folded.

Three runs side by side (the second and third on fewer events: rates, not durations, are
compared): the worker as shipped (batched folds); the same worker with
``DASHBOARD_FOLD_BATCH_MAX=1``, one transaction per event; and the floor, Dramatiq running
an actor that does nothing (:mod:`dramatiq_floor`) on the same broker class, encoder and
queue, fed by the same relay. The floor is the most a worker taking one event per message
can do on this machine; the batched run as a share of it says how much the fold costs on
top. Every fold run's projections are checked against the workload. The
resident memory of all the worker's processes (the main one and its forks) is sampled
from /proc while events flow.

The queue and exchange names are the real ones, so use a broker or vhost of its own
(``BROKER_URL``, e.g. ``amqp://guest:guest@127.0.0.1:5672/bench``): the run refuses to
start when ``dashboard.events`` there has consumers or messages, and deletes the
Dashboard's queues at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pika
from outbox_seed import insert_rows, outbox_rows
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from appstore.migrations import upgrade as upgrade_appstore
from appstore_events import EXCHANGE
from dashboard.migrations import upgrade as upgrade_dashboard
from dashboard.worker.topology import DEAD_LETTER_QUEUE, DELAY_QUEUE, QUEUE
from sqlstore.testing import postgres_server, throwaway_database

DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672/"
BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent
MB = 1024 * 1024
# Targets on the project's 2-core machine (broker, databases and processes all on it).
TARGET_RATE = 4_000
TARGET_RATIO = 3.0
TARGET_RSS_MB = 150
RSS_INTERVAL = 0.5
FLOOR = "Dramatiq floor (no-op actor)"
POLL_INTERVAL = 0.05


# --- the workload -----------------------------------------------------------------------


@dataclass
class Workload:
    """Events as a live Appstore logs them, and the totals the Dashboard must end up with."""

    events: list[tuple[str, dict]] = field(default_factory=list)
    totals: Counter[str] = field(default_factory=Counter)

    def add(self, event_type: str, data: dict) -> None:
        self.events.append((event_type, data))


def make_workload(count: int, seed: int = 7) -> Workload:
    """``count`` events over the past day: ~92% purchases, the rest the store growing.

    A starting cast (an admin, developers with verified apps, buyers with credit) comes
    first; after it, each event is a purchase of a verified app by a registered user who
    has not bought it yet (92%), a registration followed by its credit grant (3% each),
    or an app created (1%) that an admin verifies a little later (1%).
    """
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=1)
    step = timedelta(days=1) / count
    work = Workload()
    users: list[int] = []
    owners: dict[int, int] = {}  # verified app -> its owner
    prices: dict[int, int] = {}
    pending: list[tuple[int, int]] = []  # created, not yet verified: (app, owner)
    bought: set[tuple[int, int]] = set()

    def at() -> str:
        return (start + step * len(work.events)).isoformat().replace("+00:00", "Z")

    def register(role: str = "user") -> int:
        user_id = len(users) + 1
        users.append(user_id)
        work.add(
            "UserRegistered",
            {"user_id": user_id, "username": f"u{user_id}", "role": role, "registered_at": at()},
        )
        if role == "user":
            amount = rng.choice((100, 500, 1000))
            work.add(
                "CreditGranted",
                {"user_id": user_id, "amount": amount, "granted_by": 1, "granted_at": at()},
            )
        return user_id

    def create(owner: int) -> None:
        app_id = len(prices) + 1  # every app created so far has its price here
        price = rng.choice((0, 1, 2, 5, 10, 20))
        prices[app_id] = price
        work.add(
            "AppCreated",
            {"app_id": app_id, "owner_id": owner, "title": f"App {app_id}", "price": price,
             "created_at": at()},
        )  # fmt: skip
        pending.append((app_id, owner))

    def verify() -> None:
        app_id, owner = pending.pop(0)
        work.add("AppVerified", {"app_id": app_id, "verified_by": 1, "verified_at": at()})
        owners[app_id] = owner

    def purchase() -> None:
        apps = list(owners)
        for _ in range(20):  # a fresh (buyer, app) pair; the cast makes one easy to find
            buyer, app_id = rng.choice(users[1:]), rng.choice(apps)
            if owners[app_id] != buyer and (buyer, app_id) not in bought:
                break
        else:
            register()
            return
        bought.add((buyer, app_id))
        price = prices[app_id]
        work.add(
            "AppPurchased",
            {"purchase_id": len(bought), "app_id": app_id, "buyer_id": buyer,
             "owner_id": owners[app_id], "price": price, "purchased_at": at()},
        )  # fmt: skip

    register("admin")
    for _ in range(max(2, count // 2000)):
        owner = register()
        create(owner)
        verify()
    for _ in range(max(2, count // 400)):
        register()
    while len(work.events) < count:
        roll = rng.random()
        if roll < 0.03:
            register()
        elif roll < 0.04:
            create(rng.choice(users[1:]))
        elif roll < 0.05 and pending:
            verify()
        else:
            purchase()
    del work.events[count:]  # perhaps a grant after the last registration
    buyers = set()
    for event_type, data in work.events:
        if event_type == "UserRegistered":
            work.totals["users"] += 1
        elif event_type == "CreditGranted":
            work.totals["credits_granted"] += data["amount"]
        elif event_type == "AppCreated":
            work.totals["apps_created"] += 1
        elif event_type == "AppVerified":
            work.totals["apps_verified"] += 1
        elif event_type == "AppPurchased":
            work.totals["purchases"] += 1
            work.totals["credits_spent"] += data["price"]
            buyers.add(data["buyer_id"])
    work.totals["buyers"] = len(buyers)
    return work


# --- RabbitMQ ---------------------------------------------------------------------------


class Broker:
    """The bench's view of RabbitMQ: the Dashboard's queue, its binding, its cleanup."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _channel(self):
        connection = pika.BlockingConnection(pika.URLParameters(self.url))
        return connection, connection.channel()

    def queue(self, name: str = QUEUE) -> tuple[int, int] | None:
        """``(messages, consumers)`` of a queue, or None when it does not exist."""
        connection, channel = self._channel()
        try:
            method = channel.queue_declare(name, passive=True).method
            return method.message_count, method.consumer_count
        except pika.exceptions.ChannelClosedByBroker:
            return None
        finally:
            if connection.is_open:
                connection.close()

    def refuse_if_in_use(self) -> None:
        state = self.queue()
        if state is not None and any(state):
            raise SystemExit(
                f"{QUEUE} on {self.url} holds {state[0]} messages and has {state[1]} "
                "consumers: point BROKER_URL at a broker or vhost of the benchmark's own"
            )

    def bind(self) -> None:
        """Bind the worker's queue (declared by the worker itself) to the exchange."""
        connection, channel = self._channel()
        with connection:
            channel.exchange_declare(EXCHANGE, "topic", durable=True)
            channel.queue_bind(QUEUE, EXCHANGE, routing_key="#")

    def delete_queues(self) -> None:
        connection, channel = self._channel()
        with connection:
            for name in (QUEUE, DELAY_QUEUE, DEAD_LETTER_QUEUE):
                channel.queue_delete(name)


# --- processes --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APPSTORE_", "DASHBOARD_"))}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(process: subprocess.Popen, grace: float = 30) -> None:
    """SIGTERM to the main process (it shuts its forks down), then SIGKILL to the group."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def process_tree(root: int) -> list[int]:
    """``root`` and every process descended from it, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def cpu_seconds(root: int) -> float:
    """CPU time (user + system) used so far by ``root`` and the processes it started."""
    ticks = 0
    for pid in process_tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """``(busy, total)`` CPU ticks of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle and iowait
    return sum(values) - idle, sum(values)


def memory_of(pid: int) -> tuple[int, int] | None:
    """``(RSS, PSS)`` of a process in bytes; None if it has ended.

    PSS splits each page shared by the forks among them, so summed over the processes it
    is the memory they really take; summed RSS counts the pages they share once each.
    """
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return None
    sizes = {line.split()[0]: int(line.split()[1]) * 1024 for line in rollup[1:]}
    return sizes["Rss:"], sizes["Pss:"]


@dataclass
class MemorySamples:
    """Memory of the worker's processes, sampled while events flow."""

    rss_totals: list[int] = field(default_factory=list)
    pss_totals: list[int] = field(default_factory=list)
    largest: list[int] = field(default_factory=list)
    processes: int = 0

    def take(self, root: int) -> None:
        sizes = [size for pid in process_tree(root) if (size := memory_of(pid))]
        if sizes:
            self.rss_totals.append(sum(rss for rss, _ in sizes))
            self.pss_totals.append(sum(pss for _, pss in sizes))
            self.largest.append(max(rss for rss, _ in sizes))
            self.processes = max(self.processes, len(sizes))


# --- one run ----------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    events: int
    seconds: float
    relay_seconds: float
    memory: MemorySamples
    worker_cpu: float  # seconds of CPU the worker's processes used during the run
    relay_cpu: float
    machine_busy: float  # share of all cores busy during the run, with everything else on it

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def run_pipeline(
    name: str,
    admin_url: str,
    broker: Broker,
    workload: Workload,
    *,
    processes: int,
    threads: int,
    batch_max: int | None,
    timeout: float,
    logs: Path,
    floor: bool = False,
) -> Result:
    """One run from the outbox's commit until every event is handled.

    With ``floor``, Dramatiq runs :mod:`dramatiq_floor` instead of the Dashboard worker:
    the same broker, encoder and queue, and an actor that does nothing, so that the run
    measures what Dramatiq, RabbitMQ and the relay cost before any fold.
    """
    count = len(workload.events)
    print(f"\n{name}: preparing {count:,} events ...", flush=True)
    rows = list(outbox_rows(workload.events))  # the contract's checks, before the clock
    with (
        throwaway_database(admin_url, "pipeline_appstore") as appstore_url,
        throwaway_database(admin_url, "pipeline_dashboard") as dashboard_url,
    ):
        upgrade_appstore(appstore_url)
        upgrade_dashboard(dashboard_url)
        appstore_db = create_engine(appstore_url, poolclass=NullPool)
        dashboard_db = create_engine(dashboard_url, poolclass=NullPool)
        worker_env = clean_env(
            BROKER_URL=broker.url,
            DASHBOARD_DATABASE_URL=dashboard_url,
            DASHBOARD_WORKER_METRICS_PORT=str(free_port()),
            DASHBOARD_SYNC_INTERVAL_SECONDS="0",
        )
        if batch_max is not None:
            worker_env["DASHBOARD_FOLD_BATCH_MAX"] = str(batch_max)
        relay_env = clean_env(
            BROKER_URL=broker.url,
            APPSTORE_DATABASE_URL=appstore_url,
            APPSTORE_DATA_DIR=tempfile.mkdtemp(prefix="pipeline-bench-"),
            APPSTORE_RELAY_METRICS_PORT="0",
        )
        slug = name.split()[0]
        worker_log, relay_log = logs / f"{slug}-worker.log", logs / f"{slug}-relay.log"
        command = [str(BIN / "dashboard"), "worker"]
        if floor:
            counts = Path(tempfile.mkdtemp(prefix="pipeline-floor-counts-"))
            worker_env.update(PYTHONPATH=str(HERE), FLOOR_COUNTS_DIR=str(counts))
            command = [str(BIN / "dramatiq"), "dramatiq_floor", "--skip-logging"]

            def handled(_dashboard) -> int:
                return sum(int(f.read_text() or 0) for f in counts.iterdir())
        else:

            def handled(dashboard) -> int:
                return dashboard.scalar(text("SELECT contiguous_through FROM fold_progress"))

        command += ["--processes", str(processes), "--threads", str(threads)]
        worker = start(command, worker_env, worker_log)
        relay = start([str(BIN / "appstore"), "relay"], relay_env, relay_log)
        try:
            wait_until(
                lambda: (broker.queue() or (0, 0))[1] >= processes,
                "the worker to consume",
                (worker, relay),
                60,
            )
            broker.bind()
            wait_until(
                lambda: "leading" in relay_log.read_text(errors="replace"),
                "the relay to lead",
                (worker, relay),
                60,
            )
            print(f"{name}: committing them to the outbox in one transaction ...", flush=True)
            with appstore_db.begin() as connection:
                insert_rows(connection, rows)
            started = time.perf_counter()
            cpu_before = cpu_seconds(worker.pid), cpu_seconds(relay.pid)
            ticks_before = machine_ticks()
            memory = MemorySamples()
            relay_done = None
            next_sample = 0.0
            with (
                dashboard_db.connect() as dashboard,
                appstore_db.connect() as appstore,
            ):
                while True:
                    folded = handled(dashboard)
                    dashboard.commit()
                    now = time.perf_counter()
                    if folded >= count:
                        break
                    if relay_done is None:
                        published = appstore.scalar(
                            text("SELECT published_through FROM outbox_progress")
                        )
                        appstore.commit()
                        if published >= count:
                            relay_done = now - started
                    if now >= next_sample and folded >= count // 10:  # the steady state
                        memory.take(worker.pid)
                        next_sample = now + RSS_INTERVAL
                    check_alive((worker, relay), (worker_log, relay_log))
                    if now - started > timeout:
                        raise SystemExit(
                            f"{name}: {folded:,} of {count:,} folded after {timeout:.0f} s"
                        )
                    time.sleep(POLL_INTERVAL)
            seconds = time.perf_counter() - started
            worker_cpu = cpu_seconds(worker.pid) - cpu_before[0]
            relay_cpu = cpu_seconds(relay.pid) - cpu_before[1]
            busy_after, total_after = machine_ticks()
            busy, total = busy_after - ticks_before[0], total_after - ticks_before[1]
        finally:
            stop(relay)
            stop(worker)
        if not floor:
            check_projections(name, dashboard_db, workload, count)
        appstore_db.dispose()
        dashboard_db.dispose()
    left, dead = broker.queue()[0], broker.queue(DEAD_LETTER_QUEUE)[0]
    if left or dead:  # unacked messages go back to the queue when the worker stops
        raise SystemExit(
            f"{name}: {left} messages left on {QUEUE}, {dead} dead-lettered (see {worker_log})"
        )
    result = Result(
        name, count, seconds, relay_done or seconds, memory, worker_cpu, relay_cpu, busy / total
    )
    print(f"{name}: {count:,} events in {seconds:.1f} s, {result.rate:,.0f} events/s", flush=True)
    return result


def wait_until(condition, what: str, processes, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if any(process.poll() is not None for process in processes):
            raise SystemExit(f"a process exited while waiting for {what}")
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.1)


def check_alive(processes, logs) -> None:
    for process, log in zip(processes, logs, strict=True):
        if process.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
            raise SystemExit(f"{process.args[1]} exited {process.returncode}:\n{tail}")


def check_projections(name: str, dashboard_db, workload: Workload, count: int) -> None:
    """Every event folded once, and the totals exactly those of the workload."""
    with dashboard_db.connect() as connection:
        totals = dict(connection.execute(text("SELECT name, value FROM totals")).all())
        processed = connection.scalar(text("SELECT count(*) FROM processed_events"))
    expected = dict(workload.totals)
    differing = {k: (totals.get(k, 0), v) for k, v in expected.items() if totals.get(k, 0) != v}
    if processed != count or differing:
        raise SystemExit(
            f"{name}: {processed:,} of {count:,} events recorded; totals that differ "
            f"(dashboard, expected): {differing}"
        )


# --- report -----------------------------------------------------------------------------


def memory_line(result: Result) -> str:
    samples = result.memory
    if not samples.rss_totals:
        return f"{result.name}: no memory samples (the run was too short)"

    def mb(values: list[int]) -> str:
        return f"max {max(values) / MB:.0f} / median {statistics.median(values) / MB:.0f} MB"

    return (
        f"{result.name}: worker memory, {samples.processes} processes, "
        f"{len(samples.rss_totals)} samples: RSS summed {mb(samples.rss_totals)}, "
        f"PSS summed {mb(samples.pss_totals)}, largest process RSS {mb(samples.largest)} "
        f"(target < {TARGET_RSS_MB} MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker-url", default=os.environ.get("BROKER_URL", DEFAULT_BROKER))
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--baseline-events", type=int, default=10_000, help="0: no baseline run")
    parser.add_argument(
        "--floor-events", type=int, default=50_000, help="0: no run of Dramatiq's floor"
    )
    parser.add_argument("--processes", type=int, default=1, help="dashboard worker --processes")
    parser.add_argument("--threads", type=int, default=256, help="dashboard worker --threads")
    parser.add_argument(
        "--batch-max", type=int, default=None, help="DASHBOARD_FOLD_BATCH_MAX of the batched run"
    )
    parser.add_argument("--timeout", type=float, default=900, help="seconds per run at most")
    args = parser.parse_args()

    broker = Broker(args.broker_url)
    broker.refuse_if_in_use()
    logs = Path(tempfile.mkdtemp(prefix="pipeline-bench-logs-"))
    print(f"broker {args.broker_url}; process logs in {logs}")
    runs = [("batched fold", args.events, args.batch_max, False)]
    if args.baseline_events:
        runs.append(("one transaction per event", args.baseline_events, 1, False))
    if args.floor_events:
        runs.append((FLOOR, args.floor_events, None, True))
    results = []
    try:
        with postgres_server() as admin_url:
            for name, count, batch_max, floor in runs:
                results.append(
                    run_pipeline(
                        name,
                        admin_url,
                        broker,
                        make_workload(count),
                        processes=args.processes,
                        threads=args.threads,
                        batch_max=batch_max,
                        timeout=args.timeout,
                        logs=logs,
                        floor=floor,
                    )
                )
    finally:
        broker.delete_queues()

    print(f"\ndashboard worker --processes {args.processes} --threads {args.threads}")
    print(
        f"{'run':26} {'events':>8} {'seconds':>8} {'events/s':>9} {'relay done':>11}"
        f" {'CPU ms/event: worker':>21} {'relay':>6} {'machine busy':>13}"
    )
    for r in results:
        print(
            f"{r.name:26} {r.events:8,} {r.seconds:8.1f} {r.rate:9,.0f} {r.relay_seconds:10.1f}s"
            f" {r.worker_cpu * 1000 / r.events:21.3f} {r.relay_cpu * 1000 / r.events:6.3f}"
            f" {r.machine_busy:12.0%}"
        )
    print(f"({os.cpu_count()} cores, shared by the broker, PostgreSQL and all processes)")
    batched = results[0]
    print(f"\nend to end: {batched.rate:,.0f} events/s (target >= {TARGET_RATE:,})")
    by_name = {result.name: result for result in results}
    if baseline := by_name.get("one transaction per event"):
        ratio = batched.rate / baseline.rate
        print(f"batched / one transaction per event: {ratio:.1f}x (target >= {TARGET_RATIO:g}x)")
    if floor := by_name.get(FLOOR):
        print(
            f"batched / {FLOOR}: {batched.rate / floor.rate:.0%} (the fold's own cost is the rest;"
            " the floor is the most any one-event-per-message worker gets here)"
        )
    for result in results:
        print(memory_line(result))


if __name__ == "__main__":
    main()

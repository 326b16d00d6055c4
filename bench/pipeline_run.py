"""One run of the pipeline benchmark, from the outbox's commit until every event is
handled, with the projections checked against the workload."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from outbox_seed import insert_rows, outbox_rows
from pipeline_broker import Broker
from pipeline_processes import MemorySamples, clean_env, cpu_seconds, machine_ticks, start, stop
from pipeline_workload import Workload
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from appstore.migrations import upgrade as upgrade_appstore
from dashboard.migrations import upgrade as upgrade_dashboard
from dashboard.worker.topology import DEAD_LETTER_QUEUE, QUEUE
from servicekit.testing import free_port
from sqlstore.testing import throwaway_database

BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent
RSS_INTERVAL = 0.5
POLL_INTERVAL = 0.05


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
    database_cpu: float  # seconds of CPU of the Dashboard database's server processes
    transactions: int  # fold transactions committed (0 for the floor)

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
            path = os.pathsep.join(p for p in (str(HERE), worker_env.get("PYTHONPATH")) if p)
            worker_env.update(PYTHONPATH=path, FLOOR_COUNTS_DIR=str(counts))
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
            generation_before = 0 if floor else generation(dashboard_db)
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
                # Its connections were opened after the clock started, by the worker.
                database_cpu = sum(
                    cpu_seconds(pid, tree=False)
                    for pid in dashboard.scalars(
                        text(
                            "SELECT pid FROM pg_stat_activity"
                            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                        )
                    )
                )
                transactions = 0 if floor else generation(dashboard_db) - generation_before
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
        name,
        count,
        seconds,
        relay_done or seconds,
        memory,
        worker_cpu,
        relay_cpu,
        busy / total,
        database_cpu,
        transactions,
    )
    print(f"{name}: {count:,} events in {seconds:.1f} s, {result.rate:,.0f} events/s", flush=True)
    return result


def generation(dashboard_db) -> int:
    """``fold_progress.generation``, which each committed fold transaction raises by one."""
    with dashboard_db.connect() as connection:
        return connection.scalar(text("SELECT generation FROM fold_progress"))


def wait_until(condition, what: str, processes, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if not all(process.alive() for process in processes):
            raise SystemExit(f"a process exited while waiting for {what}")
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.1)


def check_alive(processes, logs) -> None:
    for process, log in zip(processes, logs, strict=True):
        if not process.alive():
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
            raise SystemExit(f"{process.process.args[1]} exited {process.returncode}:\n{tail}")


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

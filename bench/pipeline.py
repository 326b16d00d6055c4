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

With ``--cluster-events`` (on by default), the batched run goes once more on fewer events,
first on the same single node, then on a three-node cluster that ``infra/rabbitmq/cluster.sh``
starts for it (quorum queues replicated on each node): their ratio is what the cluster
costs.

The queue and exchange names are the real ones, so use a broker or vhost of its own
(``BROKER_URL``, e.g. ``amqp://guest:guest@127.0.0.1:5672/bench``): the run refuses to
start when ``dashboard.events`` there has consumers or messages, and deletes the
Dashboard's queues at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from pipeline_broker import DEFAULT_BROKER, Broker
from pipeline_run import Result, run_pipeline
from pipeline_workload import make_workload

from dashboard.config import DEFAULT_WORKER_THREADS
from servicekit.rabbitmq_cluster import running_cluster
from sqlstore.testing import postgres_server

MB = 1024 * 1024
# Targets on the project's 2-core machine (broker, databases and processes all on it).
TARGET_RATE = 4_000
TARGET_RATIO = 3.0
TARGET_RSS_MB = 150
FLOOR = "Dramatiq floor (no-op actor)"
SINGLE_NODE = "batched, one node"
ON_CLUSTER = "batched, 3-node cluster"
CLUSTER_SCRIPT = Path(__file__).resolve().parents[1] / "infra" / "rabbitmq" / "cluster.sh"


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
    parser.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_WORKER_THREADS,
        help="dashboard worker --threads (and the floor's)",
    )
    parser.add_argument(
        "--batch-max", type=int, default=None, help="DASHBOARD_FOLD_BATCH_MAX of the batched run"
    )
    parser.add_argument("--timeout", type=float, default=900, help="seconds per run at most")
    parser.add_argument(
        "--cluster-events",
        type=int,
        default=50_000,
        help="events of the batched run on a three-node RabbitMQ cluster that "
        "infra/rabbitmq/cluster.sh starts for it (0: no cluster run)",
    )
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

    def run(name: str, on: Broker, count: int, batch_max: int | None, floor: bool) -> None:
        results.append(
            run_pipeline(
                name,
                admin_url,
                on,
                make_workload(count),
                processes=args.processes,
                threads=args.threads,
                batch_max=batch_max,
                timeout=args.timeout,
                logs=logs,
                floor=floor,
            )
        )

    with postgres_server() as admin_url:
        try:
            for name, count, batch_max, floor in runs:
                run(name, broker, count, batch_max, floor)
            if args.cluster_events:
                # The same batched run on fewer events, on the single node just before.
                run(SINGLE_NODE, broker, args.cluster_events, args.batch_max, False)
        finally:
            broker.delete_queues()
        if args.cluster_events:
            print("starting a three-node RabbitMQ cluster (infra/rabbitmq/cluster.sh)")
            with running_cluster(CLUSTER_SCRIPT) as cluster:
                run(ON_CLUSTER, Broker(cluster.url), args.cluster_events, args.batch_max, False)

    print(f"\ndashboard worker --processes {args.processes} --threads {args.threads}")
    print(
        f"{'run':26} {'events':>8} {'seconds':>8} {'events/s':>9} {'relay done':>11}"
        f" {'CPU ms/event: worker':>21} {'relay':>6} {'database':>9} {'events/txn':>11}"
        f" {'machine busy':>13}"
    )
    for r in results:
        per_transaction = f"{r.events / r.transactions:11,.0f}" if r.transactions else f"{'':11}"
        print(
            f"{r.name:26} {r.events:8,} {r.seconds:8.1f} {r.rate:9,.0f} {r.relay_seconds:10.1f}s"
            f" {r.worker_cpu * 1000 / r.events:21.3f} {r.relay_cpu * 1000 / r.events:6.3f}"
            f" {r.database_cpu * 1000 / r.events:9.3f} {per_transaction}"
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
    if (single := by_name.get(SINGLE_NODE)) and (clustered := by_name.get(ON_CLUSTER)):
        print(
            f"3-node cluster (quorum queues) / one node: {clustered.rate / single.rate:.0%}"
            " (a quorum queue writes each message to a majority before confirming it)"
        )
    for result in results:
        print(memory_line(result))


if __name__ == "__main__":
    main()

"""The Dashboard worker's CPU per folded event, in one process, without RabbitMQ.

``bench/pipeline.py`` measures the whole pipeline, where the relay, RabbitMQ and PostgreSQL
share the machine with the worker, so its figures swing with whatever else runs. This
takes the worker's own part: the pipeline's workload, as the relay publishes it (one JSON
envelope per body), is put on the queue of the worker's in-process broker (Dramatiq's
``StubBroker``, with the same actor, held acks, batcher, retries and dead-letter
middleware as on RabbitMQ), and a Dramatiq worker of ``--threads`` threads folds it into a
throwaway database. The floor beside it is the same broker, queue and encoder with an
actor that does nothing, as ``bench/dramatiq_floor.py`` on RabbitMQ.

It prints, for each of ``--rounds`` rounds (the two alternated), the CPU this process
spent per event (user + system, every thread; PostgreSQL's own CPU is not in it) and the
difference, which is what the fold adds to the most a worker taking one event per message
must spend. ``--profile FILE`` writes a py-spy profile of the fold's last round.
"""

from __future__ import annotations

import argparse
import json
import logging
import operator
import os
import resource
import statistics
import subprocess
import threading
import time

import dramatiq
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker
from pipeline_workload import make_workload
from sqlalchemy import select

from appstore_events import new_encoded
from dashboard.config import Settings
from dashboard.migrations import upgrade
from dashboard.models import EVENTS_PROGRESS, FoldProgress
from dashboard.worker import metrics
from dashboard.worker.bootstrap import build_broker
from dashboard.worker.encoder import EnvelopeEncoder
from dashboard.worker.topology import FOLD_ACTOR, QUEUE
from sqlstore import Database
from sqlstore.testing import postgres_server, throwaway_database


def bodies(events: list[tuple[str, dict]], first_sequence: int) -> list[bytes]:
    """``events`` as the relay publishes them, new ids, numbered from ``first_sequence``."""
    out = []
    for offset, (event_type, data) in enumerate(events):
        _envelope, wire = new_encoded(event_type, data)
        wire["sequence"] = first_sequence + offset
        out.append(json.dumps(wire, separators=(",", ":")).encode())
    return out


def reached(counter: list[int], target: int):
    """A test that ``counter[0]`` has reached ``target``."""
    return lambda: counter[0] >= target


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(broker, payload: list[bytes], threads: int, done, profile: str | None) -> float:
    """Queue ``payload`` on ``broker``, work it off with a Dramatiq worker until ``done()``;
    return the CPU seconds spent per event."""
    queue = broker.queues[QUEUE]
    for body in payload:
        queue.put(body)
    spy = None
    if profile:
        spy = subprocess.Popen(
            ["py-spy", "record", "--pid", str(os.getpid()), "--gil", "--format", "raw",
             "--rate", "250", "-o", profile],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(1.0)
    worker = Worker(broker, worker_threads=threads, worker_timeout=100)
    started = cpu_seconds()
    worker.start()
    while not done():
        time.sleep(0.01)
    spent = cpu_seconds() - started
    worker.stop()
    if spy is not None:
        spy.send_signal(2)
        spy.wait()
    return spent / len(payload)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--profile", help="a py-spy raw profile of the fold's last round")
    args = parser.parse_args()
    # Each round's Dramatiq worker adds its own middleware to the broker and says so.
    logging.getLogger("dramatiq").setLevel(logging.ERROR)

    with postgres_server() as admin_url, throwaway_database(admin_url, "fold_inprocess") as url:
        upgrade(url)
        database = Database(url, 1)
        dramatiq.set_encoder(EnvelopeEncoder())
        fold_broker = build_broker(Settings(database_url=url))
        floor_broker = StubBroker(middleware=[])
        floor_broker.add_middleware(_FloorPrefetch())
        handled = [0]
        lock = threading.Lock()

        def nothing(argument) -> None:
            with lock:
                handled[0] += 1

        dramatiq.actor(nothing, broker=floor_broker, actor_name=FOLD_ACTOR, queue_name=QUEUE)

        folded = [0]
        record_fold = metrics.record_fold

        def counting(size: int, result, seconds: float) -> None:
            record_fold(size, result, seconds)
            folded[0] += size  # read by the main thread only once it has stopped growing

        metrics.record_fold = counting  # the batcher's on_folded, looked up when it is made

        def folded_through() -> int:
            with database.reading() as session:
                return session.scalar(
                    select(FoldProgress.contiguous_through).where(
                        FoldProgress.name == EVENTS_PROGRESS
                    )
                )

        # The pipeline bench's workload, so that a batch spans as many minutes and apps.
        events = make_workload(args.events).events
        folds, floors = [], []
        for number in range(args.rounds):
            first = number * args.events + 1
            payload = bodies(events, first)
            last = first + args.events - 1
            dramatiq.set_broker(fold_broker)
            profile = args.profile if number == args.rounds - 1 else None
            folded[0] = 0
            folds.append(
                run(
                    fold_broker,
                    payload,
                    args.threads,
                    reached(folded, len(payload)),
                    profile,
                )
            )
            if folded_through() != last:
                raise SystemExit(f"folded through {folded_through()}, not {last}")
            handled[0] = 0
            dramatiq.set_broker(floor_broker)
            floors.append(
                run(
                    floor_broker,
                    payload,
                    args.threads,
                    reached(handled, len(payload)),
                    None,
                )
            )
            print(
                f"round {number + 1}: fold {folds[-1] * 1e6:.1f} us/event, "
                f"floor {floors[-1] * 1e6:.1f} us/event, "
                f"fold - floor {(folds[-1] - floors[-1]) * 1e6:.1f} us/event",
                flush=True,
            )
        fold_broker.folding.finish()
        print(
            f"median: fold {statistics.median(folds) * 1e6:.1f} us/event, "
            f"floor {statistics.median(floors) * 1e6:.1f}, "
            f"fold - floor {statistics.median(map(operator.sub, folds, floors)) * 1e6:.1f}"
        )


class _FloorPrefetch(dramatiq.Middleware):
    """The worker's prefetch on the floor's broker too."""

    def before_worker_boot(self, broker, worker) -> None:
        from dashboard.config import DEFAULT_FOLD_BATCH_MAX
        from dashboard.worker.actor import PREFETCH_BATCHES

        worker.queue_prefetch = PREFETCH_BATCHES * DEFAULT_FOLD_BATCH_MAX


if __name__ == "__main__":
    main()

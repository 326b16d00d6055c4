"""Outbox → RabbitMQ through ``appstore relay``'s loop: batched confirms vs one per event.

Run with ``make bench``. Fills a throwaway PostgreSQL outbox, then times the relay's loop
(number, read, publish with every confirm awaited, mark) until the whole outbox is on a
queue bound to an exchange declared like ``appstore.events``: once with the relay as it is
(a batch in flight per round trip) and once with a publisher that waits for each confirm
before the next message, side by side on the same data.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import threading
import time
from pathlib import Path

import pika
from baselines import publish_one_by_one
from outbox_seed import CHUNK, insert_events
from sqlalchemy import text

from appstore import outbox
from appstore.migrations import upgrade
from appstore.relay.amqp_publisher import AmqpPublisher
from appstore.relay.relay import Relay
from sqlstore import Database
from sqlstore.testing import postgres_server, throwaway_database

# As relay_publish.py: BROKER_URL picks the broker (a vhost of its own, say).
BROKER = os.environ.get("BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")
# Declared like appstore.events but of its own, so a dashboard on this broker sees nothing.
EXCHANGE = "bench.appstore.events"
QUEUE = "bench.relay"


class OneConfirmAtATime(AmqpPublisher):
    """The baseline: the same publisher, waiting for each confirm before the next message."""

    def publish_batch(self, messages, timeout: float = 60.0) -> None:
        publish_one_by_one(super().publish_batch, messages, timeout)


def fill(db: Database, count: int) -> None:
    data = {"app_id": 1, "verified_by": 1, "verified_at": "2026-11-26T18:00:00.000000Z"}
    for start in range(0, count, CHUNK):
        with db.engine.begin() as connection:
            insert_events(connection, [("AppVerified", data)] * min(CHUNK, count - start))


def relay_all(db: Database, publisher, count: int, batch_size: int) -> float:
    """Seconds for the relay loop to get ``count`` events confirmed from progress 0."""
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE outbox_progress SET published_through = 0"))
    relay = Relay(db.engine, publisher, Path(tempfile.mkdtemp()), batch_size=batch_size)
    started = time.perf_counter()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        done = 0
        while done < count:
            done += relay.publish_once(connection, lambda: False)
    elapsed = time.perf_counter() - started
    publisher.close()
    return elapsed


def wake_latency(db: Database, samples: int) -> list[float]:
    """Seconds from a single event's commit to its arrival, with the relay idle before each.

    Commits are spaced irregularly (0-50 ms) so some land while the relay still works on the
    previous one and some while it sleeps on LISTEN.
    """
    with db.engine.begin() as connection:  # start from an idle relay: nothing left to send
        connection.execute(
            text(
                "UPDATE outbox_progress SET published_through ="
                " (SELECT coalesce(max(sequence), 0) FROM outbox)"
            )
        )
    stop = threading.Event()
    relay = Relay(db.engine, AmqpPublisher(BROKER, EXCHANGE), Path(tempfile.mkdtemp()))
    runner = threading.Thread(target=relay.run, args=(stop.is_set,), daemon=True)
    runner.start()
    data = {"app_id": 1, "verified_by": 1, "verified_at": "2026-11-26T18:00:00.000000Z"}
    latencies = []
    with pika.BlockingConnection(pika.URLParameters(BROKER)) as broker:
        channel = broker.channel()
        time.sleep(1)  # let the relay take the lead and catch up
        channel.queue_purge(QUEUE)
        for _ in range(samples):
            time.sleep(random.uniform(0, 0.05))
            with db.transaction() as session:
                outbox.record(session, "AppVerified", data)
            committed = time.perf_counter()
            while channel.basic_get(QUEUE, auto_ack=True)[0] is None:
                time.sleep(0.0005)
            latencies.append(time.perf_counter() - committed)
    stop.set()
    runner.join(timeout=10)
    return sorted(latencies)


def on_queue(action: str) -> int:
    """Declare/purge/count/delete the bench queue on a short-lived connection of its own."""
    with pika.BlockingConnection(pika.URLParameters(BROKER)) as broker:
        channel = broker.channel()
        if action == "delete":
            channel.queue_delete(QUEUE)
            channel.exchange_delete(EXCHANGE)
            return 0
        channel.exchange_declare(EXCHANGE, "topic", durable=True)
        channel.queue_declare(QUEUE, durable=True)
        channel.queue_bind(QUEUE, EXCHANGE, "#")
        if action == "purge":
            channel.queue_purge(QUEUE)
        return channel.queue_declare(QUEUE, passive=True).method.message_count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--baseline-events", type=int, default=5_000)
    parser.add_argument("--batch-size", type=int, default=5_000)
    parser.add_argument("--latency-samples", type=int, default=200)
    args = parser.parse_args()

    results = {}
    try:
        with postgres_server() as admin_url, throwaway_database(admin_url, "relay_bench") as url:
            upgrade(url)
            db = Database(url)
            print(f"filling the outbox with {args.events} events ...", flush=True)
            fill(db, args.events)
            for name, publisher, count in (
                ("relay, batched confirms", AmqpPublisher(BROKER, EXCHANGE), args.events),
                (
                    "one confirm per event",
                    OneConfirmAtATime(BROKER, EXCHANGE),
                    args.baseline_events,
                ),
            ):
                on_queue("purge")
                seconds = relay_all(db, publisher, count, args.batch_size)
                arrived = on_queue("count")
                if arrived < count:
                    raise SystemExit(f"{name}: only {arrived} of {count} events on the queue")
                results[name] = (count, seconds, count / seconds)
            on_queue("purge")
            latencies = wake_latency(db, args.latency_samples)
            db.dispose()
    finally:
        on_queue("delete")

    print(f"\n{'way':26} {'events':>8} {'seconds':>8} {'events/s':>9}")
    for name, (count, seconds, rate) in results.items():
        print(f"{name:26} {count:8d} {seconds:8.2f} {rate:9.0f}")
    batched, single = (rate for _, _, rate in results.values())
    print(f"\nbatched / one-by-one: {batched / single:.1f}x")
    p50, p99 = (latencies[int(q * (len(latencies) - 1))] * 1000 for q in (0.5, 0.99))
    print(
        f"commit -> on the queue, one event at a time: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"max {latencies[-1] * 1000:.1f} ms ({len(latencies)} events)"
    )


if __name__ == "__main__":
    main()

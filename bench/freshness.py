"""Freshness: how soon a purchase shows in the Dashboard's summary while 1,000 events/s flow.

Publishes AppPurchased events to RabbitMQ's ``appstore.events`` (on the vhost of
BROKER_URL) at a steady rate, ``dashboard worker`` folding them from ``dashboard.events``
into a throwaway PostgreSQL database, and ``dashboard serve`` pushing summaries on
``/api/v1/stream``. Every tenth of a second one of the purchases is a marker: its buyer has
never bought before, so the summary's ``buyers`` grows by one when, and only when, a marker
is folded. The latency of marker k is the time from its publication to the first summary
on the stream whose ``buyers`` counts k markers. Prints p50/p90/p99/max of those latencies,
the rate achieved, and how long the worker took to drain what was left at the end.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pika
import requests
from dashboard_support import Process, SigningKeys, percentile, serve

from appstore_events import EXCHANGE, Envelope, encode, routing_key_for
from dashboard.fold import fold
from dashboard.migrations import upgrade
from dashboard.worker.topology import DEAD_LETTER_QUEUE, DELAY_QUEUE, QUEUE
from sqlstore import Database
from sqlstore.testing import postgres_server, throwaway_database

# The queue dashboard.events there is purged: point BROKER_URL at a vhost of its own.
BROKER = os.environ.get("BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5")
# As infra/rabbitmq/definitions.json and the worker's Dramatiq broker declare them.
QUEUE_ARGUMENTS = {
    QUEUE: {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": DEAD_LETTER_QUEUE},
    DELAY_QUEUE: {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": DEAD_LETTER_QUEUE},
    DEAD_LETTER_QUEUE: {"x-message-ttl": 604800000},
}
MARKER_BUYERS = 10_000_000


def purchase(sequence: int, buyer: int, app: int, at: datetime) -> Envelope:
    data = {"purchase_id": sequence, "app_id": app, "buyer_id": buyer, "owner_id": 1000 + app}
    data |= {"price": 5, "purchased_at": at}
    return Envelope(str(uuid.uuid4()), "AppPurchased", 1, sequence, "appstore", at, data)


def declare(channel) -> None:
    channel.exchange_declare(EXCHANGE, "topic", durable=True)
    for name, arguments in QUEUE_ARGUMENTS.items():
        channel.queue_declare(name, durable=True, arguments=arguments)
        channel.queue_purge(name)
    channel.queue_bind(QUEUE, EXCHANGE, routing_key="#")


def wait_for_consumer(channel, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while channel.queue_declare(QUEUE, passive=True).method.consumer_count == 0:
        if time.monotonic() > deadline:
            raise RuntimeError("dashboard worker never started consuming")
        time.sleep(0.2)


class StreamWatcher(threading.Thread):
    """Reads the summary stream; keeps (arrival time, buyers, purchases) of every event."""

    def __init__(self, base: str, token: str) -> None:
        super().__init__(daemon=True)
        self.seen: list[tuple[float, int, int]] = []
        self._response = requests.get(
            f"{base}/api/v1/stream", params={"access_token": token}, stream=True, timeout=30
        )
        self._response.raise_for_status()

    def run(self) -> None:
        try:
            for line in self._response.iter_lines(chunk_size=None):
                if line.startswith(b"data: "):
                    summary = json.loads(line[6:])
                    self.seen.append((time.monotonic(), summary["buyers"], summary["purchases"]))
        except (requests.RequestException, AttributeError):
            pass  # closed at the end

    def close(self) -> None:
        self._response.close()


def publish(channel, rate: int, seconds: float, sequences, apps: int, buyers: int) -> list[float]:
    """Publish ``rate`` purchases a second for ``seconds``; return each marker's send time."""
    rng = random.Random(1)
    markers: list[float] = []
    total = int(rate * seconds)
    marker_every = max(1, rate // 10)
    started = time.monotonic()
    for n in range(total):
        due = started + n / rate
        delay = due - time.monotonic()
        if delay > 0.002:
            time.sleep(delay)
        is_marker = n % marker_every == marker_every - 1
        buyer = MARKER_BUYERS + len(markers) if is_marker else rng.randrange(1, buyers + 1)
        envelope = purchase(next(sequences), buyer, rng.randrange(1, apps + 1), datetime.now(UTC))
        channel.basic_publish(
            EXCHANGE,
            routing_key_for("AppPurchased"),
            encode(envelope),
            pika.BasicProperties(
                content_type="application/json", delivery_mode=2, message_id=envelope.event_id
            ),
        )
        if is_marker:
            markers.append(time.monotonic())
    return markers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=int, default=1000, help="events per second")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--buyers", type=int, default=5000)
    parser.add_argument("--worker-processes", type=int, default=1)
    parser.add_argument("--worker-threads", type=int, default=256)
    args = parser.parse_args()

    keys = SigningKeys()
    logs = Path(tempfile.mkdtemp(prefix="dashboard-freshness-"))
    connection = pika.BlockingConnection(pika.URLParameters(BROKER))
    channel = connection.channel()
    declare(channel)
    with postgres_server() as admin_url, throwaway_database(admin_url, "bench_fresh") as url:
        upgrade(url)
        sequences = itertools.count(1)
        # Every ordinary buyer has bought once already: from now on only markers are new.
        db = Database(url)
        with db.transaction() as session:
            at = datetime.now(UTC)
            fold(session, [purchase(next(sequences), b, 1, at) for b in range(1, args.buyers + 1)])
        db.dispose()
        env = {
            "DASHBOARD_DATABASE_URL": url,
            "BROKER_URL": BROKER,
            "DASHBOARD_WORKER_METRICS_PORT": "0",
            "DASHBOARD_SYNC_INTERVAL_SECONDS": "0",
            "LOG_LEVEL": "WARNING",
        }
        worker = Process(
            [
                "worker",
                "--processes",
                str(args.worker_processes),
                "--threads",
                str(args.worker_threads),
            ],
            env,
            logs / "worker.log",
        )
        server, base = serve(url, keys, logs / "serve.log", redis_url=REDIS_URL, workers=1)
        stream = StreamWatcher(base, keys.token())
        stream.start()
        try:
            wait_for_consumer(channel)
            print(f"publishing {args.rate:,} events/s for {args.seconds:.0f} s to {EXCHANGE}")
            began = time.monotonic()
            markers = publish(channel, args.rate, args.seconds, sequences, args.apps, args.buyers)
            sent_for = time.monotonic() - began
            published = int(args.rate * args.seconds)
            expected = args.buyers + published
            deadline = time.monotonic() + 120
            while not stream.seen or stream.seen[-1][2] < expected:
                if time.monotonic() > deadline or not worker.alive():
                    raise RuntimeError(f"the worker did not fold everything:\n{worker.tail()}")
                time.sleep(0.05)
            drained_after = stream.seen[-1][0] - (began + sent_for)
        finally:
            stream.close()
            server.stop()
            worker.stop()
            connection.close()
            keys.close()

    latencies = []
    for k, sent in enumerate(markers, start=1):
        shown = next(t for t, buyers, _ in stream.seen if buyers >= args.buyers + k)
        latencies.append(shown - sent)
    print(
        f"published {published:,} purchases in {sent_for:.1f} s ({published / sent_for:,.0f}/s), "
        f"{len(markers)} markers; the last one shown {drained_after:.2f} s after publishing ended"
    )
    # Purchases published but not yet folded, as each streamed summary saw it.
    backlog = max(
        min(published, args.rate * (t - began)) - (purchases - args.buyers)
        for t, _buyers, purchases in stream.seen
    )
    print(
        f"summaries pushed on the stream: {len(stream.seen)}; "
        f"largest backlog seen: {max(0, backlog):,.0f} events"
    )
    print(
        "marker visible in the streamed summary after (ms): "
        + ", ".join(
            f"{name} {percentile(latencies, q) * 1000:.0f}"
            for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0))
        )
    )


if __name__ == "__main__":
    main()

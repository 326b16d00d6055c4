"""Msgs/s of the relay's publisher alone: batched confirms vs one confirm round trip per message.

Publishes ``-n`` (default 20,000) ~300-byte persistent messages with ``publish_batch`` in
batches of ``--batch-size`` (default 1,000), and as many (or ``--one-by-one``) messages
with ``publish_one_by_one``, onto a durable queue bound with ``#``, the way a consumer's
queue would be. Each mode runs ``--rounds`` times, alternating, and the median is printed
(compare with the measured ceilings in the design notes, LIMITS.md).

By default it publishes to a throwaway exchange declared exactly like ``appstore.events``,
so that the benchmark's messages never reach the queues of a running Dashboard; pass
``--exchange appstore.events`` to use the real one. The queue and the throwaway exchange
are deleted at the end, and the queue also expires on its own if the run is killed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid

from baselines import publish_one_by_one
from kombu import Connection, Exchange, Queue

from appstore.relay.amqp_publisher import AmqpPublisher
from appstore.relay.messages import OutgoingMessage

DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672//"


def make_messages(count: int) -> list[OutgoingMessage]:
    """AppPurchased-shaped events of about 300 bytes."""
    messages = []
    for i in range(count):
        event_id = str(uuid.uuid4())
        body = json.dumps(
            {
                "event_id": event_id,
                "event_type": "AppPurchased",
                "event_version": 1,
                "sequence": i + 1,
                "source": "appstore",
                "occurred_at": "2026-11-26T18:00:00.123456Z",
                "data": {
                    "purchase_id": i + 1,
                    "app_id": 5,
                    "buyer_id": 9,
                    "owner_id": 2,
                    "price": 30,
                    "purchased_at": "2026-11-26T18:00:00.123456Z",
                },
            }
        ).encode()
        messages.append(OutgoingMessage("app.purchased", body, event_id))
    return messages


def timed_run(publisher: AmqpPublisher, messages, batch_size: int | None) -> float:
    """Seconds to publish ``messages`` and have all confirmed."""
    started = time.perf_counter()
    if batch_size is None:
        publish_one_by_one(publisher.publish_batch, messages, timeout=600)
    else:
        for start in range(0, len(messages), batch_size):
            publisher.publish_batch(messages[start : start + batch_size], timeout=60)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker-url", default=os.environ.get("BROKER_URL", DEFAULT_BROKER))
    parser.add_argument("--exchange", default=None, help="default: a throwaway exchange")
    parser.add_argument("-n", type=int, default=20_000, help="messages for publish_batch")
    parser.add_argument("--batch-size", type=int, default=1_000)
    parser.add_argument(
        "--one-by-one", type=int, default=None, help="messages for publish_one_by_one (default: n)"
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.one_by_one is None:
        args.one_by_one = args.n

    throwaway = args.exchange is None
    exchange_name = args.exchange or f"appstore.events.bench-{uuid.uuid4().hex[:8]}"
    exchange = Exchange(exchange_name, type="topic", durable=True)
    queue = Queue(
        f"bench-relay-publish-{uuid.uuid4().hex[:8]}",
        exchange=exchange,
        routing_key="#",
        durable=True,  # persistent messages only hit the disk on a durable queue
        queue_arguments={"x-expires": 120_000},
    )
    batched = make_messages(args.n)
    single = make_messages(args.one_by_one)
    print(f"{len(batched[0].body)}-byte messages to {exchange_name} on {args.broker_url}")

    results: dict[str, list[float]] = {"batched": [], "one by one": []}
    with Connection(args.broker_url, connect_timeout=5) as admin:
        channel = admin.default_channel
        bound = queue(channel)
        bound.declare()
        try:
            with AmqpPublisher(args.broker_url, exchange_name) as publisher:
                timed_run(publisher, make_messages(2_000), args.batch_size)  # warm up
                for round_no in range(args.rounds):
                    runs = [("batched", batched, args.batch_size), ("one by one", single, None)]
                    if round_no % 2:
                        runs.reverse()
                    for name, messages, batch_size in runs:
                        bound.purge()
                        seconds = timed_run(publisher, messages, batch_size)
                        on_queue = bound.queue_declare(passive=True).message_count
                        assert on_queue == len(messages), f"{name}: {on_queue} on the queue"
                        results[name].append(len(messages) / seconds)
                        print(f"  round {round_no + 1} {name:>10}: {results[name][-1]:,.0f} msg/s")
        finally:
            bound.delete()
            if throwaway:
                channel.exchange_delete(exchange_name)

    batched_rate = statistics.median(results["batched"])
    single_rate = statistics.median(results["one by one"])
    rows = [
        (f"publish_batch ({args.batch_size:,} in flight)", args.n, batched_rate),
        ("publish_one_by_one", args.one_by_one, single_rate),
    ]
    print()
    print(f"{'mode':34} {'messages':>9} {'msg/s (median)':>15}")
    for name, count, rate in rows:
        print(f"{name:34} {count:>9,} {rate:>15,.0f}")
    print(f"\nbatched / one by one: {batched_rate / single_rate:.1f}x")


if __name__ == "__main__":
    main()

"""infra/rabbitmq/definitions.json declares the queues exactly as the worker's broker does:
quorum queues, with the same arguments, so neither declaration fails on the other's."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from appstore_events import EXCHANGE
from dashboard.rabbitmq import connect
from dashboard.worker.bootstrap import WorkerBroker
from dashboard.worker.topology import QUEUE, QUEUE_ARGUMENTS, declare

DEFINITIONS = Path(__file__).parents[4] / "infra" / "rabbitmq" / "definitions.json"


@pytest.fixture
def channel(broker_url):
    connection = connect(broker_url)
    yield connection.channel()
    connection.close()


def _definitions() -> dict:
    return json.loads(DEFINITIONS.read_text())


def test_the_dashboard_queue_is_bound_to_every_event():
    bindings = _definitions()["bindings"]
    assert {"source": "appstore.events", "destination": QUEUE, "routing_key": "#"}.items() <= (
        next(b for b in bindings if b["destination"] == QUEUE).items()
    )


def test_dramatiq_accepts_the_queues_as_declared(channel, broker_url):
    # The same declarations under a fresh name, so a running dashboard is not disturbed.
    name = f"test-{uuid.uuid4().hex[:8]}"
    queues = [q for q in _definitions()["queues"] if q["name"].startswith(QUEUE)]
    assert {q["name"] for q in queues} == {QUEUE, f"{QUEUE}.DQ", f"{QUEUE}.XQ"}
    declared = []
    try:
        for queue in queues:
            renamed = json.loads(json.dumps(queue).replace(QUEUE, name))
            channel.queue_declare(
                renamed["name"], durable=renamed["durable"], arguments=renamed["arguments"]
            )
            declared.append(renamed["name"])
        broker = WorkerBroker(url=broker_url, confirm_delivery=True)
        try:
            # Raises PRECONDITION_FAILED if any argument differs from what Dramatiq declares.
            broker.declare_queue(name, ensure=True)
        finally:
            broker.close()
    finally:
        for queue_name in declared:
            channel.queue_delete(queue_name)


def test_the_worker_declares_what_the_definitions_declare():
    definitions = _definitions()
    declared = {q["name"]: q["arguments"] for q in definitions["queues"]}
    assert declared == QUEUE_ARGUMENTS
    assert {arguments["x-queue-type"] for arguments in declared.values()} == {"quorum"}
    (exchange,) = (e for e in definitions["exchanges"] if e["name"] == EXCHANGE)
    assert (exchange["type"], exchange["durable"]) == ("topic", True)


def test_a_declared_topology_routes_every_event_to_the_dashboard_queue(channel):
    declare(channel)
    channel.queue_purge(QUEUE)
    channel.basic_publish(EXCHANGE, "app.purchased", b"{}")
    channel.basic_publish(EXCHANGE, "some.future.event", b"{}")
    deadline = time.monotonic() + 10
    while channel.queue_declare(QUEUE, passive=True).method.message_count < 2:
        assert time.monotonic() < deadline, "the events did not reach the dashboard queue"
        time.sleep(0.05)
    channel.queue_purge(QUEUE)

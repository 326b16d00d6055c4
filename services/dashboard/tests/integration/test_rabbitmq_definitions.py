"""infra/rabbitmq/definitions.json declares the queues exactly as Dramatiq's worker does."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pika
import pytest
from dramatiq.brokers.rabbitmq import RabbitmqBroker

DEFINITIONS = Path(__file__).parents[4] / "infra" / "rabbitmq" / "definitions.json"
QUEUE = "dashboard.events"


@pytest.fixture
def channel(broker_url):
    connection = pika.BlockingConnection(pika.URLParameters(broker_url))
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
        broker = RabbitmqBroker(url=broker_url, confirm_delivery=True)
        try:
            # Raises PRECONDITION_FAILED if any argument differs from what Dramatiq declares.
            broker.declare_queue(name, ensure=True)
        finally:
            broker.close()
    finally:
        for queue_name in declared:
            channel.queue_delete(queue_name)

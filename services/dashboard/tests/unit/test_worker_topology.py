"""The worker's queues are quorum queues, however Dramatiq comes to declare them."""

from __future__ import annotations

import inspect

from dramatiq.brokers import rabbitmq

from dashboard.worker.bootstrap import WorkerBroker
from dashboard.worker.topology import (
    DEAD_LETTER_QUEUE,
    DELAY_QUEUE,
    QUEUE,
    QUEUE_ARGUMENTS,
    consumer_queue_arguments,
)


class RecordingChannel:
    def __init__(self) -> None:
        self.declared: dict[str, dict] = {}

    def queue_declare(self, queue, durable, arguments):
        assert durable
        self.declared[queue] = arguments


def test_dramatiq_declares_through_the_methods_the_broker_replaces():
    # Pinned in pyproject.toml; an upgrade that renames these must fail here first.
    for name in ("_declare_queue", "_declare_dq_queue", "_declare_xq_queue"):
        method = getattr(rabbitmq.RabbitmqBroker, name)
        assert list(inspect.signature(method).parameters) == ["self", "queue_name"], name
    source = inspect.getsource(rabbitmq.RabbitmqBroker._ensure_queue)
    for name in ("_declare_queue", "_declare_dq_queue", "_declare_xq_queue"):
        assert f"self.{name}(" in source, name


def test_the_worker_broker_declares_its_three_queues_as_the_topology_says(monkeypatch):
    broker = WorkerBroker(url="amqp://127.0.0.1:1/")
    channel = RecordingChannel()
    monkeypatch.setattr(WorkerBroker, "channel", channel)
    broker._declare_queue(QUEUE)
    broker._declare_dq_queue(QUEUE)
    broker._declare_xq_queue(QUEUE)
    assert channel.declared == QUEUE_ARGUMENTS
    assert set(channel.declared) == {QUEUE, DELAY_QUEUE, DEAD_LETTER_QUEUE}


def test_only_the_consumed_queue_has_a_delivery_limit():
    assert "x-delivery-limit" in QUEUE_ARGUMENTS[QUEUE]
    assert "x-delivery-limit" not in QUEUE_ARGUMENTS[DELAY_QUEUE]
    assert consumer_queue_arguments("other")["x-dead-letter-routing-key"] == "other.XQ"

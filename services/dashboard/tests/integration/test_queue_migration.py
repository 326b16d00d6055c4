"""``dashboard queues migrate``: an older install's classic queues become quorum queues with
every message kept, events published meanwhile included; a second run changes nothing, and
a run that was cut short is finished by the next."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pika
import pytest

from dashboard.rabbitmq import connect
from dashboard.worker.queue_migration import HOLDING_SUFFIX, QueuesBusy, migrate
from dashboard.worker.topology import (
    consumer_queue_arguments,
    dead_letter_queue_arguments,
    delay_queue_arguments,
)

DASHBOARD = Path(sys.executable).with_name("dashboard")
CLASSIC = {"x-dead-letter-exchange": ""}


@pytest.fixture
def names(broker_url):
    """A fresh queue family (and exchange) in the worker's shape, removed afterwards."""
    base = f"test-migrate-{uuid.uuid4().hex[:8]}"
    family = {
        "queue": base,
        "delay": f"{base}.DQ",
        "dead": f"{base}.XQ",
        "exchange": f"{base}.events",
    }
    yield family
    connection = connect(broker_url)
    channel = connection.channel()
    for name in (base, f"{base}.DQ", f"{base}.XQ", base + HOLDING_SUFFIX):
        channel.queue_delete(name)
    channel.exchange_delete(family["exchange"])
    connection.close()


def _queues(names) -> dict[str, dict]:
    return {
        names["queue"]: consumer_queue_arguments(names["queue"]),
        names["delay"]: delay_queue_arguments(names["queue"]),
        names["dead"]: dead_letter_queue_arguments(),
    }


def _old_install(broker_url, names, events: int) -> None:
    """Classic queues as an older version declared them, holding messages."""
    connection = connect(broker_url)
    channel = connection.channel()
    channel.confirm_delivery()
    channel.exchange_declare(names["exchange"], "topic", durable=True)
    for name in (names["queue"], names["delay"], names["dead"]):
        channel.queue_declare(name, durable=True, arguments=CLASSIC)
    channel.queue_bind(names["queue"], names["exchange"], routing_key="#")
    for number in range(events):
        channel.basic_publish(
            names["exchange"], "app.purchased", _body(number), _persistent(number)
        )
    channel.basic_publish("", names["delay"], b"a retry", _persistent("retry"))
    channel.basic_publish("", names["dead"], b"not json", _persistent("dead"))
    connection.close()


def _body(number: int) -> bytes:
    return json.dumps({"event_id": str(number)}).encode()


def _persistent(message_id) -> pika.BasicProperties:
    return pika.BasicProperties(delivery_mode=2, message_id=str(message_id), headers={"k": "v"})


def _contents(broker_url, name: str) -> list[tuple[str, bytes]]:
    connection = connect(broker_url)
    channel = connection.channel()
    messages = []
    while True:
        method, properties, body = channel.basic_get(name, auto_ack=False)
        if method is None:
            break
        # A quorum queue counts deliveries in a header of its own.
        headers = {k: v for k, v in properties.headers.items() if k != "x-delivery-count"}
        assert headers == {"k": "v"}, properties.headers
        assert properties.delivery_mode == 2
        messages.append((properties.message_id, body))
    connection.close()  # unacked: they stay
    return messages


def _run(broker_url, names, **kwargs):
    return migrate(
        broker_url,
        _queues(names),
        bound_queue=names["queue"],
        exchange=names["exchange"],
        **kwargs,
    )


def test_classic_queues_become_quorum_queues_with_every_message(broker_url, names):
    _old_install(broker_url, names, events=250)
    published_meanwhile = []

    def publish_one_more():
        # An event the relay publishes while the queue is being replaced.
        if len(published_meanwhile) < 3:
            number = 1000 + len(published_meanwhile)
            published_meanwhile.append(number)
            connection = connect(broker_url)
            channel = connection.channel()
            channel.confirm_delivery()
            channel.basic_publish(names["exchange"], "x", _body(number), _persistent(number))
            connection.close()

    results = _run(broker_url, names, on_message=publish_one_more)

    assert [(r.queue, r.replaced, r.messages) for r in results] == [
        (names["queue"], True, 250 + len(published_meanwhile)),
        (names["delay"], True, 1),
        (names["dead"], True, 1),
    ]
    kept = sorted(int(message_id) for message_id, _ in _contents(broker_url, names["queue"]))
    assert kept == [*range(250), *published_meanwhile]
    assert _contents(broker_url, names["delay"]) == [("retry", b"a retry")]
    assert _contents(broker_url, names["dead"]) == [("dead", b"not json")]
    # Declaring with the quorum arguments now succeeds: the queues are what the worker wants.
    channel = connect(broker_url).channel()
    for name, arguments in _queues(names).items():
        channel.queue_declare(name, durable=True, arguments=arguments)
    assert not _exists(broker_url, names["queue"] + HOLDING_SUFFIX)


def test_a_second_run_changes_nothing(broker_url, names):
    _old_install(broker_url, names, events=5)
    _run(broker_url, names)
    again = _run(broker_url, names)
    assert [(r.replaced, r.messages) for r in again] == [(False, 0)] * 3
    assert len(_contents(broker_url, names["queue"])) == 5


def test_a_run_cut_short_is_finished_by_the_next(broker_url, names):
    # As if a run died after emptying the old queue into the holding queue.
    _old_install(broker_url, names, events=7)
    connection = connect(broker_url)
    channel = connection.channel()
    channel.confirm_delivery()
    holding = names["queue"] + HOLDING_SUFFIX
    channel.queue_declare(holding, durable=True, arguments={"x-queue-type": "quorum"})
    for number in range(7, 10):
        channel.basic_publish("", holding, _body(number), _persistent(number))
    connection.close()

    results = _run(broker_url, names)

    assert (results[0].replaced, results[0].messages) == (True, 10)
    kept = sorted(int(message_id) for message_id, _ in _contents(broker_url, names["queue"]))
    assert kept == list(range(10))
    assert not _exists(broker_url, holding)


def test_a_queue_with_consumers_is_left_alone(broker_url, names):
    _old_install(broker_url, names, events=3)
    consumer = connect(broker_url)
    consumer.channel().basic_consume(names["queue"], lambda *_: None)
    try:
        with pytest.raises(QueuesBusy, match="stop every `dashboard worker`"):
            _run(broker_url, names)
    finally:
        consumer.close()
    assert len(_contents(broker_url, names["queue"])) == 3


def test_the_command_reports_the_worker_queues(broker_url):
    # The worker's own queues are already quorum queues here (the session migrated them).
    result = subprocess.run(
        [str(DASHBOARD), "queues", "migrate", "--json"],
        env={"PATH": "/usr/bin:/bin", "BROKER_URL": broker_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["replaced"] == 0
    assert set(summary["queues"]) == {
        "dashboard.events",
        "dashboard.events.DQ",
        "dashboard.events.XQ",
    }


def _exists(broker_url, name: str) -> bool:
    connection = connect(broker_url)
    try:
        connection.channel().queue_declare(name, passive=True)
    except pika.exceptions.ChannelClosedByBroker:
        return False
    finally:
        if connection.is_open:
            connection.close()
    return True

"""Publishing kept dead letters again, and emptying the ``.XQ`` (``dashboard dlq``).

Replayed bodies go straight to the ``dashboard.events`` queue through the default
exchange, not to ``appstore.events``: a dead letter is this consumer's problem, and
publishing to the exchange would deliver the event a second time to every other
consumer bound to it. The fold's dedupe makes a replay of an already folded event a
no-op, so replaying twice is safe.
"""

from __future__ import annotations

from collections.abc import Iterable

import pika

from dashboard.models import DeadLetter
from dashboard.rabbitmq import connect
from dashboard.worker.topology import DEAD_LETTER_QUEUE, QUEUE

_PERSISTENT = 2


def publish_bodies(broker_url: str, letters: Iterable[DeadLetter]) -> list[int]:
    """Publish each letter's body to ``dashboard.events``, persistent, with confirms.

    Returns:
        The ids of the letters RabbitMQ confirmed, in order; publishing stops at the first
        one it does not (that one and the rest stay kept).
    """
    confirmed: list[int] = []
    connection = connect(broker_url)
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        for letter in letters:
            try:
                channel.basic_publish(
                    exchange="",
                    routing_key=QUEUE,
                    body=letter.body.encode("utf-8"),
                    properties=pika.BasicProperties(
                        content_type="application/json",
                        delivery_mode=_PERSISTENT,
                        message_id=letter.message_id,
                    ),
                    mandatory=True,
                )
            except (pika.exceptions.UnroutableError, pika.exceptions.NackError):
                break
            confirmed.append(letter.id)
    finally:
        connection.close()
    return confirmed


def purge_dead_letter_queue(broker_url: str) -> int:
    """Empty ``dashboard.events.XQ``; return how many messages it held."""
    connection = connect(broker_url)
    try:
        frame = connection.channel().queue_purge(DEAD_LETTER_QUEUE)
        return frame.method.message_count
    finally:
        connection.close()

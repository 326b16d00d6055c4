"""Names of the worker's queues and actor on RabbitMQ, and their declaration.

infra/rabbitmq/definitions.json declares the same on a broker started from it; the worker
declares them too, so that it receives events on any broker (declaring what exists, with
the same arguments, changes nothing).
"""

from __future__ import annotations

from appstore_events import EXCHANGE

#: The queue bound to :data:`EXCHANGE` with ``#``; Dramatiq adds the two below.
QUEUE = "dashboard.events"
#: Dramatiq's delay queue: retries wait here for their backoff.
DELAY_QUEUE = f"{QUEUE}.DQ"
#: Dramatiq's dead-letter queue: RabbitMQ drops what it holds after 7 days.
DEAD_LETTER_QUEUE = f"{QUEUE}.XQ"
#: The actor every plain envelope is handed to.
FOLD_ACTOR = "fold_event"
#: The arguments Dramatiq's RabbitmqBroker declares each queue with: any difference would
#: make one of the two declarations fail with PRECONDITION_FAILED.
QUEUE_ARGUMENTS = {
    QUEUE: {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": DEAD_LETTER_QUEUE},
    DELAY_QUEUE: {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": DEAD_LETTER_QUEUE},
    DEAD_LETTER_QUEUE: {"x-message-ttl": 7 * 24 * 3600 * 1000},
}


def declare(channel) -> None:
    """Declare the exchange (as the Appstore's relay does), the queues (as Dramatiq does)
    and bind :data:`QUEUE` to every event, on an open pika channel."""
    channel.exchange_declare(EXCHANGE, "topic", durable=True)
    for name, arguments in QUEUE_ARGUMENTS.items():
        channel.queue_declare(name, durable=True, arguments=arguments)
    channel.queue_bind(QUEUE, EXCHANGE, routing_key="#")


__all__ = [
    "DEAD_LETTER_QUEUE",
    "DELAY_QUEUE",
    "EXCHANGE",
    "FOLD_ACTOR",
    "QUEUE",
    "QUEUE_ARGUMENTS",
    "declare",
]

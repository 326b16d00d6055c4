"""Names of the worker's queues and actor on RabbitMQ, and their declaration.

infra/rabbitmq/definitions.json declares the same on a broker started from it; the worker
declares them too, so that it receives events on any broker (declaring what exists, with
the same arguments, changes nothing).
"""

from __future__ import annotations

from dramatiq.common import dq_name, xq_name

from appstore_events import EXCHANGE

#: The queue bound to :data:`EXCHANGE` with ``#``; Dramatiq adds the two below.
QUEUE = "dashboard.events"
#: Dramatiq's delay queue: retries wait here for their backoff.
DELAY_QUEUE = f"{QUEUE}.DQ"
#: Dramatiq's dead-letter queue: RabbitMQ drops what it holds after 7 days.
DEAD_LETTER_QUEUE = f"{QUEUE}.XQ"
#: The actor every plain envelope is handed to.
FOLD_ACTOR = "fold_event"
#: Deliveries after which RabbitMQ itself dead-letters a message to the ``.XQ``: a backstop
#: for a message that kills the worker before it can be nacked (a crash, not an exception),
#: which would otherwise come back forever. A delivery counts whenever a worker's connection
#: ends before the ack, prefetched messages included, so the limit leaves room for many
#: restarts and node losses. Such a message is not in the ``dead_letters`` table (the worker
#: never saw it fail); its event is folded from the Appstore's log by the gap healing.
DELIVERY_LIMIT = 50
#: How long the ``.XQ`` keeps a message; the database keeps every dead letter for good.
DEAD_LETTER_TTL_MS = 7 * 24 * 3600 * 1000


def consumer_queue_arguments(queue_name: str) -> dict[str, object]:
    """The arguments of a queue the worker consumes: quorum, rejects to its ``.XQ``."""
    return {
        "x-queue-type": "quorum",
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": xq_name(queue_name),
        "x-delivery-limit": DELIVERY_LIMIT,
    }


def delay_queue_arguments(queue_name: str) -> dict[str, object]:
    """The arguments of Dramatiq's delay queue: quorum, with no delivery limit, since its
    consumer holds each retry unacked on purpose until the retry is due."""
    return {
        "x-queue-type": "quorum",
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": xq_name(queue_name),
    }


def dead_letter_queue_arguments() -> dict[str, object]:
    """The arguments of the ``.XQ``: quorum too, so a node's loss loses no dead letter."""
    return {"x-queue-type": "quorum", "x-message-ttl": DEAD_LETTER_TTL_MS}


#: Every queue of the worker, quorum queues all: replicated on each node of a cluster, and
#: on one node simply queues, so one topology serves both. Declaring one with any other
#: arguments (a classic queue of an older install, say) fails with PRECONDITION_FAILED:
#: ``dashboard queues migrate`` moves such a queue over.
QUEUE_ARGUMENTS = {
    QUEUE: consumer_queue_arguments(QUEUE),
    DELAY_QUEUE: delay_queue_arguments(QUEUE),
    DEAD_LETTER_QUEUE: dead_letter_queue_arguments(),
}


class QuorumQueues:
    """Mixed into Dramatiq's RabbitMQ broker: its three queues declared as quorum queues.

    Dramatiq declares every queue as classic (one argument builder for the queue and its
    ``.DQ``, fixed arguments for the ``.XQ``); these take the arguments from here instead,
    so the worker, the definitions file and :func:`declare` agree.
    """

    def _declare_queue(self, queue_name):
        return self.channel.queue_declare(
            queue=queue_name, durable=True, arguments=consumer_queue_arguments(queue_name)
        )

    def _declare_dq_queue(self, queue_name):
        return self.channel.queue_declare(
            queue=dq_name(queue_name), durable=True, arguments=delay_queue_arguments(queue_name)
        )

    def _declare_xq_queue(self, queue_name):
        return self.channel.queue_declare(
            queue=xq_name(queue_name), durable=True, arguments=dead_letter_queue_arguments()
        )


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
    "QuorumQueues",
    "declare",
]

"""The pipeline benchmark's view of RabbitMQ."""

from __future__ import annotations

import pika

from appstore_events import EXCHANGE
from dashboard.rabbitmq import connect
from dashboard.worker.topology import DEAD_LETTER_QUEUE, DELAY_QUEUE, QUEUE

DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672/"


class Broker:
    """The bench's view of RabbitMQ: the Dashboard's queue, its binding, its cleanup."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _channel(self):
        connection = connect(self.url, name="pipeline-bench")
        return connection, connection.channel()

    def queue(self, name: str = QUEUE) -> tuple[int, int] | None:
        """``(messages, consumers)`` of a queue, or None when it does not exist."""
        connection, channel = self._channel()
        try:
            method = channel.queue_declare(name, passive=True).method
            return method.message_count, method.consumer_count
        except pika.exceptions.ChannelClosedByBroker:
            return None
        finally:
            if connection.is_open:
                connection.close()

    def refuse_if_in_use(self) -> None:
        state = self.queue()
        if state is not None and any(state):
            raise SystemExit(
                f"{QUEUE} on {self.url} holds {state[0]} messages and has {state[1]} "
                "consumers: point BROKER_URL at a broker or vhost of the benchmark's own"
            )

    def bind(self) -> None:
        """Bind the worker's queue (declared by the worker itself) to the exchange."""
        connection, channel = self._channel()
        with connection:
            channel.exchange_declare(EXCHANGE, "topic", durable=True)
            channel.queue_bind(QUEUE, EXCHANGE, routing_key="#")

    def delete_queues(self) -> None:
        connection, channel = self._channel()
        with connection:
            for name in (QUEUE, DELAY_QUEUE, DEAD_LETTER_QUEUE):
                channel.queue_delete(name)

"""The message broker the relay publishes to: RabbitMQ, or an in-process one when embedded."""

from __future__ import annotations

from kombu import Connection

from servicekit.brokers import broker_urls


def check_broker(url: str, timeout: float = 2.0) -> None:
    """Raise unless a node of the broker at ``url`` accepts a connection within ``timeout``.

    With several nodes (``amqp://...;amqp://...``) one is enough: the relay reconnects to
    whichever answers, so losing a node of a cluster does not make the Appstore unready.
    """
    if url.startswith("memory://"):
        return
    failure: Exception | None = None
    for node in broker_urls(url):
        try:
            with Connection(node, connect_timeout=timeout) as connection:
                connection.ensure_connection(max_retries=0, timeout=timeout)
            return
        except Exception as exc:
            failure = exc
    assert failure is not None
    raise failure

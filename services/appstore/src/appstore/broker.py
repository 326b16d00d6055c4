"""The message broker the relay publishes to: RabbitMQ, or an in-process one when embedded."""

from __future__ import annotations

import time

from kombu import Connection

from servicekit.brokers import broker_urls


def check_broker(url: str, timeout: float = 2.0) -> None:
    """Raise unless a node of the broker at ``url`` accepts a connection within ``timeout``
    (in all, however many nodes it tries).

    With several nodes (``amqp://...;amqp://...``) one is enough: the relay reconnects to
    whichever answers, so losing a node of a cluster does not make the Appstore unready.
    """
    if url.startswith("memory://"):
        return
    failure: Exception = TimeoutError(f"no node answered within {timeout} s")
    deadline = time.monotonic() + timeout
    for node in broker_urls(url):
        # One deadline for all: a probe must not wait the timeout once per dead node.
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            with Connection(node, connect_timeout=left) as connection:
                connection.ensure_connection(max_retries=0, timeout=left)
            return
        except Exception as exc:
            failure = exc
    raise failure

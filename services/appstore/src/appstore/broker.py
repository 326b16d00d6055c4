"""The message broker the relay publishes to: RabbitMQ, or an in-process one when embedded."""

from __future__ import annotations

from kombu import Connection


def check_broker(url: str, timeout: float = 2.0) -> None:
    """Raise if the broker at ``url`` does not accept a connection within ``timeout``."""
    if url.startswith("memory://"):
        return
    with Connection(url, connect_timeout=timeout) as connection:
        connection.ensure_connection(max_retries=0, timeout=timeout)

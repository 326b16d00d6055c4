"""Which publisher puts the relay's batches onto the broker, chosen by the broker URL.

:class:`~appstore.relay.amqp_publisher.AmqpPublisher` talks to RabbitMQ with publisher
confirms; :class:`~appstore.relay.memory_publisher.MemoryPublisher` has the same interface
and keeps what it was given, for tests and the embedded mode.

Both give at-least-once delivery: when ``publish_batch`` raises
:class:`~appstore.errors.PublishError`, some of the batch may have reached the broker, and
the caller publishes the whole batch again after reconnecting.
"""

from __future__ import annotations

from appstore.relay.amqp_publisher import AmqpPublisher
from appstore.relay.memory_publisher import MemoryPublisher
from appstore_events import EXCHANGE

#: Either publisher; the relay depends on nothing else.
Publisher = AmqpPublisher | MemoryPublisher

_AMQP_SCHEMES = frozenset({"amqp", "amqps", "pyamqp"})


def make_publisher(broker_url: str, exchange: str = EXCHANGE) -> Publisher:
    """Return the publisher for ``broker_url``, not yet connected.

    Parameters:
        broker_url: ``memory://`` for a :class:`MemoryPublisher`; ``amqp://``, ``amqps://``
            or ``pyamqp://`` for an :class:`AmqpPublisher`.
        exchange: exchange name for the AMQP publisher.

    Returns:
        The publisher, closed.

    Raises:
        ValueError: for any other scheme.
    """
    scheme = broker_url.partition("://")[0].lower()
    if scheme == "memory":
        return MemoryPublisher()
    if scheme in _AMQP_SCHEMES:
        return AmqpPublisher(broker_url, exchange)
    raise ValueError(f"unsupported broker URL scheme {scheme!r} in {broker_url!r}")

"""Publishing into one named queue only, past the exchange every consumer is bound to."""

from __future__ import annotations

from typing import Any

from kombu import Exchange

from appstore.relay.amqp_publisher import AmqpPublisher


class QueuePublisher(AmqpPublisher):
    """Publishes through the default exchange, so the one queue named ``queue`` gets each
    message and no other consumer sees it; confirmed as :class:`AmqpPublisher`'s are.

    Every message must be given ``queue`` as its routing key. The queue is never declared,
    only checked on connect: a name with a typo fails there rather than create a queue
    nobody reads. Messages are mandatory, so a queue deleted meanwhile fails the batch.

    Parameters:
        broker_url: as for :class:`AmqpPublisher`.
        queue: the queue to fill.
        **options: the other keyword arguments of :class:`AmqpPublisher`.
    """

    mandatory = True

    def __init__(self, broker_url: str, queue: str, **options: Any) -> None:
        options.setdefault("connection_name", "appstore-replay")
        super().__init__(broker_url, exchange="", **options)
        self.queue = queue

    def _declare(self, channel: Any, exchange: Exchange) -> None:
        # The default exchange may not be declared; a missing queue raises NotFound here.
        channel.queue_declare(queue=self.queue, passive=True)

"""Bookkeeping of publisher confirms: which messages of a channel the broker has settled."""

from __future__ import annotations


class Confirms:
    """Tracks the delivery tags of one confirm-mode channel, sent and settled.

    The broker acks or nacks each message by its delivery tag, possibly many at once
    (``multiple``); :meth:`on_ack` and :meth:`on_nack` are the channel's event handlers.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything: delivery tags restart at 1 on every channel put in confirm mode."""
        self._next_tag = 1
        self._unconfirmed: set[int] = set()
        self._confirmed_below = 1  # every tag below this one is settled
        self.nacked = 0
        self.returned = 0  # mandatory messages no queue took
        self.returned_key = ""

    def sent(self) -> None:
        """Count one more message published on the channel, awaiting its confirm."""
        self._unconfirmed.add(self._next_tag)
        self._next_tag += 1

    @property
    def pending(self) -> int:
        """How many messages sent are neither acked nor nacked yet."""
        return len(self._unconfirmed)

    def on_ack(self, delivery_tag: int, multiple: bool) -> None:
        """The broker has the message ``delivery_tag`` (and all before it if ``multiple``)."""
        self._settle(delivery_tag, multiple)

    def on_nack(self, delivery_tag: int, multiple: bool) -> None:
        """The broker refused the message ``delivery_tag`` (and all before it if ``multiple``)."""
        before = len(self._unconfirmed)
        self._settle(delivery_tag, multiple)
        self.nacked += max(before - len(self._unconfirmed), 1)

    def on_return(self, _error: object, _exchange: str, routing_key: str, _message: object) -> None:
        """The broker could route a mandatory message to no queue.

        RabbitMQ sends the return before the message's ack, so once every message is
        settled, every return has been counted.
        """
        self.returned += 1
        self.returned_key = routing_key

    def _settle(self, delivery_tag: int, multiple: bool) -> None:
        if multiple:
            for tag in range(self._confirmed_below, delivery_tag + 1):
                self._unconfirmed.discard(tag)
            self._confirmed_below = max(self._confirmed_below, delivery_tag + 1)
        else:
            self._unconfirmed.discard(delivery_tag)

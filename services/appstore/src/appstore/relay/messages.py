"""What the relay hands a publisher: one encoded event, ready for the wire."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutgoingMessage:
    """One encoded event, ready for the wire.

    ``message_id`` is the event's ``event_id``; it is sent as the AMQP ``message_id`` property
    so consumers can drop the duplicates that at-least-once delivery produces.
    """

    routing_key: str
    body: bytes
    message_id: str

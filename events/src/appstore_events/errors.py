"""One exception tree for everything that can go wrong with an event.

Decoding raises only these, so a consumer can catch :class:`EventError` and dead-letter
the message instead of crashing on input it did not expect.
"""

from __future__ import annotations

from typing import Any


class EventError(Exception):
    """Base class of every error raised by this package.

    Parameters:
        message: What went wrong, for humans.
        event_id, event_type: The event's identity, when it could be read from the input.
        details: Field-level messages (marshmallow's ``messages`` dict) when there are any.
    """

    def __init__(
        self,
        message: str,
        *,
        event_id: str | None = None,
        event_type: str | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.event_id = event_id
        self.event_type = event_type
        self.details = details

    def __str__(self) -> str:
        known = [("event_type", self.event_type), ("event_id", self.event_id)]
        context = ", ".join(f"{name}={value}" for name, value in known if value)
        return f"{self.message} ({context})" if context else self.message


class MalformedEvent(EventError):
    """The input is not JSON, not an object, or its envelope fields are missing or invalid."""


class UnknownEventType(EventError):
    """The envelope names an ``event_type`` this package does not know."""


class UnsupportedEventVersion(EventError):
    """The ``event_version`` is newer than known, or older with no upcaster to bring it up."""

    def __init__(
        self,
        message: str,
        *,
        event_version: int,
        supported_version: int,
        event_id: str | None = None,
        event_type: str | None = None,
    ) -> None:
        super().__init__(message, event_id=event_id, event_type=event_type)
        self.event_version = event_version
        self.supported_version = supported_version


class InvalidPayload(EventError):
    """The ``data`` of the event does not satisfy the schema of its type and version."""

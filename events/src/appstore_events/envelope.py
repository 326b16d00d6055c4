"""The envelope every event travels in, and the one way to start a new one."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .registry import SOURCE, get_event_type


@dataclass(frozen=True)
class Envelope:
    """An event: identity, type and version, position in the log, and its payload.

    ``sequence`` is None until the outbox assigns it. ``occurred_at`` is an aware UTC
    datetime. ``data`` holds Python values (timestamps as aware UTC datetimes) for the
    current ``event_version`` of the type.
    """

    event_id: str
    event_type: str
    event_version: int
    sequence: int | None
    source: str
    occurred_at: datetime
    data: dict[str, Any]

    def with_sequence(self, sequence: int) -> Envelope:
        """Return a copy carrying the outbox ``sequence`` (the envelope itself is frozen)."""
        return dataclasses.replace(self, sequence=sequence)


def new_envelope(
    event_type: str,
    data: dict[str, Any],
    *,
    source: str = SOURCE,
    occurred_at: datetime | None = None,
) -> Envelope:
    """Build the envelope of a new event: fresh uuid4 id, no sequence yet.

    Parameters:
        event_type: A name from the contract's table, e.g. ``"AppPurchased"``.
        data: The payload, with timestamps as aware datetimes or ISO-8601 strings.
        source: The producing service.
        occurred_at: When it happened, an aware datetime; now when omitted.

    Returns:
        Envelope: At the type's current version, with ``data`` validated and loaded.

    Raises:
        UnknownEventType: If ``event_type`` is not in the table.
        InvalidPayload: If ``data`` does not satisfy the type's schema.
    """
    event_id = str(uuid.uuid4())
    spec = get_event_type(event_type, event_id=event_id)
    return Envelope(
        event_id=event_id,
        event_type=spec.name,
        event_version=spec.version,
        sequence=None,
        source=source,
        occurred_at=(occurred_at or datetime.now(UTC)).astimezone(UTC),
        data=spec.load(data, event_id=event_id),
    )

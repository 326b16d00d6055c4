"""The transactional outbox: each write's event is inserted by the write's own transaction.

How ``sequence`` stays gap-free and in commit order: writers never pick it. They insert rows
with ``sequence`` NULL; the relay, as the only leader (see ``appstore.relay.leader``),
numbers the committed rows it can see, in insert order, continuing from the highest number
given so far. A transaction still in flight is invisible to that pass, so when it commits
later its events get numbers above everything already handed out: no reader of the log can
ever pass a number that is filled in afterwards, and a rolled-back write leaves no hole.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, text, update
from sqlalchemy.orm import Session

from appstore.models import OutboxEvent, OutboxProgress, utcnow
from appstore_events import new_encoded, routing_key_for

RELAY = "relay"


# Built once: a statement with values bound per call would be built and keyed anew on
# every write, which costs more than executing it.
_RECORD = insert(OutboxEvent)
# json.dumps with any option builds a new encoder per call, which cost more than encoding.
_COMPACT = json.JSONEncoder(separators=(",", ":"))


def record(executor: Session | Connection, event_type: str, data: dict) -> str:
    """Add an event to the caller's transaction; it commits or rolls back with the write.

    Returns:
        The new event's id.

    Raises:
        appstore_events.InvalidPayload: ``data`` does not satisfy the event's schema.
    """
    row = new_row(event_type, data)
    executor.execute(_RECORD, row)
    return row["event_id"]


def new_row(event_type: str, data: dict, occurred_at: datetime | None = None) -> dict[str, Any]:
    """The ``outbox`` row of a new event, without its sequence (given later; see
    :meth:`LoggedEvent.wire`).

    Raises:
        appstore_events.InvalidPayload: ``data`` does not satisfy the event's schema.
    """
    envelope, stored = new_encoded(event_type, data, occurred_at=occurred_at or utcnow())
    del stored["sequence"]
    return {
        "event_id": envelope.event_id,
        "event_type": envelope.event_type,
        "routing_key": routing_key_for(envelope.event_type),
        "occurred_at": envelope.occurred_at,
        "envelope": _COMPACT.encode(stored),
    }


@dataclass(frozen=True)
class LoggedEvent:
    sequence: int
    event_id: str
    routing_key: str
    envelope: str

    def body(self) -> dict:
        """The envelope as a JSON-ready dict, with its sequence."""
        return {**json.loads(self.envelope), "sequence": self.sequence}

    def wire(self) -> bytes:
        """The message body: the stored JSON object with the sequence spliced in front.

        Splicing instead of decoding and encoding again keeps the relay's cost per event
        flat; the stored object never has a "sequence" key, so the result is valid JSON.
        """
        return f'{{"sequence":{self.sequence},{self.envelope[1:]}'.encode()


def assign_sequences(connection: Connection, limit: int = 10_000) -> int:
    """Number up to ``limit`` committed, unnumbered events; only the relay leader calls this.

    Returns:
        How many events were numbered.
    """
    last = connection.scalar(select(func.coalesce(func.max(OutboxEvent.sequence), 0)))
    numbered = connection.execute(
        text(
            "UPDATE outbox SET sequence = numbered.sequence FROM ("
            " SELECT id, :last + row_number() OVER (ORDER BY id) AS sequence"
            " FROM outbox WHERE sequence IS NULL ORDER BY id LIMIT :limit"
            ") AS numbered WHERE outbox.id = numbered.id"
        ),
        {"last": last, "limit": limit},
    )
    return numbered.rowcount


def read(
    connection: Connection | Session, after: int, limit: int, until: int | None = None
) -> list[LoggedEvent]:
    """Numbered events with ``after < sequence [<= until]``, in sequence order."""
    query = (
        select(
            OutboxEvent.sequence,
            OutboxEvent.event_id,
            OutboxEvent.routing_key,
            OutboxEvent.envelope,
        )
        .where(OutboxEvent.sequence > after)
        .order_by(OutboxEvent.sequence)
        .limit(limit)
    )
    if until is not None:
        query = query.where(OutboxEvent.sequence <= until)
    return [LoggedEvent(*row) for row in connection.execute(query)]


def published_through(connection: Connection | Session) -> int:
    return connection.scalar(
        select(OutboxProgress.published_through).where(OutboxProgress.name == RELAY)
    )


def mark_published(connection: Connection, events: Sequence[LoggedEvent]) -> None:
    connection.execute(
        update(OutboxProgress)
        .where(OutboxProgress.name == RELAY)
        .values(published_through=events[-1].sequence)
    )


def last_sequence(connection: Connection | Session) -> int:
    return connection.scalar(select(func.coalesce(func.max(OutboxEvent.sequence), 0)))

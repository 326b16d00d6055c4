"""Publishing a selection of the event log again, beside the relay and without touching it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from appstore.models import OutboxEvent
from appstore.outbox import LoggedEvent
from appstore.relay.messages import OutgoingMessage
from sqlstore import Database


@dataclass(frozen=True)
class Selection:
    """Which numbered events a replay takes: those meeting every condition given.

    Parameters:
        after: sequences above this one (exclusive).
        until: sequences up to this one (inclusive); None for no upper bound.
        since: ``occurred_at`` at or after this instant (aware); None for no lower bound.
        before: ``occurred_at`` strictly before this instant (aware); None for no bound.
        types: the event types taken; empty for all of them.
    """

    after: int = 0
    until: int | None = None
    since: datetime | None = None
    before: datetime | None = None
    types: frozenset[str] = frozenset()

    def conditions(self) -> list[Any]:
        """The SQL conditions on ``outbox`` rows, the sequence range included."""
        where = [OutboxEvent.sequence > self.after]
        if self.until is not None:
            where.append(OutboxEvent.sequence <= self.until)
        if self.since is not None:
            where.append(OutboxEvent.occurred_at >= self.since)
        if self.before is not None:
            where.append(OutboxEvent.occurred_at < self.before)
        if self.types:
            where.append(OutboxEvent.event_type.in_(sorted(self.types)))
        return where


@dataclass(frozen=True)
class SelectedEvent:
    """One event a replay takes: what goes on the wire, and what the summary counts."""

    event: LoggedEvent
    event_type: str
    occurred_at: datetime


@dataclass
class Summary:
    """What a replay published (or, on a dry run, would have), counted as it goes."""

    dry_run: bool = False
    events: int = 0
    first_sequence: int | None = None
    last_sequence: int | None = None
    by_type: Counter[str] = field(default_factory=Counter)

    def add(self, batch: Sequence[SelectedEvent]) -> None:
        """Count a batch that is out (or would be), in sequence order."""
        if not batch:
            return
        if self.first_sequence is None:
            self.first_sequence = batch[0].event.sequence
        self.last_sequence = batch[-1].event.sequence
        self.events += len(batch)
        self.by_type.update(selected.event_type for selected in batch)

    def as_json(self) -> dict[str, Any]:
        """The summary as the JSON object ``appstore events replay --json`` prints."""
        return {
            "events": self.events,
            "first_sequence": self.first_sequence,
            "last_sequence": self.last_sequence,
            "by_type": dict(sorted(self.by_type.items())),
            "dry_run": self.dry_run,
        }


def count(session: Session, selection: Selection) -> int:
    """How many events ``selection`` takes."""
    query = select(func.count()).select_from(OutboxEvent).where(*selection.conditions())
    return session.scalar(query)


def read(session: Session, selection: Selection, after: int, limit: int) -> list[SelectedEvent]:
    """Up to ``limit`` events of ``selection`` past sequence ``after``, in sequence order."""
    query = (
        select(
            OutboxEvent.sequence,
            OutboxEvent.event_id,
            OutboxEvent.routing_key,
            OutboxEvent.envelope,
            OutboxEvent.event_type,
            OutboxEvent.occurred_at,
        )
        .where(*selection.conditions(), OutboxEvent.sequence > after)
        .order_by(OutboxEvent.sequence)
        .limit(limit)
    )
    return [
        SelectedEvent(LoggedEvent(*row[:4]), event_type, occurred_at)
        for *row, event_type, occurred_at in session.execute(query)
    ]


def replay(
    db: Database,
    publisher,
    selection: Selection,
    summary: Summary,
    *,
    batch_size: int = 5000,
    queue: str | None = None,
    on_batch: Callable[[Sequence[SelectedEvent]], None] = lambda batch: None,
) -> Summary:
    """Publish the events of ``selection`` in sequence order, a batch at a time.

    Parameters:
        db: the Appstore's database.
        publisher: what publishes the batches; None for a dry run, which reads and counts
            the same batches and publishes nothing.
        selection: the events to publish.
        summary: counts each batch once the broker confirmed it (or, on a dry run, once
            read); after a failure it tells how far the replay got.
        batch_size: events read and published at a time.
        queue: the routing key of every message instead of the event's own: with a
            publisher to the default exchange, the name of the one queue to fill.
        on_batch: called with each batch after it is counted.

    Returns:
        ``summary``.

    Raises:
        appstore.errors.PublishError: the broker did not confirm a batch; the batches
            counted in ``summary`` are out.
    """
    position = selection.after
    while selection.until is None or position < selection.until:
        with db.reading() as session:
            batch = read(session, selection, position, batch_size)
        if not batch:
            break
        if publisher is not None:
            publisher.publish_batch(
                [
                    OutgoingMessage(queue or s.event.routing_key, s.event.wire(), s.event.event_id)
                    for s in batch
                ]
            )
        position = batch[-1].event.sequence
        summary.add(batch)
        on_batch(batch)
    return summary

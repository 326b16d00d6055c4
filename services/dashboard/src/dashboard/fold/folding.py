"""Folding a batch of events into the projections, exactly once in effect.

In the caller's transaction: the dedupe rows first, then the plan of the new events
applied (:mod:`dashboard.fold.apply`), then the progress (:mod:`dashboard.fold.progress`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

from appstore_events import Envelope
from dashboard.fold import progress
from dashboard.fold.apply import apply_deltas
from dashboard.fold.plan import Deltas, check_foldable, plan_checked, unique_events
from dashboard.models import ProcessedEvent
from sqlstore import Executor
from sqlstore.inserts import built_once, dialect_name, insert_columns, insert_for


@dataclass(frozen=True)
class FoldResult:
    """What one call of :func:`fold` did.

    ``folded`` events changed the projections; ``duplicates`` did not, because they were
    repeated within the batch or folded before. ``by_type`` counts the folded ones.
    """

    folded: int
    duplicates: int
    by_type: Counter[str] = field(default_factory=Counter)


def fold(
    executor: Executor, envelopes: Sequence[Envelope], *, planned: Deltas | None = None
) -> FoldResult:
    """Fold a batch of decoded events in the caller's transaction.

    The dedupe rows and the projection changes are written in that one transaction, so
    the caller commits, and only then acknowledges the messages: a crash before the
    commit leaves nothing behind, and a redelivery after it is recognised as a duplicate.
    Safe to run in several processes at once (see :mod:`dashboard.fold.apply`) at
    PostgreSQL's default isolation, READ COMMITTED, which it relies on: a row another fold
    has just committed must be visible to the next statement.

    Parameters:
        executor: a session or connection inside an open transaction.
        envelopes: events in any order; ones already folded, or repeated, are skipped.
        planned: ``plan(envelopes)``, when the caller has it already (a rebuild plans the
            next batch while the last one is written). Used only if every envelope turns
            out to be new; otherwise the new ones are planned here.

    Returns:
        How many events were folded and how many were duplicates.

    Raises:
        UnfoldableEvent: an envelope's type or version has no fold; nothing was written.
    """
    check_foldable(envelopes)
    batch = unique_events(envelopes)
    new_ids = _record_processed(executor, batch)
    new = [envelope for envelope in batch if envelope.event_id in new_ids]
    if new:
        everything_new = planned is not None and len(new) == len(batch)
        apply_deltas(executor, planned if everything_new else plan_checked(new))
        progress.advance(executor, new)
    return FoldResult(
        folded=len(new),
        duplicates=len(envelopes) - len(new),
        by_type=Counter(envelope.event_type for envelope in new),
    )


def _record_processed(executor: Executor, batch: list[Envelope]) -> set[str]:
    """Insert a dedupe row per event; return the ids that had none, i.e. the new events."""
    if not batch:
        return set()
    ordered = sorted(batch, key=_event_id)
    columns = {
        "event_id": [envelope.event_id for envelope in ordered],
        "sequence": [envelope.sequence for envelope in ordered],
        "event_type": [envelope.event_type for envelope in ordered],
        "occurred_at": [envelope.occurred_at for envelope in ordered],
        "folded_at": [datetime.now(UTC)] * len(ordered),
    }
    # A row another fold has inserted but not yet committed makes this wait for the
    # outcome: skipped if that fold commits, inserted here if it rolls back.
    inserted = insert_columns(executor, _dedupe_insert(dialect_name(executor)), columns)
    return set(inserted.scalars().all())


_event_id = attrgetter("event_id")


@built_once
def _dedupe_insert(dialect: str) -> Any:
    table = ProcessedEvent.__table__
    return insert_for(dialect, table).on_conflict_do_nothing().returning(table.c.event_id)

"""How far the event log is folded, kept in the single ``fold_progress`` row."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import exists, select, update

from appstore_events import Envelope
from dashboard.errors import MissingProgressRow
from dashboard.models import EVENTS_PROGRESS, FoldProgress, ProcessedEvent
from sqlstore import Executor


def advance(executor: Executor, folded: Sequence[Envelope]) -> None:
    """Move the progress past the events just folded, in the caller's transaction.

    The row is locked before ``processed_events`` is read, so on PostgreSQL this read sees
    every fold that committed before: of two concurrent folds, the second to take the lock
    sees the first one's sequences, and the last to commit leaves the progress exact.
    """
    table = FoldProgress.__table__
    mine = table.c.name == EVENTS_PROGRESS
    progress = executor.execute(select(table).where(mine).with_for_update()).one_or_none()
    if progress is None:
        raise MissingProgressRow("fold_progress has no row: run `dashboard db upgrade`")
    sequences = [e.sequence for e in folded if e.sequence is not None]
    latest = max(e.occurred_at for e in folded)
    if progress.last_event_at is not None:
        latest = max(latest, progress.last_event_at)
    executor.execute(
        update(table)
        .where(mine)
        .values(
            contiguous_through=contiguous_through(executor, progress.contiguous_through),
            last_sequence=max([progress.last_sequence, *sequences]),
            last_event_at=latest,
            generation=table.c.generation + 1,
        )
    )


def contiguous_through(executor: Executor, start: int) -> int:
    """Return the highest sequence up to which every sequence after ``start`` is folded.

    Parameters:
        start: a sequence known to be contiguous (every one up to it is folded).

    Returns:
        ``start`` if ``start + 1`` is missing, else the end of the run that follows it.
    """
    events = ProcessedEvent.__table__
    if executor.scalar(select(events.c.sequence).where(events.c.sequence == start + 1)) is None:
        return start
    # The run ends at the first folded sequence whose successor is missing. The index on
    # sequence lets this walk the run only, which the previous fold has not covered.
    following = events.alias("following")
    end = (
        select(events.c.sequence)
        .where(
            events.c.sequence > start,
            ~exists().where(following.c.sequence == events.c.sequence + 1),
        )
        .order_by(events.c.sequence)
        .limit(1)
    )
    return executor.scalar(end)

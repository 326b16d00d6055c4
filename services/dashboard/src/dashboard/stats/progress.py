"""The fold progress row, read once per request: its ``generation`` keys the cache."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from dashboard.models import EVENTS_PROGRESS, FoldProgress
from dashboard.stats.reading import Reader
from sqlstore import Executor


class NotMigrated(RuntimeError):
    """The database lacks the ``fold_progress`` row: ``dashboard db upgrade`` has not run."""


@dataclass(frozen=True, slots=True)
class Progress:
    """How far the log is folded; ``generation`` grows with every committed fold."""

    generation: int
    contiguous_through: int
    last_sequence: int
    last_event_at: datetime | None


def read_progress(reader: Reader) -> Progress:
    """One primary-key read of ``fold_progress``.

    Raises:
        NotMigrated: the row is missing.
    """
    with reader.connect() as connection:
        return progress_in(connection)


def progress_in(executor: Executor) -> Progress:
    row = executor.execute(
        select(
            FoldProgress.generation,
            FoldProgress.contiguous_through,
            FoldProgress.last_sequence,
            FoldProgress.last_event_at,
        ).where(FoldProgress.name == EVENTS_PROGRESS)
    ).one_or_none()
    if row is None:
        raise NotMigrated("fold_progress has no row: run `dashboard db upgrade`")
    return Progress(row[0], row[1], row[2], aware(row[3]))


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without their zone; they were stored in UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment

"""The fold progress row, read once per request: its ``generation`` keys the cache."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from dashboard.errors import MissingProgressRow
from dashboard.models import EVENTS_PROGRESS, FoldProgress
from dashboard.stats.reading import Reader
from sqlstore import Executor


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
        MissingProgressRow: the row is missing.
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
        raise MissingProgressRow("fold_progress has no row: run `dashboard db upgrade`")
    return Progress(row[0], row[1], row[2], row[3])

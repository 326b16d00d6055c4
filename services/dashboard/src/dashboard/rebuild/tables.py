"""Fresh projection tables beside the live ones, and the swap that puts them in place.

Every table of :mod:`dashboard.models` is a projection of the log and is rebuilt, except
``dead_letters`` (messages kept for an operator, not derived from the log), ``log_head``
(what the Appstore's log was last seen to hold) and
``fold_progress``, whose row stays where it is and takes the fresh values at the swap with
a ``generation`` above the live one, so caches keyed by it let go of the old answers.

The fold code writes to the fresh tables unchanged: on PostgreSQL they live in a schema of
their own (:mod:`dashboard.rebuild.postgres`), on SQLite in a file beside the database
(:mod:`dashboard.rebuild.sqlite`). Either is dropped before a rebuild starts, so what a
crashed rebuild left behind is never read, and the live worker never looks at it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy import Connection, Table, insert

from dashboard.models import (
    EVENTS_PROGRESS,
    TOTALS,
    Base,
    DeadLetter,
    FoldProgress,
    LogHead,
    ProcessedEvent,
    Total,
)
from sqlstore import Database

_KEPT = {FoldProgress.__tablename__, DeadLetter.__tablename__, LogHead.__tablename__}
#: The rebuilt tables. ``processed_events`` first: every fold writes it first, so a swap
#: that locks it first waits for the folds under way and holds back the next ones.
REBUILT: list[Table] = [ProcessedEvent.__table__] + [
    table
    for table in Base.metadata.sorted_tables
    if table.name not in _KEPT and table is not ProcessedEvent.__table__
]
PROGRESS_COLUMNS = ("contiguous_through", "last_sequence", "last_event_at")

#: Folds the last events into the fresh tables inside the swap's transaction.
FoldTail = Callable[[Connection], None]


class FreshTables(ABC):
    """Where a rebuild folds, and how its tables replace the live ones."""

    @abstractmethod
    def exclusive(self) -> AbstractContextManager[None]:
        """Hold the database's rebuild lock for the block; raise RebuildRunning if taken."""

    @abstractmethod
    def create(self) -> None:
        """Drop what an earlier rebuild left, then create empty tables seeded as migrated."""

    @abstractmethod
    def folding(self) -> AbstractContextManager[Connection]:
        """Yield a connection in a transaction that writes the fresh tables; commit at end."""

    @abstractmethod
    def swap(self, fold_tail: FoldTail) -> int:
        """Lock the live tables, fold the tail, put the fresh tables in place; return the
        new generation. One transaction: a failure leaves the live tables as they were."""

    @abstractmethod
    def drop(self) -> None:
        """Remove the fresh tables, if any."""


def fresh_tables(db: Database) -> FreshTables:
    """The fresh tables for ``db``'s backend."""
    if db.is_sqlite:
        from dashboard.rebuild.sqlite import SqliteFreshTables

        return SqliteFreshTables(db)
    from dashboard.rebuild.postgres import PostgresFreshTables

    return PostgresFreshTables(db)


def seed(connection: Connection) -> None:
    """The rows the migrations insert: the progress row and every total at zero."""
    connection.execute(
        insert(FoldProgress.__table__).values(
            name=EVENTS_PROGRESS, contiguous_through=0, last_sequence=0, generation=0
        )
    )
    connection.execute(insert(Total.__table__), [{"name": name, "value": 0} for name in TOTALS])

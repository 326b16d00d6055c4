"""How far the Dashboard is behind the Appstore's event log, as last checked.

The Appstore answers every read of its log with the log's head (``X-Log-Head``, the highest
sequence given so far). Whoever reads it, the worker's healing process at each sync or the
API when nobody has for a while (:class:`HeadChecker`), records it in ``log_head``. The
API then tells ``behind``: the events up to that head not folded yet, counted against the
fold's progress as it is now, so it drops as soon as the worker folds them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from dashboard.appstore_client import AppstoreClient
from dashboard.errors import AppstoreUnavailable
from dashboard.models import EVENTS_PROGRESS, LogHead, ProcessedEvent
from sqlstore import Database, Executor, dialect_insert

log = logging.getLogger(__name__)

#: After this long with no check of the log's head, the API checks it itself (the worker,
#: which checks at every sync, may be stopped).
HEAD_MAX_AGE = timedelta(seconds=15)


@dataclass(frozen=True, slots=True)
class Freshness:
    """``behind``: events logged but not folded, as of ``checked_at``; ``None``: never
    checked."""

    behind: int | None
    checked_at: datetime | None

    @property
    def caught_up(self) -> bool | None:
        return None if self.behind is None else self.behind == 0


def record_head(executor: Executor, sequence: int, at: datetime | None = None) -> None:
    """Keep ``sequence`` as the log's head, checked at ``at`` (now)."""
    at = at or datetime.now(UTC)
    table = LogHead.__table__
    values = {"sequence": sequence, "checked_at": at}
    done = executor.execute(update(table).where(table.c.name == EVENTS_PROGRESS).values(values))
    if done.rowcount == 0:
        executor.execute(insert(table).values(name=EVENTS_PROGRESS, **values))


def freshness(executor: Executor, contiguous_through: int) -> Freshness:
    """How many logged events, up to the last-checked head, are not folded.

    Parameters:
        contiguous_through: the fold's progress: every sequence up to it is folded.
    """
    row = executor.execute(
        select(LogHead.sequence, LogHead.checked_at).where(LogHead.name == EVENTS_PROGRESS)
    ).one_or_none()
    if row is None or row.sequence is None:
        return Freshness(None, None)
    head, checked_at = row
    if head <= contiguous_through:
        return Freshness(0, checked_at)
    folded_beyond = executor.scalar(
        select(func.count()).where(
            ProcessedEvent.sequence > contiguous_through, ProcessedEvent.sequence <= head
        )
    )
    return Freshness(max(0, head - contiguous_through - folded_beyond), checked_at)


class HeadChecker:
    """Asks the Appstore for its log's head when nobody has for :data:`HEAD_MAX_AGE`.

    Of the processes that find the check stale, one claims it (``attempted_at``) and asks;
    the others go on with the head as it was. Failures (the Appstore or the database
    unreachable) are logged and wait for the next period; they never fail the caller.

    Parameters:
        database: the Dashboard's database.
        client: the Appstore's client; ``None`` (no service account) never checks.
    """

    def __init__(self, database: Database, client: AppstoreClient | None) -> None:
        self._database = database
        self._client = client

    def refresh_if_stale(self, now: datetime | None = None) -> bool:
        """Check the head if it is stale; return whether this call checked it."""
        if self._client is None:
            return False
        now = now or datetime.now(UTC)
        try:
            if not self._claim(now):
                return False
            head = self._client.log_head()
            with self._database.transaction() as session:
                record_head(session, head, now)
        except (AppstoreUnavailable, SQLAlchemyError) as error:
            # The answer goes out with the head as last checked; the next period tries again.
            log.warning("could not check the head of the Appstore's log: %s", error)
            return False
        return True

    def _claim(self, now: datetime) -> bool:
        table = LogHead.__table__
        stale = now - HEAD_MAX_AGE
        with self._database.transaction() as session:
            claimed = session.execute(
                update(table)
                .where(
                    table.c.name == EVENTS_PROGRESS,
                    (table.c.checked_at.is_(None)) | (table.c.checked_at < stale),
                    (table.c.attempted_at.is_(None)) | (table.c.attempted_at < stale),
                )
                .values(attempted_at=now)
            )
            if claimed.rowcount == 1:
                return True
            # No row at all (a database emptied by hand): the first to make it claims.
            made = session.execute(
                dialect_insert(session, table)
                .values(name=EVENTS_PROGRESS, attempted_at=now)
                .on_conflict_do_nothing()
            )
            return made.rowcount == 1

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

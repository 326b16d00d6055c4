"""``dashboard sync``: fill gaps from the Appstore's event log with the same fold and dedupe.

A purged queue, a dashboard started after the Appstore, or a message lost before it reached
RabbitMQ all leave holes in the sequence. Sync reads the log from the highest contiguous
sequence folded so far and folds every page; events already folded are recognised by their
id and skipped, so running it at any time, beside the worker, is safe. It records the log's
head as it found it (:mod:`dashboard.freshness`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from appstore_events import EventError, decode
from dashboard.appstore_client import AppstoreClient
from dashboard.fold import fold
from dashboard.freshness import record_head
from dashboard.models import EVENTS_PROGRESS, FoldProgress
from servicekit import logs
from sqlstore import Database

log = logging.getLogger("dashboard.sync")


@dataclass
class SyncResult:
    read: int = 0
    folded: int = 0
    duplicates: int = 0
    unreadable: Counter = field(default_factory=Counter)
    last_sequence: int = 0


def sync(
    db: Database,
    client: AppstoreClient,
    page_size: int = 1000,
    on_page: Callable[[SyncResult], None] = lambda result: None,
) -> SyncResult:
    """Fold every event of the log after the contiguous position, a page per transaction.

    Events the contract package cannot read (unknown type, newer version, invalid payload)
    are counted by error and skipped: the worker dead-letters the same events when they come
    through the queue, where they can be inspected and replayed.
    """
    result = SyncResult(last_sequence=contiguous_position(db))
    while True:
        page, head = client.events_and_head(after=result.last_sequence, limit=page_size)
        if len(page) < page_size:
            # The last page: what the log held then is what `behind` is measured against.
            with db.transaction() as session:
                record_head(session, head)
        if not page:
            return result
        envelopes = []
        for raw in page:
            try:
                envelopes.append(decode(raw))
            except EventError as error:
                result.unreadable[type(error).__name__] += 1
                with logs.bound(event_id=raw.get("event_id"), sequence=raw.get("sequence")):
                    log.warning("skipping unreadable event %s: %s", raw.get("sequence"), error)
        with db.transaction() as session:
            folded = fold(session, envelopes)
        result.read += len(page)
        result.folded += folded.folded
        result.duplicates += folded.duplicates
        result.last_sequence = page[-1]["sequence"]
        on_page(result)
        if len(page) < page_size:
            return result


def contiguous_position(db: Database) -> int:
    """The highest sequence up to which every event is folded."""
    with db.reading() as session:
        return session.scalar(
            select(FoldProgress.contiguous_through).where(FoldProgress.name == EVENTS_PROGRESS)
        )

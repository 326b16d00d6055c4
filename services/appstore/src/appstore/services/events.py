"""Reading the event log (the outbox) for consumers that catch up over HTTP."""

from __future__ import annotations

from appstore import outbox
from sqlstore import Database


def read_log(db: Database, after: int, limit: int) -> list[dict]:
    """Envelopes with ``sequence > after``, in order, at most ``limit`` of them."""
    with db.reading() as session:
        return [event.body() for event in outbox.read(session, after, limit)]

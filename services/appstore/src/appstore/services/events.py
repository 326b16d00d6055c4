"""Reading the event log (the outbox) for consumers that catch up over HTTP."""

from __future__ import annotations

from appstore import outbox
from sqlstore import Database


def read_log(db: Database, after: int, limit: int) -> tuple[bytes, int]:
    """A JSON array of the envelopes with ``sequence > after``, in order, at most ``limit``,
    and the log's head: the highest sequence given so far (0 for an empty log).

    Built from the stored JSON with each sequence spliced in, as the relay publishes them:
    decoding and encoding every envelope again cost three times as much as everything
    else a page of the log takes, and a rebuilding Dashboard reads the whole log.
    """
    with db.reading() as session:
        events = outbox.read(session, after, limit)
        head = outbox.last_sequence(session)
    # Read in one transaction: the head is never below the page's last sequence.
    return b"[" + b",".join(event.wire() for event in events) + b"]", head

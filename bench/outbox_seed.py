"""Filling an Appstore outbox for the benchmarks, fast: thousands of rows per statement.

The rows are what :func:`appstore.outbox.record` writes for each event (an envelope built
and checked by the event contract, stored without its sequence), but inserted in multi-row
statements instead of one ``INSERT`` per event, so that seeding 200,000 events takes
seconds rather than minutes. ``sequence`` stays NULL: the relay numbers the rows as usual.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import Connection, insert

from appstore import outbox
from appstore.models import OutboxEvent

#: Rows per INSERT statement (SQLAlchemy sends them as multi-row VALUES).
CHUNK = 5_000


def outbox_rows(events: Iterable[tuple[str, dict]]) -> Iterator[dict]:
    """The outbox rows of ``(event_type, data)`` pairs, as ``outbox.record`` makes them."""
    for event_type, data in events:
        yield outbox.new_row(event_type, data)


def insert_rows(connection: Connection, rows: list[dict]) -> int:
    """Insert ready-made outbox rows in the caller's transaction; return how many."""
    for start in range(0, len(rows), CHUNK):
        connection.execute(insert(OutboxEvent), rows[start : start + CHUNK])
    return len(rows)


def insert_events(connection: Connection, events: Iterable[tuple[str, dict]]) -> int:
    """Build and insert the rows of ``events`` in the caller's transaction; return how many."""
    return insert_rows(connection, list(outbox_rows(events)))

"""Only one relay publishes at a time: the leader. The others wait to take over.

PostgreSQL: a session-level advisory lock on the relay's own connection. The server drops
it when that connection ends: at once when the leader's process dies, and within about a
minute (TCP keepalives, see ``sqlstore.make_engine``) when its host or network vanishes;
a leader that is merely slow keeps it (no lease that expires under a live process).
SQLite (embedded, one machine): an exclusive lock on a file in the data directory.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, text

# An arbitrary constant that names "the outbox relay" among advisory locks.
ADVISORY_LOCK_KEY = 0x0A55_7012


def acquire(
    connection: Connection, data_dir: Path, should_stop: Callable[[], bool], poll: float = 0.5
) -> Callable[[], None] | None:
    """Wait until this process leads.

    Parameters:
        connection: the relay's own connection; on PostgreSQL it holds the lock.
        data_dir: where the SQLite lock file lives.
        should_stop: asked between tries; true gives up waiting.
        poll: seconds between tries.

    Returns:
        A function that gives leadership up, or None if ``should_stop`` turned true first.
    """
    if connection.dialect.name == "postgresql":
        while not should_stop():
            if connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            ):
                # Giving up ends the session: a pooled connection would keep the session,
                # and the lock with it, alive for whoever checks it out next.
                return connection.invalidate
            time.sleep(poll)
        return None
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = (data_dir / "relay.lock").open("w")
    while not should_stop():
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle.close  # closing the file releases the lock
        except BlockingIOError:
            time.sleep(poll)
    handle.close()
    return None

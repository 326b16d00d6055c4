"""Which failures of the folding actor Dramatiq retries, and which dead-letter at once."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from appstore_events import EventError
from dashboard.errors import MissingProgressRow, UnfoldableEvent

#: Retries of an error that is neither known-permanent nor known-transient (a bug, say)
#: before it is dead-lettered, where `dashboard dlq replay` can bring it back once fixed.
UNEXPECTED_ERROR_RETRIES = 5

# The database or the way to it is down, slow or not migrated yet: the same event will
# fold once it is back, so these are retried with backoff however long that takes.
_TRANSIENT = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout, MissingProgressRow)


def is_permanent(error: BaseException) -> bool:
    """True if the message can never succeed: it is not an event this fold knows."""
    return isinstance(error, EventError | UnfoldableEvent)


def is_transient(error: BaseException) -> bool:
    """True if the same message may succeed later (database unavailable or not migrated)."""
    if isinstance(error, _TRANSIENT):
        return True
    # psycopg2 reports a server gone mid-statement as other DBAPI errors at times;
    # SQLAlchemy marks those as having invalidated the connection.
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def should_retry(retries: int, error: BaseException) -> bool:
    """Dramatiq's ``retry_when``: retry transient errors forever, permanent ones never.

    Parameters:
        retries: how many times the message has been retried already.
        error: what the actor raised.

    Returns:
        Whether Dramatiq should retry the message (after a backoff) rather than fail it,
        which nacks it to the dead-letter queue.
    """
    if is_permanent(error):
        return False
    if is_transient(error):
        return True
    return retries < UNEXPECTED_ERROR_RETRIES

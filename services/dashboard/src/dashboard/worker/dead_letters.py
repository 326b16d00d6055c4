"""Dead letters: counted, and kept in the ``dead_letters`` table beyond RabbitMQ's 7 days.

:class:`DeadLetters` is the Dramatiq middleware on the failure path: when a message has
failed for good (Retries gave up, or the error is permanent), it counts it by reason and
upserts its copy **before** the worker nacks it to ``dashboard.events.XQ``. The rest of
this module is what ``dashboard dlq`` reads and deletes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dramatiq import Middleware
from sqlalchemy import delete, select

from appstore_events import (
    InvalidPayload,
    MalformedEvent,
    UnknownEventType,
    UnsupportedEventVersion,
)
from dashboard.errors import UnfoldableEvent
from dashboard.models import DeadLetter
from dashboard.worker import properties
from servicekit import logs
from sqlstore import Database, Executor, dialect_insert

logger = logging.getLogger(__name__)

_REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (MalformedEvent, "malformed"),
    (UnknownEventType, "unknown_type"),
    (UnsupportedEventVersion, "unsupported_version"),
    (InvalidPayload, "invalid_payload"),
    (UnfoldableEvent, "unfoldable"),
)


def reason_for(error: BaseException) -> str:
    """The ``reason`` label of a dead letter: the kind of event error, else ``error``."""
    for kind, reason in _REASONS:
        if isinstance(error, kind):
            return reason
    return "error"


@dataclass(frozen=True)
class Letter:
    """What is kept of one failed message; the AMQP properties ``None`` when unknown."""

    message_id: str
    reason: str
    error: str
    body: str
    event_type: str | None
    routing_key: str | None = None
    headers: dict[str, Any] | None = None
    content_type: str | None = None


def letter_for(
    message_id: str,
    argument: Any,
    error: BaseException,
    properties: dict[str, Any] | None = None,
) -> Letter:
    """Describe a failed message whose actor argument was ``argument``.

    The argument is the body as text, or the parsed JSON object (see
    :class:`~dashboard.worker.encoder.EnvelopeEncoder`), which is written back as JSON.
    ``properties`` are the delivery's, as :mod:`dashboard.worker.properties` recorded them.
    """
    if isinstance(argument, str):
        body, event_type = argument, None
    else:
        body = json.dumps(argument, separators=(",", ":"), ensure_ascii=False)
        found = argument.get("event_type") if isinstance(argument, dict) else None
        event_type = found if isinstance(found, str) else None
    event_type = getattr(error, "event_type", None) or event_type
    properties = properties or {}
    headers = properties.get("headers")
    return Letter(
        message_id,
        reason_for(error),
        str(error) or repr(error),
        body,
        event_type,
        routing_key=properties.get("routing_key"),
        headers=headers if isinstance(headers, dict) else None,
        content_type=properties.get("content_type"),
    )


def keep(executor: Executor, letter: Letter, now: datetime | None = None) -> None:
    """Insert the letter, or bump ``count`` and ``last_seen`` of the row it already has."""
    now = now or datetime.now(UTC)
    table = DeadLetter.__table__
    insert = dialect_insert(executor, table).values(
        message_id=letter.message_id,
        reason=letter.reason,
        event_type=letter.event_type,
        error=letter.error,
        body=letter.body,
        first_seen=now,
        last_seen=now,
        count=1,
        routing_key=letter.routing_key,
        headers=None if letter.headers is None else json.dumps(letter.headers, sort_keys=True),
        content_type=letter.content_type,
    )
    executor.execute(
        insert.on_conflict_do_update(
            index_elements=[table.c.message_id],
            set_={
                "reason": insert.excluded.reason,
                "event_type": insert.excluded.event_type,
                "error": insert.excluded.error,
                "body": insert.excluded.body,
                "routing_key": insert.excluded.routing_key,
                "headers": insert.excluded.headers,
                "content_type": insert.excluded.content_type,
                "last_seen": insert.excluded.last_seen,
                "count": table.c.count + 1,
            },
        )
    )


@dataclass(frozen=True)
class Selection:
    """Which kept dead letters a ``dashboard dlq`` command acts on; unset parts match all.

    Parameters:
        ids: only these ids.
        reason: only letters with this ``reason``.
        event_type: only letters of this event type.
        seen_before: only letters last seen before this time.
    """

    ids: list[int] | None = None
    reason: str | None = None
    event_type: str | None = None
    seen_before: datetime | None = None

    def where(self, statement):
        """``statement`` (a select or a delete of :class:`DeadLetter`) narrowed to this."""
        if self.ids is not None:
            statement = statement.where(DeadLetter.id.in_(self.ids))
        if self.reason is not None:
            statement = statement.where(DeadLetter.reason == self.reason)
        if self.event_type is not None:
            statement = statement.where(DeadLetter.event_type == self.event_type)
        if self.seen_before is not None:
            statement = statement.where(DeadLetter.last_seen < self.seen_before)
        return statement


def list_letters(
    database: Database,
    ids: list[int] | None = None,
    *,
    selection: Selection | None = None,
    limit: int | None = None,
) -> list[DeadLetter]:
    """The kept dead letters, oldest first; only those with ``ids``, or in ``selection``.

    Parameters:
        database: where the letters are kept.
        ids: only these ids (the same as a selection of them).
        selection: only the letters it matches.
        limit: at most this many, the oldest.
    """
    selection = selection or Selection(ids=ids)
    query = selection.where(select(DeadLetter)).order_by(DeadLetter.id)
    if limit is not None:
        query = query.limit(limit)
    with database.reading() as session:
        return list(session.scalars(query))


def forget(
    database: Database, ids: list[int] | None = None, *, selection: Selection | None = None
) -> int:
    """Delete the dead letters with ``ids``, or in ``selection`` (all if neither); return
    how many."""
    statement = (selection or Selection(ids=ids)).where(delete(DeadLetter))
    with database.transaction() as session:
        return session.execute(statement).rowcount


def forget_replayed(database: Database, letters: list[DeadLetter]) -> int:
    """Delete replayed letters, unless the worker dead-lettered them again meanwhile.

    A replayed body that still fails can come back before this runs; its row then has a
    higher ``count`` and must stay.
    """
    deleted = 0
    with database.transaction() as session:
        for letter in letters:
            deleted += session.execute(
                delete(DeadLetter).where(
                    DeadLetter.id == letter.id, DeadLetter.count == letter.count
                )
            ).rowcount
    return deleted


class DeadLetters(Middleware):
    """Counts and keeps each message that has failed for good, before it is nacked.

    Must come before ``Retries`` in the broker's middleware list: Dramatiq runs
    ``after_*`` hooks in reverse order, and this one needs Retries' verdict.

    If the database is down too, the copy is not written (the message still goes to the
    ``.XQ``, and a counter says so): blocking the nack on it would hold up the queue.

    Parameters:
        database: returns the database to keep letters in (made lazily, per process).
        counter: a Prometheus counter labelled by ``reason``.
        store_failures: a Prometheus counter of copies that could not be written.
    """

    def __init__(self, database: Callable[[], Database], counter=None, store_failures=None) -> None:
        self._database = database
        self._counter = counter
        self._store_failures = store_failures

    def after_process_message(self, broker, message, *, result=None, exception=None):
        if exception is None or not message.failed:
            return
        argument = message.args[0] if message.args else None
        letter = letter_for(
            message.message_id, argument, exception, message.options.get(properties.OPTION)
        )
        if self._counter is not None:
            self._counter.labels(letter.reason).inc()
        sequence = argument.get("sequence") if isinstance(argument, dict) else None
        with logs.bound(event_id=letter.message_id, sequence=sequence):
            logger.warning(
                "dead-lettering message %s (%s): %s",
                letter.message_id,
                letter.reason,
                letter.error,
            )
            try:
                with self._database().transaction() as session:
                    keep(session, letter)
            except Exception:
                logger.exception("could not keep dead letter %s in the database", letter.message_id)
                if self._store_failures is not None:
                    self._store_failures.inc()

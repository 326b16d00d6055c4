"""The relay loop: number committed events, publish them in order, remember how far it got.

At-least-once: a batch is marked published only after the broker confirmed every message of
it; a crash between the confirm and the mark republishes the batch, and consumers dedupe by
event_id. Order: one leader, one channel, batches in sequence order.
"""

from __future__ import annotations

import logging
import select
import time
from collections import Counter as Tally
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, Engine, func
from sqlalchemy import select as sql_select
from sqlalchemy.exc import SQLAlchemyError

from appstore import outbox
from appstore.errors import PublishError
from appstore.models import OutboxEvent, utcnow
from appstore.relay import leader, metrics
from appstore.relay.messages import OutgoingMessage
from servicekit import logs
from servicekit.backoff import Backoff, sleep_unless_stopped

log = logging.getLogger("appstore.relay")
NOTIFY_CHANNEL = "appstore_outbox"


class Relay:
    """Moves events from the outbox to the broker until told to stop.

    Parameters:
        engine: the Appstore database.
        publisher: an ``AmqpPublisher`` or ``MemoryPublisher``.
        data_dir: where the SQLite leader lock file lives.
        batch_size: events per publish round (all in flight together).
        idle_wait: longest sleep between checks when nothing wakes the relay (SQLite polls
            this often; PostgreSQL is woken by NOTIFY and only falls back to it).
    """

    def __init__(
        self,
        engine: Engine,
        publisher,
        data_dir: Path,
        batch_size: int = 5000,
        idle_wait: float = 0.05,
    ) -> None:
        self.engine = engine
        self.publisher = publisher
        self.data_dir = data_dir
        self.batch_size = batch_size
        self.idle_wait = idle_wait
        self._gauges_due = 0.0

    def run(self, should_stop: Callable[[], bool]) -> None:
        """Lead (or wait to lead) and publish; survive database and broker outages."""
        backoff = Backoff(0.1, 5.0)
        while not should_stop():
            try:
                self._lead(should_stop)
                backoff.reset()
            except SQLAlchemyError as error:
                delay = backoff.next_delay()
                log.warning("database unavailable, retrying in %.1fs: %s", delay, error)
                sleep_unless_stopped(delay, should_stop)
            finally:
                metrics.LEADER.set(0)
        self.publisher.close()

    def _lead(self, should_stop: Callable[[], bool]) -> None:
        postgres = self.engine.dialect.name == "postgresql"
        options = {"isolation_level": "AUTOCOMMIT"} if postgres else {}
        with self.engine.connect().execution_options(**options) as connection:
            release = leader.acquire(connection, self.data_dir, should_stop)
            if release is None:
                return
            log.info("leading: this relay publishes the outbox")
            metrics.LEADER.set(1)
            try:
                if postgres:
                    connection.exec_driver_sql(f"LISTEN {NOTIFY_CHANNEL}")
                connection.commit()
                while not should_stop():
                    if not self.publish_once(connection, should_stop):
                        self._wait_for_commit(connection)
            finally:
                release()

    def publish_once(self, connection: Connection, should_stop: Callable[[], bool]) -> int:
        """Number new events and publish one batch; return how many were published."""
        # Each step commits on its own: on PostgreSQL the connection is in autocommit (it
        # holds the leader lock and LISTENs), so commit() only closes SQLAlchemy's scope.
        outbox.assign_sequences(connection, limit=self.batch_size * 5)
        connection.commit()
        position = outbox.published_through(connection)
        events = outbox.read(connection, position, self.batch_size)
        connection.commit()
        if events:
            # Lines logged while this batch is out name its sequences.
            with logs.bound(sequence=events[0].sequence, last_sequence=events[-1].sequence):
                if not self._publish(events, should_stop):
                    return 0
                outbox.mark_published(connection, events)
                connection.commit()
                log.debug("published %d events", len(events))
            for routing_key, count in Tally(e.routing_key for e in events).items():
                metrics.PUBLISHED.labels(routing_key).inc(count)
        self._update_gauges(connection)
        return len(events)

    def _publish(self, events: list[outbox.LoggedEvent], should_stop) -> bool:
        """Publish until the broker confirms all; False if told to stop before that."""
        messages = [OutgoingMessage(e.routing_key, e.wire(), e.event_id) for e in events]
        while True:
            if not self.publisher.ensure_connected(should_stop):
                return False
            try:
                with metrics.BATCH_SECONDS.time():
                    self.publisher.publish_batch(messages)
                return True
            except PublishError as error:
                metrics.PUBLISH_FAILURES.inc()
                log.warning(
                    "batch of %d not confirmed, publishing it again: %s", len(messages), error
                )
                if should_stop():
                    raise

    def _wait_for_commit(self, connection: Connection) -> None:
        """Sleep until a writer commits (NOTIFY) or ``idle_wait`` passes."""
        raw = connection.connection.dbapi_connection
        if self.engine.dialect.name != "postgresql":
            time.sleep(self.idle_wait)
            return
        # psycopg2 collects notifications that arrive during the relay's own queries; the
        # socket then has nothing left to read, so waiting on it would sleep through them.
        if raw.notifies:
            raw.notifies.clear()
            return
        # The fallback poll catches a commit whose doorbell stayed silent (see migration
        # 0002) because, at its insert, an earlier event still waited for its number.
        if select.select([raw], [], [], self.idle_wait * 2)[0]:
            raw.poll()
            raw.notifies.clear()

    def _update_gauges(self, connection: Connection) -> None:
        now = time.monotonic()
        if now < self._gauges_due:
            return
        self._gauges_due = now + 1.0
        position = outbox.published_through(connection)
        last = outbox.last_sequence(connection)
        waiting = connection.execute(
            sql_select(func.count(), func.min(OutboxEvent.occurred_at)).where(
                OutboxEvent.sequence.is_(None)
            )
        ).one()
        oldest = connection.scalar(
            sql_select(OutboxEvent.occurred_at).where(OutboxEvent.sequence == position + 1)
        )
        connection.commit()
        metrics.BACKLOG.set(last - position + waiting[0])
        oldest = oldest or waiting[1]
        if oldest is None:
            metrics.OLDEST_AGE.set(0)
        else:
            metrics.OLDEST_AGE.set(max(0.0, (utcnow() - oldest).total_seconds()))

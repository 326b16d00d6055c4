"""The folding actor and its per-process state: the database, the batcher, the held acks."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from dramatiq.middleware import CurrentMessage

from appstore_events import Envelope, decode
from dashboard.config import Settings
from dashboard.fold import FoldResult, fold
from dashboard.fold.plan import check_foldable
from dashboard.worker.batcher import Batcher
from dashboard.worker.held_acks import HeldAcks
from sqlstore import Database

LINGER_SECONDS = 0.005
#: Messages unacked at most per consumer, as a multiple of the largest batch: one batch
#: folding while the next one fills.
PREFETCH_BATCHES = 2


class Folding:
    """Per-process state of the folding actor: the database, the batcher, the held acks.

    The database and the batcher are made on first use, in the worker process: Dramatiq
    imports the broker module before it forks, and engines and threads must not cross a
    fork. :attr:`held_acks` is the middleware the broker needs for this actor.

    Parameters:
        settings: the database, and ``fold_batch_max``, the most events per transaction.
        pool_size: connections of the process's database pool.
    """

    def __init__(self, settings: Settings, *, pool_size: int = 2) -> None:
        self._settings = settings
        self._pool_size = pool_size
        self._lock = threading.Lock()
        self._database: Database | None = None
        self._batcher: Batcher | None = None
        self.held_acks = HeldAcks(
            prefetch=PREFETCH_BATCHES * settings.fold_batch_max, finish=self.finish
        )

    @property
    def database(self) -> Database:
        with self._lock:
            if self._database is None:
                self._database = Database(self._settings.database_url, self._pool_size)
            return self._database

    @property
    def batcher(self) -> Batcher:
        batcher = self._batcher  # made once; every message asks for it
        return batcher if batcher is not None else self._make_batcher()

    def _make_batcher(self) -> Batcher:
        database = self.database
        with self._lock:
            if self._batcher is None:
                from dashboard.worker.metrics import record_fold

                def fold_batch(envelopes: Sequence[Envelope]) -> FoldResult:
                    with database.transaction() as session:
                        return fold(session, envelopes)

                self._batcher = Batcher(
                    fold_batch,
                    max_size=self._settings.fold_batch_max,
                    linger=LINGER_SECONDS,
                    on_folded=record_fold,
                )
            return self._batcher

    def fold_event(self, argument: Any) -> None:
        """The actor: decode one message's envelope and hand it to the batcher.

        It returns at once; the message's ack is held until the batch has committed
        (:mod:`dashboard.worker.held_acks`). A message whose batch failed comes back here
        and raises that batch's error.

        Raises:
            EventError, UnfoldableEvent: never retried; the message is dead-lettered.
            SQLAlchemy errors: its batch's; retried with backoff while transient.
        """
        message = CurrentMessage.get_current_message()
        failure = self.held_acks.failure(message)
        if failure is not None:
            raise failure
        envelope = decode(argument)
        # Checked here, alone, so that an event with no fold never enters a batch.
        check_foldable([envelope])
        self.batcher.add(envelope, self.held_acks.hold(message))

    def finish(self) -> None:
        """Fold everything handed to the batcher so far (the worker is stopping)."""
        with self._lock:
            batcher = self._batcher
        if batcher is not None:
            batcher.stop()

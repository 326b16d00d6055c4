"""The folding actor and its per-process state: the database and the batcher."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from appstore_events import Envelope, decode
from dashboard.config import Settings
from dashboard.fold import FoldResult, fold
from dashboard.fold.plan import check_foldable
from dashboard.worker.batcher import Batcher
from sqlstore import Database

#: Seconds an actor waits for its batch to commit before it gives up (and is retried).
FOLD_WAIT_SECONDS = 120
LINGER_SECONDS = 0.005


class Folding:
    """Per-process state of the folding actor: the database and the batcher.

    Both are made on first use, in the worker process: Dramatiq imports the broker module
    before it forks, and engines and threads must not cross a fork.

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

    @property
    def database(self) -> Database:
        with self._lock:
            if self._database is None:
                self._database = Database(self._settings.database_url, self._pool_size)
            return self._database

    @property
    def batcher(self) -> Batcher:
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
        """The actor: decode one message's envelope and wait until its batch committed.

        Raises:
            EventError, UnfoldableEvent: never retried; the message is dead-lettered.
            FoldTimeout, SQLAlchemy errors: retried with backoff while transient.
        """
        envelope = decode(argument)
        # Checked here, alone, so that an event with no fold never enters a batch.
        check_foldable([envelope])
        self.batcher.submit(envelope, timeout=FOLD_WAIT_SECONDS)

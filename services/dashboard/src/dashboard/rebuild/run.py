"""Rebuilding every projection from the whole event log without blanking the live dashboard.

The log is folded into fresh tables (:mod:`dashboard.rebuild.tables`) while the live ones
keep answering and the worker keeps folding into them. Once the fresh tables have caught up
with the log, one transaction locks the live tables (folds under way finish first; the next
ones wait), folds the few events logged since into the fresh tables, and puts them in place.
Every event the worker folded before that lock is in the log, so the fresh tables have it;
every event after it is folded into the new tables, where its dedupe row (when the rebuild
already read it) makes it count once.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import logging
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from appstore_events import Envelope
from dashboard.appstore_client import AppstoreClient
from dashboard.fold import fold, plan
from dashboard.rebuild.reader import Page, read_ahead, read_page
from dashboard.rebuild.tables import fresh_tables
from sqlstore import Database

log = logging.getLogger("dashboard.rebuild")

FOLDING, SWAPPING, DONE = "folding", "swapping", "done"
# PostgreSQL's lock_not_available (the swap's lock_timeout) and deadlock_detected.
_LOCK_CONFLICTS = {"55P03", "40P01"}


@dataclass
class RebuildResult:
    """How far a rebuild got. ``tail`` counts the events folded inside the swap, and
    ``generation`` is the live fold generation the swap left (None before it)."""

    read: int = 0
    folded: int = 0
    unreadable: Counter = field(default_factory=Counter)
    last_sequence: int = 0
    phase: str = FOLDING
    tail: int = 0
    generation: int | None = None


OnProgress = Callable[[RebuildResult], None]


def rebuild(
    db: Database,
    client: AppstoreClient,
    *,
    page_size: int = 1000,
    batch_size: int = 5000,
    swap_attempts: int = 5,
    on_progress: OnProgress = lambda result: None,
) -> RebuildResult:
    """Fold the whole log into fresh tables and swap them in for the live projections.

    Parameters:
        page_size: events per request to the Appstore's log (at most 1,000).
        batch_size: about how many events to fold per transaction into the fresh tables.
        swap_attempts: how often to try the swap when the live tables stay locked by others
            for longer than the lock timeout (each time after catching up again).
        on_progress: called after every folded batch, and with phase ``"swapping"`` just
            before each attempt to lock the live tables.

    Returns:
        What was read and folded, and the generation the swap left.

    Raises:
        RebuildRunning: another rebuild of this database holds its lock.
        AppstoreUnavailable: the log could not be read; the live tables are untouched.
    """
    tables = fresh_tables(db)
    result = RebuildResult()
    with tables.exclusive(), _tuned_for_bulk():
        tables.create()
        try:
            for attempt in range(1, swap_attempts + 1):
                _fold_log(tables, client, result, page_size, batch_size, on_progress)
                result.phase = SWAPPING
                on_progress(result)
                # The tail is counted on a copy: if the swap rolls back, so does its fold.
                swapped = dataclasses.replace(result, unreadable=result.unreadable.copy())
                tail = functools.partial(
                    _fold_tail,
                    client=client,
                    result=swapped,
                    page_size=page_size,
                    batch_size=batch_size,
                )
                try:
                    generation = tables.swap(tail)
                except DBAPIError as error:
                    conflict = getattr(error.orig, "pgcode", None) in _LOCK_CONFLICTS
                    if not conflict or attempt == swap_attempts:
                        raise
                    log.warning(
                        "the live tables stayed locked (attempt %d of %d); catching up and "
                        "trying again: %s",
                        attempt,
                        swap_attempts,
                        error.orig,
                    )
                    result.phase = FOLDING
                    continue
                result = dataclasses.replace(swapped, phase=DONE, generation=generation)
                log.info(
                    "rebuilt from %d events through sequence %d; generation %d",
                    result.read,
                    result.last_sequence,
                    generation,
                )
                return result
        except BaseException:
            tables.drop()
            raise
    raise AssertionError("unreachable: the last swap attempt returns or raises")


@contextmanager
def _tuned_for_bulk() -> Iterator[None]:
    """Two interpreter settings for the length of a rebuild, restored after it.

    The reader thread needs the GIL for every chunk of a response while the others hold it
    for long stretches of Python; by default a waiting thread gets it only every 5 ms. And
    the cyclic garbage collector, run every 700 allocations, walks the pages and batches in
    hand over and over, though they are freed by reference counting: it took a tenth of
    the time. Collections are made rarer, and the heap as it was before is left out of them.
    """
    switch_interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
    sys.setswitchinterval(min(switch_interval, 0.0005))
    gc.freeze()
    gc.set_threshold(max(thresholds[0], 50_000), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
        sys.setswitchinterval(switch_interval)


def _fold_log(tables, client, result, page_size, batch_size, on_progress) -> None:
    """Fold the log after ``result.last_sequence`` into the fresh tables until caught up.

    Three stages overlap: a thread reads pages ahead (:func:`read_ahead`), this one decodes
    and plans the next batch, and a writer thread writes the last one. Planning is pure, so
    it needs no database; with the writer waiting on PostgreSQL meanwhile, the two do not
    take turns. One batch is written at a time, in log order.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="dashboard-rebuild-writer") as writer:
        writing: Future | None = None
        envelopes: list[Envelope] = []
        pages: list[Page] = []
        for page in read_ahead(client, result.last_sequence, page_size):
            envelopes.extend(page.envelopes)
            pages.append(page)
            if len(envelopes) < batch_size and page.full:
                continue
            planned = plan(envelopes) if envelopes else None
            if writing is not None:
                _count(result, *writing.result())
                on_progress(result)
            writing = writer.submit(_write, tables, envelopes, planned, pages)
            envelopes, pages = [], []
        if writing is not None:
            _count(result, *writing.result())
            on_progress(result)


def _write(tables, envelopes, planned, pages) -> tuple[list[Page], int]:
    if not envelopes:
        return pages, 0
    with tables.folding() as connection:
        return pages, fold(connection, envelopes, planned=planned).folded


def _fold_tail(
    connection: Connection,
    client: AppstoreClient,
    result: RebuildResult,
    page_size: int,
    batch_size: int,
) -> None:
    """Inside the swap: fold what the log gained since the fresh tables caught up."""
    pages: list[Page] = []
    while not pages or pages[-1].full:
        pages.append(
            read_page(client, pages[-1].last_sequence if pages else result.last_sequence, page_size)
        )
    envelopes = [envelope for page in pages for envelope in page.envelopes]
    folded = sum(
        fold(connection, envelopes[start : start + batch_size]).folded
        for start in range(0, len(envelopes), batch_size)
    )
    result.tail = sum(page.read for page in pages)
    _count(result, pages, folded)


def _count(result: RebuildResult, pages: Iterable[Page], folded: int) -> None:
    for page in pages:
        result.read += page.read
        result.unreadable.update(page.unreadable)
        result.last_sequence = page.last_sequence
    result.folded += folded

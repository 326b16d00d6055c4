"""Gap healing inside ``dashboard worker``: a check of the Appstore's log every interval.

A purged queue, or a dashboard started after the Appstore, leaves events that will never
arrive through RabbitMQ. This process reads the log past the fold's contiguous position
every ``DASHBOARD_SYNC_INTERVAL_SECONDS`` and folds, with the worker's fold and dedupe, the
events that have been missing for ``DASHBOARD_HEAL_AFTER_SECONDS``: longer than a message
takes through the queue, so that what is merely on its way is left to the queue
(:mod:`dashboard.worker.holes`). Each check also records the log's head, from which the
API tells how far behind the Dashboard is (:mod:`dashboard.freshness`).

What it folds is counted as healed (``dashboard_events_healed_total``, and a log line
"healed N events missing from the queue"); what turned out folded meanwhile, as a duplicate
from the log. It runs as one Dramatiq fork process next to the workers, so several worker
processes do not all poll the Appstore.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from appstore_events import EventError, decode
from dashboard.appstore_client import AppstoreClient
from dashboard.config import Settings
from dashboard.errors import AppstoreUnavailable
from dashboard.fold import fold
from dashboard.freshness import record_head
from dashboard.models import ProcessedEvent
from dashboard.sync import contiguous_position
from dashboard.worker.holes import Holes
from dashboard.worker.metrics import EVENTS_DUPLICATE, EVENTS_HEALED
from servicekit import logs
from sqlstore import Database

log = logging.getLogger("dashboard.healing")

PAGE_SIZE = 1000
#: Pages read per check at most: a backlog larger than this is looked at by later checks.
MAX_PAGES = 20


@dataclass
class Check:
    """What one check found and did."""

    head: int = 0
    missing: int = 0
    healed: int = 0
    duplicates: int = 0
    unreadable: Counter = field(default_factory=Counter)
    healed_sequences: list[int] = field(default_factory=list)


def check_once(
    database: Database, client: AppstoreClient, holes: Holes, heal_after: float, now: float
) -> Check:
    """Read the log past the contiguous position, record its head, heal what is ripe.

    Parameters:
        holes: the missing sequences seen by earlier checks, updated here.
        heal_after: seconds an event must have been missing before it is folded from the log.
        now: the monotonic clock's time of this check.
    """
    check = Check()
    start = contiguous_position(database)
    logged: dict[int, dict] = {}
    after = start
    for _ in range(MAX_PAGES):
        page, check.head = client.events_and_head(after, PAGE_SIZE)
        logged.update((raw["sequence"], raw) for raw in page)
        if len(page) < PAGE_SIZE:
            break
        after = page[-1]["sequence"]
    missing = set(logged) - _folded(database, start, max(logged, default=start))
    check.missing = len(missing)
    holes.seen(missing, now)
    ripe = sorted(holes.ripe(now, heal_after))
    envelopes = []
    for sequence in ripe:
        raw = logged[sequence]
        try:
            envelopes.append(decode(raw))
        except EventError as error:
            check.unreadable[type(error).__name__] += 1
            with logs.bound(event_id=raw.get("event_id"), sequence=sequence):
                log.warning("skipping unreadable event %s: %s", sequence, error)
    if envelopes:
        with database.transaction() as session:
            folded = fold(session, envelopes)
        check.healed, check.duplicates = folded.folded, folded.duplicates
        check.healed_sequences = ripe
    holes.forget(ripe)
    with database.transaction() as session:
        record_head(session, check.head)
    return check


def _folded(database: Database, start: int, end: int) -> set[int]:
    if end <= start:
        return set()
    with database.reading() as session:
        return set(
            session.scalars(
                select(ProcessedEvent.sequence).where(
                    ProcessedEvent.sequence > start, ProcessedEvent.sequence <= end
                )
            )
        )


def heal_gaps() -> None:
    """Check now and then every interval, until the worker stops this process.

    Run by Dramatiq as a fork process (``--fork-function``), and only when
    ``DASHBOARD_SYNC_INTERVAL_SECONDS`` is above 0. Without a service account
    (``DASHBOARD_SERVICE_USERNAME``/``_PASSWORD``) there is nothing to sync with: it says so
    once and idles, since a fork process that exits would stop the whole worker.
    """
    settings = Settings.from_env()
    interval = settings.sync_interval_seconds
    if not (settings.service_username and settings.service_password):
        log.warning("no service account configured: gaps are healed only by `dashboard sync`")
        _idle()
    database = Database(settings.database_url, pool_size=1)
    client = AppstoreClient(
        settings.appstore_url, settings.service_username, settings.service_password
    )
    holes = Holes()
    while True:
        try:
            check = check_once(
                database, client, holes, settings.heal_after_seconds, time.monotonic()
            )
            EVENTS_HEALED.inc(check.healed)
            EVENTS_DUPLICATE.labels("log").inc(check.duplicates)
            _report(check, settings.heal_after_seconds)
        except (AppstoreUnavailable, SQLAlchemyError) as error:
            log.warning("gap healing failed, trying again in %.0f s: %s", interval, error)
        time.sleep(interval)


def _report(check: Check, heal_after: float) -> None:
    if check.healed:
        sequences = check.healed_sequences
        log.info(
            "healed %d events missing from the queue for %.0f s or more (sequences %d to %d)",
            check.healed,
            heal_after,
            sequences[0],
            sequences[-1],
        )
    if check.duplicates:
        log.info(
            "%d events read from the log to heal had come from the queue meanwhile",
            check.duplicates,
        )
    waiting = check.missing - check.healed - check.duplicates
    if waiting > 0:
        log.debug("%d events not folded yet, left to the queue for now", waiting)


def _idle() -> None:
    while True:
        time.sleep(3600)

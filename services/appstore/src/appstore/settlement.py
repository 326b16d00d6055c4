"""Settling owners' earnings: pending ledger entries folded into balances and counts.

A purchase debits its buyer and records the owner's earnings as a pending entry (the
purchase row, ``settled_at`` NULL); it never locks the owner's row, so purchases of one
popular developer's apps do not queue behind each other. The settler pays the entries in
batches: one transaction stamps them settled, adds each owner's sum to the owner's settled
balance, and each app's number to its settled purchase count. Readers add what is pending
to both (``User.credit``, ``App.purchases_count``), so every snapshot sees exact figures.

Several settlers may run at once (one beside each relay): on PostgreSQL each claims
entries with ``FOR UPDATE SKIP LOCKED``, so batches never overlap, and takes row locks on
users, then apps, each in id order, so they never deadlock. SQLite has one writer at a time.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import Counter as Total
from prometheus_client import Gauge
from sqlalchemy import Column, Connection, Engine, case, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from appstore.models import App, Purchase, User, utcnow
from servicekit.backoff import Backoff, sleep_unless_stopped
from sqlstore import Database

log = logging.getLogger("appstore.settlement")

SETTLED = Total("appstore_settlement_entries_total", "Earnings entries settled into balances.")
OLDEST_PENDING = Gauge(
    "appstore_settlement_oldest_pending_age_seconds",
    "Age of the oldest purchase whose earnings are not yet settled (0 when none).",
)


@dataclass(frozen=True)
class Settled:
    """What one settlement moved: entries, credits and the owners and apps touched."""

    entries: int
    credits: int
    owners: int
    apps: int


def settle(connection: Connection, limit: int = 5000, owner_id: int | None = None) -> Settled:
    """Settle up to ``limit`` pending entries in the caller's transaction.

    Parameters:
        connection: in a transaction, which must commit for the settlement to count.
        limit: most entries to settle.
        owner_id: settle only this owner's entries, waiting for any a concurrent settler
            holds (a purchase does this when its buyer's settled credit alone is short).
            Without it, entries another settler holds are skipped.

    Returns:
        What was settled.
    """
    pending = select(Purchase.id).where(Purchase.settled_at.is_(None)).limit(limit)
    if owner_id is None:
        pending = pending.with_for_update(skip_locked=True)
    else:
        # Waiting, so locks are taken in one order: two purchases by one buyer can meet here.
        pending = pending.where(Purchase.owner_id == owner_id).order_by(Purchase.id)
        pending = pending.with_for_update()
    claimed = connection.execute(
        update(Purchase)
        .where(Purchase.id.in_(pending.scalar_subquery()))
        .values(settled_at=utcnow())
        .returning(Purchase.owner_id, Purchase.app_id, Purchase.price)
    ).all()
    earned: Counter[int] = Counter()
    sold: Counter[int] = Counter()
    for owner, app, price in claimed:
        earned[owner] += price
        sold[app] += 1
    earned = Counter({owner: amount for owner, amount in earned.items() if amount})
    _add(connection, User.__table__.c.id, User.__table__.c.credit, earned)
    _add(connection, App.__table__.c.id, App.__table__.c.settled_purchases, sold)
    return Settled(len(claimed), sum(earned.values()), len(earned), len(sold))


def _add(connection: Connection, key: Column, column: Column, amounts: Counter[int]) -> None:
    """Add ``amounts[row id]`` to ``column`` of each row, locking the rows in id order."""
    if not amounts:
        return
    ids = sorted(amounts)
    table = key.table
    if connection.dialect.name == "postgresql":
        # FOR NO KEY UPDATE, like the UPDATE itself: purchases' foreign-key checks
        # (FOR KEY SHARE) on these rows go on unhindered.
        connection.execute(
            select(key).where(key.in_(ids)).order_by(key).with_for_update(key_share=True)
        ).all()
    connection.execute(
        update(table)
        .where(key.in_(ids))
        .values({column: column + case(dict(amounts.items()), value=key, else_=0)})
    )


def pending_age(connection: Connection | Session) -> float:
    """Seconds since the oldest pending purchase was made (0 when none is pending)."""
    oldest = connection.scalar(
        select(func.min(Purchase.created_at)).where(Purchase.settled_at.is_(None))
    )
    return 0.0 if oldest is None else max(0.0, (utcnow() - oldest).total_seconds())


_ANY_PENDING = select(Purchase.id).where(Purchase.settled_at.is_(None)).limit(1)
_NOTHING = Settled(0, 0, 0, 0)


class Settler:
    """Settles pending earnings until told to stop; several may run against one database.

    Parameters:
        db: the Appstore database.
        interval: seconds to wait after a pass that found less than a full batch.
        batch_size: most entries per transaction.
    """

    def __init__(self, db: Database, interval: float = 0.25, batch_size: int = 5000) -> None:
        self.db = db
        self.interval = interval
        self.batch_size = batch_size
        self._gauge_due = 0.0

    def run(self, should_stop: Callable[[], bool]) -> None:
        """Settle, wait, repeat; survive database outages with backoff."""
        backoff = Backoff(0.1, 5.0)
        while not should_stop():
            try:
                done = self.settle_once()
                backoff.reset()
            except SQLAlchemyError as error:
                delay = backoff.next_delay()
                log.warning("settlement failed, retrying in %.1fs: %s", delay, error)
                sleep_unless_stopped(delay, should_stop)
                continue
            if done.entries < self.batch_size:
                sleep_unless_stopped(self.interval, should_stop)

    def settle_once(self) -> Settled:
        """One batch in its own transaction, if anything is pending."""
        # Looked for with a plain read first: an idle pass then takes no write lock (on
        # SQLite, the database's only one) and no transaction.
        with self.db.reading() as session:
            self._update_gauge(session)
            if session.scalar(_ANY_PENDING) is None:
                return _NOTHING
        with self.db.transaction() as session:
            done = settle(session.connection(), self.batch_size)
        if done.entries:
            SETTLED.inc(done.entries)
            log.debug("settled %d entries, %d credits", done.entries, done.credits)
        return done

    def _update_gauge(self, connection: Connection | Session) -> None:
        now = time.monotonic()
        if now >= self._gauge_due:
            self._gauge_due = now + 1.0
            OLDEST_PENDING.set(pending_age(connection))


def settle_all(engine: Engine, batch_size: int = 5000) -> int:
    """Settle every pending entry now (demo data, tests, benchmarks); return how many."""
    total = 0
    while True:
        with engine.begin() as connection:
            entries = settle(connection, batch_size).entries
        total += entries
        if entries < batch_size:
            return total

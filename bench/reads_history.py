"""The history the Dashboard reads benchmark folds: synthetic purchases over the last month,
folded with the real fold, and the same purchases row for row in ``naive_purchases``."""

from __future__ import annotations

import bisect
import io
import itertools
import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from appstore_events import Envelope
from dashboard.fold import fold
from sqlstore import Database

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5")
NAIVE_TABLE = """
CREATE TABLE naive_purchases (
    id BIGINT PRIMARY KEY, app_id BIGINT NOT NULL, buyer_id BIGINT NOT NULL,
    owner_id BIGINT NOT NULL, price BIGINT NOT NULL, purchased_at TIMESTAMPTZ NOT NULL
)"""
NAIVE_INDEXES = (
    "CREATE INDEX ON naive_purchases (purchased_at)",
    "CREATE INDEX ON naive_purchases (app_id)",
    "CREATE INDEX ON naive_purchases (owner_id)",
    "ANALYZE naive_purchases",
)
PRICES = (0, 1, 2, 5, 10, 25, 50, 100)


def envelope(event_type: str, sequence: int, at: datetime, **data) -> Envelope:
    """An event as the worker decodes it (built directly: the codec is not measured here)."""
    return Envelope(str(uuid.uuid4()), event_type, 1, sequence, "appstore", at, data)


def seed(db: Database, args) -> dict:
    """Fold the synthetic history; copy its purchases into ``naive_purchases``."""
    rng = random.Random(args.seed)
    now = datetime.now(UTC)
    start = now - timedelta(days=args.days)
    sequence = itertools.count(1)
    developers = range(1_000_001, 1_000_001 + args.developers)
    buyers = range(1, args.buyers + 1)
    setup = [
        envelope(
            "UserRegistered",
            next(sequence),
            start - timedelta(days=1),
            user_id=user,
            username=f"user{user}",
            role="user",
            registered_at=start - timedelta(days=1, seconds=-user % 86400),
        )
        for user in itertools.chain(developers, buyers)
    ]
    owners = {app: developers[app % len(developers)] for app in range(1, args.apps + 1)}
    for app, owner in owners.items():
        created = start - timedelta(hours=12, minutes=app % 600)
        setup.append(
            envelope(
                "AppCreated",
                next(sequence),
                created,
                app_id=app,
                owner_id=owner,
                title=f"App {app}",
                price=10,
                created_at=created,
            )
        )
        setup.append(
            envelope(
                "AppVerified",
                next(sequence),
                created,
                app_id=app,
                verified_by=1,
                verified_at=created,
            )
        )
    with db.transaction() as session:
        fold(session, setup)
    with db.engine.begin() as connection:
        connection.execute(text(NAIVE_TABLE))

    # Zipf-like popularity: the app of rank r is bought in proportion to 1 / r^0.8.
    apps = list(owners)
    cumulative = list(itertools.accumulate(1 / rank**0.8 for rank in range(1, len(apps) + 1)))
    span = (now - start).total_seconds()
    moments = sorted(rng.random() * span for _ in range(args.purchases))
    folding = time.perf_counter()
    for batch_start in range(0, args.purchases, args.batch):
        batch, naive = [], io.StringIO()
        for offset in range(batch_start, min(batch_start + args.batch, args.purchases)):
            at = start + timedelta(seconds=moments[offset])
            app = apps[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
            buyer, price = rng.choice(buyers), rng.choice(PRICES)
            purchase = offset + 1
            batch.append(
                envelope(
                    "AppPurchased",
                    next(sequence),
                    at,
                    purchase_id=purchase,
                    app_id=app,
                    buyer_id=buyer,
                    owner_id=owners[app],
                    price=price,
                    purchased_at=at,
                )
            )
            naive.write(f"{purchase}\t{app}\t{buyer}\t{owners[app]}\t{price}\t{at.isoformat()}\n")
        with db.engine.begin() as connection:
            fold(connection, batch)
        naive.seek(0)
        raw = db.engine.raw_connection()
        try:
            with raw.cursor() as cursor:
                cursor.copy_expert("COPY naive_purchases FROM STDIN", naive)
            raw.commit()
        finally:
            raw.close()
        done = batch_start + len(batch)
        if done % (args.batch * 20) == 0 or done == args.purchases:
            rate = done / (time.perf_counter() - folding)
            print(f"  folded {done:,} purchases ({rate:,.0f}/s)", flush=True)
    fold_seconds = time.perf_counter() - folding
    with db.engine.begin() as connection:
        for statement in NAIVE_INDEXES:
            connection.execute(text(statement))
    raw = db.engine.raw_connection()
    try:
        raw.set_session(autocommit=True)
        with raw.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    finally:
        raw.close()
    # The Zipf law's first app is the most bought; its developer has the most sales too.
    return {
        "now": now,
        "start": start,
        "fold_seconds": fold_seconds,
        "top_app": apps[0],
        "top_owner": owners[apps[0]],
    }

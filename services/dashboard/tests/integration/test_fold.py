"""Folding events into the projections, on SQLite and PostgreSQL: exact, once, any order."""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime

import pytest
from sqlalchemy import event, func, select

from dashboard.fold import UnfoldableEvent, fold
from dashboard.models import ProcessedEvent


def utc(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-26T{text}+00:00")


@pytest.fixture
def script(log):
    """A day at the store, sequences 1 to 18, in log order."""
    return [
        log.registered(1, "ann", "09:00:10"),
        log.registered(2, "bob", "09:05:00"),
        log.registered(3, "cat", "09:14:59"),
        log.registered(4, "dan", "09:15:00"),
        log.granted(3, 500, "09:20:00"),
        log.granted(4, 300, "09:21:00"),
        log.created(10, 1, "Notes", "09:30:00", price=30),
        log.created(11, 1, "Timer", "09:31:30", price=0),
        log.created(12, 2, "Maps", "09:45:00", price=50),
        log.verified(10, "09:50:00"),
        log.verified(12, "09:51:00"),
        log.updated(10, "09:55:00", title="Notes Pro", price=40),
        log.purchased(1, 10, 3, 1, 40, "10:00:05"),
        log.purchased(2, 12, 3, 2, 50, "10:00:59"),
        log.purchased(3, 10, 4, 1, 40, "10:01:00"),
        log.purchased(4, 11, 4, 1, 0, "10:16:00"),
        log.deleted(12, "10:20:00"),
        log.updated(12, "10:30:00", description="No longer sold"),
    ]


# The script's effect, worked out by hand.
EXPECTED = {
    "totals": {
        "users": 4,
        "apps_created": 3,
        "apps_verified": 2,
        "purchases": 4,
        "credits_spent": 130,
        "credits_granted": 800,
        "buyers": 2,
    },
    "known_users": {
        1: ("ann", "user", utc("09:00:10")),
        2: ("bob", "user", utc("09:05:00")),
        3: ("cat", "user", utc("09:14:59")),
        4: ("dan", "user", utc("09:15:00")),
    },
    "buyers": {3: (utc("10:00:05"), 2), 4: (utc("10:01:00"), 2)},
    # owner_id, title, title_sequence, created_at, verified, deleted, purchases, revenue
    "app_stats": {
        10: (1, "Notes Pro", 12, utc("09:30:00"), True, False, 2, 80),
        11: (1, "Timer", 8, utc("09:31:30"), False, False, 1, 0),
        12: (2, "Maps", 9, utc("09:45:00"), True, True, 1, 50),
    },
    # apps, purchases, revenue
    "developer_stats": {1: (2, 3, 80), 2: (1, 1, 50)},
    "series_minute": {
        ("apps_created", utc("09:30:00")): (1,),
        ("apps_created", utc("09:31:00")): (1,),
        ("apps_created", utc("09:45:00")): (1,),
        ("credits_granted", utc("09:20:00")): (500,),
        ("credits_granted", utc("09:21:00")): (300,),
        ("credits_spent", utc("10:00:00")): (90,),
        ("credits_spent", utc("10:01:00")): (40,),
        ("purchases", utc("10:00:00")): (2,),
        ("purchases", utc("10:01:00")): (1,),
        ("purchases", utc("10:16:00")): (1,),
        ("users", utc("09:00:00")): (1,),
        ("users", utc("09:05:00")): (1,),
        ("users", utc("09:14:00")): (1,),
        ("users", utc("09:15:00")): (1,),
    },
    "series_quarter_hour": {
        ("apps_created", utc("09:30:00")): (2,),
        ("apps_created", utc("09:45:00")): (1,),
        ("credits_granted", utc("09:15:00")): (800,),
        ("credits_spent", utc("10:00:00")): (130,),
        ("purchases", utc("10:00:00")): (3,),
        ("purchases", utc("10:15:00")): (1,),
        ("users", utc("09:00:00")): (3,),
        ("users", utc("09:15:00")): (1,),
    },
    # (span, scope, id, bucket): purchases, revenue
    "sales_series": {
        ("minute", "app", 10, utc("10:00:00")): (1, 40),
        ("minute", "app", 10, utc("10:01:00")): (1, 40),
        ("minute", "app", 11, utc("10:16:00")): (1, 0),
        ("minute", "app", 12, utc("10:00:00")): (1, 50),
        ("minute", "owner", 1, utc("10:00:00")): (1, 40),
        ("minute", "owner", 1, utc("10:01:00")): (1, 40),
        ("minute", "owner", 1, utc("10:16:00")): (1, 0),
        ("minute", "owner", 2, utc("10:00:00")): (1, 50),
        ("quarter", "app", 10, utc("10:00:00")): (2, 80),
        ("quarter", "app", 11, utc("10:15:00")): (1, 0),
        ("quarter", "app", 12, utc("10:00:00")): (1, 50),
        ("quarter", "owner", 1, utc("10:00:00")): (2, 80),
        ("quarter", "owner", 1, utc("10:15:00")): (1, 0),
        ("quarter", "owner", 2, utc("10:00:00")): (1, 50),
    },
    # changed_at, sequence, price: as created, then the update of sequence 12
    "app_prices": {
        10: [(utc("09:30:00"), 7, 30), (utc("09:55:00"), 12, 40)],
        11: [(utc("09:31:30"), 8, 0)],
        12: [(utc("09:45:00"), 9, 50)],
    },
    # contiguous_through, last_sequence, last_event_at
    "fold_progress": {"events": (18, 18, utc("10:30:00"))},
    "processed_sequences": list(range(1, 19)),
}


def fold_batches(db, *batches):
    """Fold each batch in a transaction of its own, as the worker does."""
    results = []
    for batch in batches:
        with db.transaction() as session:
            results.append(fold(session, batch))
    return results


def test_folding_the_script_once_gives_the_hand_computed_projections(db, script, projections):
    [result] = fold_batches(db, script)

    assert projections(db) == EXPECTED
    assert (result.folded, result.duplicates) == (18, 0)
    assert result.by_type["AppPurchased"] == 4
    assert result.by_type["UserRegistered"] == 4


def test_folding_the_same_batch_again_changes_nothing(db, script, projections):
    _, second = fold_batches(db, script, script)

    assert projections(db) == EXPECTED
    assert (second.folded, second.duplicates) == (0, 18)
    assert sum(second.by_type.values()) == 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shuffled_overlapping_batches_give_the_same_projections(db, script, projections, seed):
    shuffled = random.Random(seed).sample(script, len(script))
    # Three overlapping batches: every event is delivered at least once, some twice.
    batches = [shuffled[:8], shuffled[5:14], shuffled[12:]]

    results = fold_batches(db, *batches)

    assert projections(db) == EXPECTED
    assert sum(r.folded for r in results) == 18
    assert sum(r.duplicates for r in results) == sum(map(len, batches)) - 18


def test_an_event_repeated_within_a_batch_counts_once(db, log, projections):
    purchase = log.purchased(1, 10, 3, 1, 40, "10:00:05")

    [result] = fold_batches(db, [purchase, purchase, purchase])

    assert (result.folded, result.duplicates) == (1, 2)
    assert projections(db)["totals"]["purchases"] == 1


def test_a_purchase_before_its_app_counts_and_the_title_fills_in_later(db, log, projections):
    created = log.created(10, 1, "Notes", "09:30:00")
    purchase = log.purchased(1, 10, 3, 1, 40, "10:00:05")

    fold_batches(db, [purchase])
    early = projections(db)["app_stats"][10]
    fold_batches(db, [created])
    later = projections(db)["app_stats"][10]

    assert early == (1, None, None, None, False, False, 1, 40)
    assert later == (1, "Notes", 1, utc("09:30:00"), False, False, 1, 40)
    assert projections(db)["developer_stats"][1] == (1, 1, 40)


def test_a_verification_before_the_app_is_known_keeps_the_row_waiting_for_an_owner(
    db, log, projections
):
    verified = log.verified(10, "09:50:00")
    created = log.created(10, 1, "Notes", "09:30:00")

    fold_batches(db, [verified])
    early = projections(db)["app_stats"][10]
    fold_batches(db, [created])

    assert early == (None, None, None, None, True, False, 0, 0)
    assert projections(db)["app_stats"][10] == (1, "Notes", 2, utc("09:30:00"), True, False, 0, 0)


@pytest.mark.parametrize("together", [False, True], ids=["separate batches", "one batch"])
def test_an_older_title_folded_after_a_newer_one_does_not_win(db, log, projections, together):
    created = log.created(10, 1, "First", "09:30:00", sequence=1)
    older = log.updated(10, "09:40:00", sequence=5, title="Second")
    newer = log.updated(10, "09:50:00", sequence=9, title="Third")

    if together:
        fold_batches(db, [newer, older, created])
    else:
        fold_batches(db, [newer], [older], [created])

    _, title, title_sequence, *_ = projections(db)["app_stats"][10]
    assert (title, title_sequence) == ("Third", 9)


def test_contiguous_progress_stops_at_a_gap_and_moves_on_when_it_is_filled(db, log, projections):
    events = [log.registered(n, f"user{n}", "09:00:00") for n in range(1, 8)]
    missing = events.pop(3)  # sequence 4

    fold_batches(db, events[:3])
    after_first = projections(db)["fold_progress"]["events"][:2]
    fold_batches(db, events[3:])
    with_gap = projections(db)["fold_progress"]["events"][:2]
    fold_batches(db, [missing])
    filled = projections(db)["fold_progress"]["events"][:2]

    assert after_first == (3, 3)
    assert with_gap == (3, 7)
    assert filled == (7, 7)


def test_progress_keeps_the_latest_event_time_whatever_the_arrival_order(db, log, projections):
    late = log.registered(1, "ann", "11:00:00")
    early = log.registered(2, "bob", "09:00:00")

    fold_batches(db, [late], [early])

    assert projections(db)["fold_progress"]["events"] == (2, 2, utc("11:00:00"))


def test_an_unknown_event_type_is_refused_before_anything_is_written(db, log):
    known = log.registered(1, "ann", "09:00:00")
    unknown = dataclasses.replace(log.registered(2, "bob", "09:00:00"), event_type="UserRenamed")

    with db.transaction() as session:
        with pytest.raises(UnfoldableEvent, match="UserRenamed"):
            fold(session, [known, unknown])
        written = session.scalar(select(func.count()).select_from(ProcessedEvent))

    assert written == 0


def test_a_batch_is_written_with_a_few_multi_row_statements(db, log):
    batch = [
        log.purchased(n, 1 + n % 40, 1 + n % 70, 1 + n % 9, price=5, at=f"10:{n % 60:02d}:00")
        for n in range(1, 401)
    ]
    statements = []

    def record(_conn, _cursor, statement, parameters, _context, _executemany):
        # A list of parameter sets would mean the driver runs the statement once per row.
        statements.append((" ".join(statement.split()[:3]), isinstance(parameters, list)))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        fold_batches(db, batch)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)

    # processed_events, buyers, app_stats, developer_stats, app_sales, sales_series, two
    # series, totals, and the progress row (lock, two reads, update), plus BEGIN on SQLite.
    assert len(statements) <= 14, statements
    assert [text for text, row_by_row in statements if row_by_row] == []

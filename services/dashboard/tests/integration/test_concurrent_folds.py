"""Folds running at once on PostgreSQL, as several worker processes would run them."""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from sqlalchemy import event

from dashboard.fold import fold
from dashboard.models import Base

ROUNDS = 12
CHUNK = 90


def _batches(events, seed: int) -> tuple[list, list]:
    """Per round, one batch for each thread: on even rounds they share a third of their
    events (both try to fold them), on odd rounds they share none (both fight over the
    same projection rows at the same moment)."""
    shuffle = random.Random(seed)
    first, second = [], []
    for r in range(ROUNDS):
        chunk = events[r * CHUNK : (r + 1) * CHUNK]
        a, b = (chunk[:60], chunk[30:]) if r % 2 == 0 else (chunk[:45], chunk[45:])
        first.append(shuffle.sample(a, len(a)))
        second.append(shuffle.sample(b, len(b)))
    return first, second


def test_overlapping_batches_folded_concurrently_count_each_event_once(
    postgres_db, log, projections
):
    # Few apps, buyers and minutes: every batch wants the same hot rows, each in its own
    # order of first appearance.
    events = [
        log.purchased(n, 1 + n % 7, 1 + n % 11, 1 + n % 3, 1 + n % 5, f"10:0{n % 4}:00")
        for n in range(1, ROUNDS * CHUNK + 1)
    ]
    barrier = threading.Barrier(2)

    def worker(batches) -> Counter:
        outcome: Counter = Counter()
        for batch in batches:
            barrier.wait(timeout=30)
            with postgres_db.transaction() as session:
                result = fold(session, batch)
            outcome.update(folded=result.folded, duplicates=result.duplicates)
        return outcome

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = [pool.submit(worker, batches) for batches in _batches(events, seed=7)]
        first, second = (future.result(timeout=120) for future in outcomes)

    folded = first["folded"] + second["folded"]
    state = projections(postgres_db)
    assert folded == len(events)
    assert state["processed_sequences"] == list(range(1, len(events) + 1))
    assert state["fold_progress"]["events"][:2] == (len(events), len(events))
    assert state["totals"]["purchases"] == len(events)
    assert state["totals"]["credits_spent"] == sum(e.data["price"] for e in events)
    assert state["totals"]["buyers"] == 11
    assert {app: row[6:] for app, row in state["app_stats"].items()} == _per_app(events)
    assert {b: row[1] for b, row in state["buyers"].items()} == Counter(
        e.data["buyer_id"] for e in events
    )
    assert sum(v for (m, _), (v,) in state["series_minute"].items() if m == "purchases") == len(
        events
    )


def _per_app(events) -> dict[int, tuple[int, int]]:
    purchases: Counter = Counter()
    revenue: Counter = Counter()
    for e in events:
        purchases[e.data["app_id"]] += 1
        revenue[e.data["app_id"]] += e.data["price"]
    return {app: (purchases[app], revenue[app]) for app in purchases}


def test_every_statement_takes_its_row_locks_in_key_order(postgres_db, log):
    # Two folds that lock shared rows in opposite orders deadlock only when their
    # statements run within microseconds of each other: too rare to provoke on demand, so
    # the order itself is checked. PostgreSQL locks the rows of an upsert from unnested
    # arrays in the arrays' order.
    batch = [
        log.purchased(n, 1 + n % 13, 1 + n % 17, 1 + n % 5, 2, f"10:{n % 19:02d}:{n % 60:02d}")
        for n in range(1, 200)
    ]
    batch = random.Random(3).sample(batch, len(batch))
    inserts = []

    def record(_conn, _cursor, statement, parameters, _context, _executemany):
        if statement.startswith("INSERT INTO"):
            inserts.append((statement.split()[2], parameters))

    event.listen(postgres_db.engine, "before_cursor_execute", record)
    try:
        with postgres_db.transaction() as session:
            fold(session, batch)
    finally:
        event.remove(postgres_db.engine, "before_cursor_execute", record)

    tables = {name: [c.name for c in t.primary_key] for name, t in Base.metadata.tables.items()}
    keys_by_table = {name: _row_keys(params, tables[name]) for name, params in inserts}
    assert set(keys_by_table) >= {"processed_events", "buyers", "app_stats", "series_minute"}
    for name, keys in keys_by_table.items():
        assert keys == sorted(keys), name
    assert len(keys_by_table["app_stats"]) == 13


def _row_keys(parameters: dict, key_columns: list[str]) -> list[tuple]:
    """The primary keys of an upsert's rows in array order (a column holding the same
    value in every row is sent once, as ``<column>_value``; an array may be a list or an
    array literal)."""
    arrays = {
        name: _elements(value) if isinstance(value, str) else value
        for name, value in parameters.items()
        if name.endswith("_values")
    }
    rows = max(len(v) for v in arrays.values())
    columns = [arrays.get(f"{c}_values") or [parameters[f"{c}_value"]] * rows for c in key_columns]
    return list(zip(*columns, strict=True))


_ELEMENT = re.compile(r'"((?:[^"\\]|\\.)*)"|([^,{}]+)')


def _elements(literal: str) -> list:
    """The values of an array literal as :mod:`sqlstore.array_literals` renders them."""
    values: list = []
    for quoted, bare in _ELEMENT.findall(literal):
        if not bare:
            values.append(re.sub(r"\\(.)", r"\1", quoted))
        elif bare.isdigit():
            values.append(int(bare))
        else:
            values.append(datetime.fromisoformat(bare))
    return values

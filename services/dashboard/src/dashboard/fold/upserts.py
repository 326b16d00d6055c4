"""Applying a batch's deltas: one multi-row upsert per table.

Lock order. Concurrent folds (several worker processes) touch the same hot rows: totals,
the current minute, popular apps. Each fold takes its row locks table by table in the
order of :func:`apply_deltas`, and within a table in primary-key order, so two folds
always want shared rows in the same order and one waits for the other instead of
deadlocking. ``processed_events`` comes first (see :mod:`dashboard.fold.batch`) and
``fold_progress`` last.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, and_, case, func, or_
from sqlalchemy.dialects import postgresql, sqlite

from dashboard.fold.plan import BuyerDelta, Deltas
from dashboard.models import (
    AppStats,
    Buyer,
    DeveloperStats,
    KnownUser,
    SeriesMinute,
    SeriesQuarterHour,
    Total,
)
from sqlstore import Executor


def dialect_insert(executor: Executor, table: Table) -> Any:
    """Return an INSERT on ``table`` that can take ``ON CONFLICT`` on the executor's dialect."""
    name = _dialect_name(executor)
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for the {name} dialect")


def apply_deltas(executor: Executor, deltas: Deltas) -> None:
    """Write ``deltas`` in the caller's transaction, in the fixed lock order."""
    new_buyers = _upsert_buyers(executor, deltas.buyers)
    totals = deltas.totals.copy()
    totals["buyers"] += new_buyers
    _insert_known_users(executor, deltas)
    _upsert_apps(executor, deltas)
    _upsert_developers(executor, deltas)
    _add_to_series(executor, SeriesMinute.__table__, deltas.series_minute)
    _add_to_series(executor, SeriesQuarterHour.__table__, deltas.series_quarter_hour)
    _add_to_totals(executor, totals)


def _upsert_buyers(executor: Executor, buyers: dict[int, BuyerDelta]) -> int:
    """Record the batch's buyers; return how many had never bought before."""
    if not buyers:
        return 0
    table = Buyer.__table__
    rows = [
        {"buyer_id": buyer_id, "first_purchase_at": b.first_purchase_at, "purchases": b.purchases}
        for buyer_id, b in sorted(buyers.items())
    ]
    upsert = dialect_insert(executor, table)
    new, old = upsert.excluded, table.c
    statement = upsert.on_conflict_do_update(
        index_elements=[old.buyer_id],
        set_={
            # A purchase folded late may be older than the one that made the buyer known.
            "first_purchase_at": case(
                (new.first_purchase_at < old.first_purchase_at, new.first_purchase_at),
                else_=old.first_purchase_at,
            ),
            "purchases": old.purchases + new.purchases,
        },
    ).returning(old.buyer_id, old.purchases)
    # A row whose count is just what this batch added did not exist before. A concurrent
    # fold adding the same buyer makes this statement wait for its commit, then add to it.
    after = executor.execute(statement, rows).all()
    return sum(1 for buyer_id, purchases in after if purchases == buyers[buyer_id].purchases)


def _insert_known_users(executor: Executor, deltas: Deltas) -> None:
    if not deltas.known_users:
        return
    rows = [
        {
            "user_id": user_id,
            "username": user.username,
            "role": user.role,
            "registered_at": user.registered_at,
        }
        for user_id, user in sorted(deltas.known_users.items())
    ]
    # A user registers once; the dedupe record already keeps a replay from getting here.
    statement = dialect_insert(executor, KnownUser.__table__).on_conflict_do_nothing()
    _upsert_rows(executor, statement, rows)


def _upsert_apps(executor: Executor, deltas: Deltas) -> None:
    if not deltas.apps:
        return
    table = AppStats.__table__
    rows = [
        {
            "app_id": app_id,
            "owner_id": app.owner_id,
            "title": app.title,
            "title_sequence": app.title_sequence,
            "created_at": app.created_at,
            "verified": app.verified,
            "deleted": app.deleted,
            "purchases": app.purchases,
            "revenue": app.revenue,
        }
        for app_id, app in sorted(deltas.apps.items())
    ]
    upsert = dialect_insert(executor, table)
    new, old = upsert.excluded, table.c
    # NULL title_sequence (no title in this batch) compares unknown: the old title stays.
    newer_title = and_(
        new.title_sequence.is_not(None),
        or_(old.title_sequence.is_(None), new.title_sequence > old.title_sequence),
    )
    _upsert_rows(
        executor,
        upsert.on_conflict_do_update(
            index_elements=[old.app_id],
            set_={
                "owner_id": func.coalesce(old.owner_id, new.owner_id),
                "title": case((newer_title, new.title), else_=old.title),
                "title_sequence": case((newer_title, new.title_sequence), else_=old.title_sequence),
                "created_at": func.coalesce(old.created_at, new.created_at),
                # Neither flag is ever cleared by an event, so either source of True wins.
                "verified": or_(old.verified, new.verified),
                "deleted": or_(old.deleted, new.deleted),
                "purchases": old.purchases + new.purchases,
                "revenue": old.revenue + new.revenue,
            },
        ),
        rows,
    )


def _upsert_developers(executor: Executor, deltas: Deltas) -> None:
    if not deltas.developers:
        return
    table = DeveloperStats.__table__
    rows = [
        {
            "owner_id": owner_id,
            "apps": developer.apps,
            "purchases": developer.purchases,
            "revenue": developer.revenue,
        }
        for owner_id, developer in sorted(deltas.developers.items())
    ]
    upsert = dialect_insert(executor, table)
    _upsert_rows(
        executor,
        upsert.on_conflict_do_update(
            index_elements=[table.c.owner_id],
            set_={
                name: table.c[name] + upsert.excluded[name]
                for name in ("apps", "purchases", "revenue")
            },
        ),
        rows,
    )


def _add_to_series(executor: Executor, table: Table, counts: dict) -> None:
    rows = [
        {"metric": metric, "bucket_start": start, "value": value}
        for (metric, start), value in sorted(counts.items())
        if value
    ]
    if rows:
        _add_values(executor, table, ["metric", "bucket_start"], rows)


def _add_to_totals(executor: Executor, totals: dict[str, int]) -> None:
    rows = [{"name": name, "value": value} for name, value in sorted(totals.items()) if value]
    if rows:
        _add_values(executor, Total.__table__, ["name"], rows)


def _add_values(executor: Executor, table: Table, key: list[str], rows: list[dict]) -> None:
    upsert = dialect_insert(executor, table)
    _upsert_rows(
        executor,
        upsert.on_conflict_do_update(
            index_elements=[table.c[name] for name in key],
            set_={"value": table.c.value + upsert.excluded.value},
        ),
        rows,
    )


def _upsert_rows(executor: Executor, statement: Any, rows: list[dict]) -> None:
    """Run an INSERT ... ON CONFLICT for ``rows`` as few multi-row statements."""
    # With RETURNING, SQLAlchemy sends the rows as multi-row VALUES statements (its
    # "insertmanyvalues" mode, up to 1,000 rows each) rendered from one cached compilation;
    # without it, an executemany of an upsert goes row by row on psycopg2, and a literal
    # multi-row .values() is compiled afresh for every batch size.
    key = statement.table.primary_key.columns
    executor.execute(statement.returning(*key), rows).all()


def _dialect_name(executor: Executor) -> str:
    if isinstance(executor, Connection):
        return executor.dialect.name
    return executor.get_bind().dialect.name

"""Applying a plan: one multi-row upsert per table for a batch's deltas.

Lock order. Concurrent folds (several worker processes) touch the same hot rows: totals,
the current minute, popular apps. Each fold takes its row locks table by table in the
order of :func:`apply_deltas`, and within a table in primary-key order, so two folds
always want shared rows in the same order and one waits for the other instead of
deadlocking. ``processed_events`` comes first (see :mod:`dashboard.fold.folding`) and
``fold_progress`` last.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, and_, case, func, or_

from dashboard.fold.plan import BuyerDelta, Deltas, PriceChange, SalesDelta, SeriesSale
from dashboard.models import (
    AppPrice,
    AppSales,
    AppStats,
    Buyer,
    DeveloperStats,
    KnownUser,
    SalesSeries,
    SeriesMinute,
    SeriesQuarterHour,
    Total,
)
from sqlstore import Executor
from sqlstore.inserts import built_once, dialect_name, insert_columns, insert_for, insert_rows


def apply_deltas(executor: Executor, deltas: Deltas) -> None:
    """Write ``deltas`` in the caller's transaction, in the fixed lock order."""
    new_buyers = _upsert_buyers(executor, deltas.buyers)
    totals = deltas.totals.copy()
    totals["buyers"] += new_buyers
    _insert_known_users(executor, deltas)
    _upsert_apps(executor, deltas)
    _upsert_developers(executor, deltas)
    _add_app_sales(executor, deltas.app_sales)
    _add_sales_series(executor, deltas.sales_series)
    _insert_app_prices(executor, deltas.app_prices)
    _add_to_series(executor, SeriesMinute.__table__, deltas.series_minute)
    _add_to_series(executor, SeriesQuarterHour.__table__, deltas.series_quarter_hour)
    _add_to_totals(executor, totals)


def _upsert_buyers(executor: Executor, buyers: dict[int, BuyerDelta]) -> int:
    """Record the batch's buyers; return how many had never bought before."""
    if not buyers:
        return 0
    ids = sorted(buyers)
    ordered = [buyers[buyer_id] for buyer_id in ids]
    columns = {
        "buyer_id": ids,
        "first_purchase_at": [b.first_purchase_at for b in ordered],
        "purchases": [b.purchases for b in ordered],
    }
    # A row whose count is just what this batch added did not exist before. A concurrent
    # fold adding the same buyer makes this statement wait for its commit, then add to it.
    after = insert_columns(executor, _buyers_upsert(dialect_name(executor)), columns).all()
    return sum(1 for buyer_id, purchases in after if purchases == buyers[buyer_id].purchases)


@built_once
def _buyers_upsert(dialect: str) -> Any:
    table = Buyer.__table__
    upsert = insert_for(dialect, table)
    new, old = upsert.excluded, table.c
    return upsert.on_conflict_do_update(
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
    _upsert_rows(executor, _known_users_insert(dialect_name(executor)), rows)


@built_once
def _known_users_insert(dialect: str) -> Any:
    # A user registers once; the dedupe record already keeps a replay from getting here.
    return _returning_key(
        dialect, insert_for(dialect, KnownUser.__table__).on_conflict_do_nothing()
    )


def _upsert_apps(executor: Executor, deltas: Deltas) -> None:
    if not deltas.apps:
        return
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
    _upsert_rows(executor, _apps_upsert(dialect_name(executor)), rows)


@built_once
def _apps_upsert(dialect: str) -> Any:
    table = AppStats.__table__
    upsert = insert_for(dialect, table)
    new, old = upsert.excluded, table.c
    # NULL title_sequence (no title in this batch) compares unknown: the old title stays.
    newer_title = and_(
        new.title_sequence.is_not(None),
        or_(old.title_sequence.is_(None), new.title_sequence > old.title_sequence),
    )
    return _returning_key(
        dialect,
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
    )


def _upsert_developers(executor: Executor, deltas: Deltas) -> None:
    if not deltas.developers:
        return
    rows = [
        {
            "owner_id": owner_id,
            "apps": developer.apps,
            "purchases": developer.purchases,
            "revenue": developer.revenue,
        }
        for owner_id, developer in sorted(deltas.developers.items())
    ]
    _upsert_rows(
        executor,
        _adding_upsert(
            dialect_name(executor), DeveloperStats.__table__, ("apps", "purchases", "revenue")
        ),
        rows,
    )


def _add_app_sales(executor: Executor, sales: dict[tuple[str, Any, int], SalesDelta]) -> None:
    """Add the batch's purchases and revenue to the per-app sales buckets, both spans at once."""
    if not sales:
        return
    keys = sorted(sales)
    ordered = [sales[key] for key in keys]
    columns = dict(
        zip(("span", "bucket_start", "app_id"), map(list, zip(*keys, strict=True)), strict=True)
    )
    columns["owner_id"] = [sale.owner_id for sale in ordered]
    columns["purchases"] = [sale.purchases for sale in ordered]
    columns["revenue"] = [sale.revenue for sale in ordered]
    _upsert_columns(
        executor,
        _adding_upsert(dialect_name(executor), AppSales.__table__, ("purchases", "revenue")),
        columns,
    )


def _add_sales_series(
    executor: Executor, sales: dict[tuple[str, str, int, Any], SeriesSale]
) -> None:
    """Add the batch's purchases and revenue to each app's and developer's minutes and
    quarter-hours, both spans and scopes with one statement."""
    if not sales:
        return
    keys = sorted(sales)
    ordered = [sales[key] for key in keys]
    names = ("span", "scope", "scope_id", "bucket_start")
    columns = dict(zip(names, map(list, zip(*keys, strict=True)), strict=True))
    columns["purchases"] = [sale.purchases for sale in ordered]
    columns["revenue"] = [sale.revenue for sale in ordered]
    _upsert_columns(
        executor,
        _adding_upsert(dialect_name(executor), SalesSeries.__table__, ("purchases", "revenue")),
        columns,
    )


def _insert_app_prices(executor: Executor, prices: dict[tuple[int, str], PriceChange]) -> None:
    if not prices:
        return
    rows = [
        {
            "app_id": app_id,
            "event_id": event_id,
            "changed_at": change.changed_at,
            "sequence": change.sequence,
            "price": change.price,
        }
        for (app_id, event_id), change in sorted(prices.items())
    ]
    _upsert_rows(executor, _app_prices_insert(dialect_name(executor)), rows)


@built_once
def _app_prices_insert(dialect: str) -> Any:
    # One row per event; the dedupe record already keeps a replay from getting here.
    return _returning_key(dialect, insert_for(dialect, AppPrice.__table__).on_conflict_do_nothing())


def _add_to_series(executor: Executor, table: Table, counts: dict) -> None:
    rows = [
        {"metric": metric, "bucket_start": start, "value": value}
        for (metric, start), value in sorted(counts.items())
        if value
    ]
    if rows:
        _upsert_rows(executor, _adding_upsert(dialect_name(executor), table), rows)


def _add_to_totals(executor: Executor, totals: dict[str, int]) -> None:
    rows = [{"name": name, "value": value} for name, value in sorted(totals.items()) if value]
    if rows:
        _upsert_rows(executor, _adding_upsert(dialect_name(executor), Total.__table__), rows)


@built_once
def _adding_upsert(dialect: str, table: Table, added: tuple[str, ...] = ("value",)) -> Any:
    """An upsert that adds the ``added`` columns of a new row to those of an existing one."""
    upsert = insert_for(dialect, table)
    return _returning_key(
        dialect,
        upsert.on_conflict_do_update(
            index_elements=list(table.primary_key.columns),
            set_={name: table.c[name] + upsert.excluded[name] for name in added},
        ),
    )


def _returning_key(dialect: str, statement: Any) -> Any:
    # What comes back is not needed. On SQLite, RETURNING makes SQLAlchemy send the rows as
    # multi-row statements; PostgreSQL gets them as arrays in one statement anyway, and
    # returning rows would only cost it, the driver and SQLAlchemy their making and reading.
    if dialect != "sqlite":
        return statement
    return statement.returning(*statement.table.primary_key.columns)


def _upsert_columns(executor: Executor, statement: Any, columns: dict[str, list]) -> None:
    """:func:`_upsert_rows` for rows given column by column
    (:func:`~sqlstore.inserts.insert_columns`)."""
    result = insert_columns(executor, statement, columns)
    if result.returns_rows:
        result.all()


def _upsert_rows(executor: Executor, statement: Any, rows: list[dict]) -> None:
    """Run an INSERT ... ON CONFLICT for ``rows`` with :func:`~sqlstore.inserts.insert_rows`
    (with RETURNING on SQLite, whose rows are read and dropped)."""
    result = insert_rows(executor, statement, rows)
    if result.returns_rows:
        result.all()

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

from sqlalchemy import Connection, CursorResult, Table, and_, bindparam, case, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from dashboard.fold.plan import BuyerDelta, Deltas, SalesDelta
from dashboard.models import (
    AppSales,
    AppStats,
    Buyer,
    DeveloperStats,
    KnownUser,
    SeriesMinute,
    SeriesQuarterHour,
    Total,
)
from sqlstore import Executor

#: Execution option: on PostgreSQL, send a statement's rows as one array per column.
ROWS_AS_ARRAYS = "dashboard_rows_as_arrays"


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
    _add_app_sales(executor, deltas.app_sales)
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
    after = insert_rows(executor, statement, rows).all()
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


def _add_app_sales(executor: Executor, sales: dict[tuple[str, Any, int], SalesDelta]) -> None:
    """Add the batch's purchases and revenue to the per-app sales buckets, both spans at once."""
    if not sales:
        return
    table = AppSales.__table__
    rows = [
        {
            "span": span,
            "bucket_start": start,
            "app_id": app_id,
            "owner_id": sale.owner_id,
            "purchases": sale.purchases,
            "revenue": sale.revenue,
        }
        for (span, start, app_id), sale in sorted(sales.items())
    ]
    upsert = dialect_insert(executor, table)
    _upsert_rows(
        executor,
        upsert.on_conflict_do_update(
            index_elements=[table.c.span, table.c.bucket_start, table.c.app_id],
            set_={name: table.c[name] + upsert.excluded[name] for name in ("purchases", "revenue")},
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
    """Run an INSERT ... ON CONFLICT for ``rows`` (see :func:`insert_rows`)."""
    key = statement.table.primary_key.columns
    insert_rows(executor, statement.returning(*key), rows).all()


def insert_rows(executor: Executor, statement: Any, rows: list[dict]) -> CursorResult:
    """Run the INSERT ``statement`` (with its ON CONFLICT and RETURNING) for ``rows``.

    ``rows`` all have the same keys, the columns to insert, and come in the order their row
    locks are to be taken. By default the statement is executed for the list of rows; with
    RETURNING, SQLAlchemy sends them as multi-row VALUES statements rendered from one cached
    compilation (without it, an executemany of an upsert would go row by row, and a literal
    multi-row ``.values()`` is compiled afresh for every size).

    On PostgreSQL, a connection with the execution option :data:`ROWS_AS_ARRAYS` sends one
    array per column instead, unnested by the server in array order: a single statement
    whose parameters the driver adapts in C, where rendering multi-row VALUES costs
    SQLAlchemy about as much per row as the server's work. ``dashboard rebuild`` folds the
    whole log that way.
    """
    if _dialect_name(executor) != "postgresql" or not _rows_as_arrays(executor):
        return executor.execute(statement, rows)
    columns, first = statement.table.c, rows[0]
    # A column holding one object in every row (a fold's timestamp, say) is sent once.
    same = [name for name in first if all(row[name] is first[name] for row in rows[1:])]
    if len(same) == len(first):  # one row (or one object in every column): no array is left
        same = same[1:]
    varying = [name for name in first if name not in same]
    arrays = [
        bindparam(f"{name}_values", type_=postgresql.ARRAY(columns[name].type)) for name in varying
    ]
    unnested = func.unnest(*arrays).table_valued(*varying).render_derived()
    constants = [bindparam(f"{name}_value", type_=columns[name].type) for name in same]
    source = select(*unnested.c, *constants)
    values = {f"{name}_values": [row[name] for row in rows] for name in varying}
    values.update({f"{name}_value": first[name] for name in same})
    return executor.execute(statement.from_select([*varying, *same], source), values)


def _rows_as_arrays(executor: Executor) -> bool:
    connection = executor if isinstance(executor, Connection) else executor.connection()
    return bool(connection.get_execution_options().get(ROWS_AS_ARRAYS))


def _dialect_name(executor: Executor) -> str:
    if isinstance(executor, Connection):
        return executor.dialect.name
    return executor.get_bind().dialect.name

"""Top apps and top developers, all-time or in a window.

All-time lists walk the counter tables' ``(count DESC, id)`` indexes and stop at ``limit``.
A window sums the per-app sales buckets of ``app_sales``: whole UTC days inside it, hours
at its edges (an edge of more than 12 hours as its whole day
less the other hours), so windows are aligned to whole UTC hours and a 30-day window reads
at most about 31 + 24 rows per app that sold, whatever the number of purchases.

Only apps (developers) with at least one purchase, ever or in the window, are listed;
ties are broken by the smaller id. Top apps can be narrowed to one developer's apps: all-time
through the index of ``app_stats`` by owner, in a window by the ``owner_id`` every sales
bucket carries.
"""

from __future__ import annotations

from sqlalchemy import Select, func, select, union_all

from dashboard.models import AppSales, AppStats, DeveloperStats, KnownUser
from dashboard.stats.reading import Reader
from dashboard.stats.windows import DAY, HOUR, Window, cover, widen

RANKINGS = ("purchases", "revenue")


def aligned(window: Window) -> Window:
    """The window a top-N list answers for ``window``: widened to whole UTC hours."""
    return widen(window, HOUR)


def top_apps(
    reader: Reader, by: str, limit: int, window: Window | None, owner_id: int | None = None
) -> list[dict]:
    """``[{app_id, title, owner_id, purchases, revenue}]``, best first by ``by``; only the
    apps of ``owner_id`` when it is given."""
    _check(by)
    if window is None:
        ranked = select(
            AppStats.app_id,
            AppStats.title,
            AppStats.owner_id,
            AppStats.purchases,
            AppStats.revenue,
        ).where(AppStats.purchases > 0)
        if owner_id is not None:
            ranked = ranked.where(AppStats.owner_id == owner_id)
        statement = ranked.order_by(getattr(AppStats, by).desc(), AppStats.app_id).limit(limit)
    else:
        sales = _sales_in(aligned(window), owner_id)
        best = _ranked(sales, sales.c.app_id, by, limit)
        statement = (
            select(
                best.c.app_id, AppStats.title, AppStats.owner_id, best.c.purchases, best.c.revenue
            )
            .outerjoin(AppStats, AppStats.app_id == best.c.app_id)
            .order_by(best.c[by].desc(), best.c.app_id)
        )
    return _rows(reader, statement, ("app_id", "title", "owner_id", "purchases", "revenue"))


def top_developers(reader: Reader, by: str, limit: int, window: Window | None) -> list[dict]:
    """``[{owner_id, username, apps, purchases, revenue}]``, best first by ``by``.

    ``apps`` is how many apps the developer has created, all-time, in both modes.
    """
    _check(by)
    names = KnownUser.user_id == DeveloperStats.owner_id
    if window is None:
        statement = (
            select(
                DeveloperStats.owner_id,
                KnownUser.username,
                DeveloperStats.apps,
                DeveloperStats.purchases,
                DeveloperStats.revenue,
            )
            .outerjoin(KnownUser, names)
            .where(DeveloperStats.purchases > 0)
            .order_by(getattr(DeveloperStats, by).desc(), DeveloperStats.owner_id)
            .limit(limit)
        )
    else:
        sales = _sales_in(aligned(window))
        best = _ranked(sales, sales.c.owner_id, by, limit)
        statement = (
            select(
                best.c.owner_id,
                KnownUser.username,
                func.coalesce(DeveloperStats.apps, 0),
                best.c.purchases,
                best.c.revenue,
            )
            .select_from(best)
            .outerjoin(DeveloperStats, DeveloperStats.owner_id == best.c.owner_id)
            .outerjoin(KnownUser, KnownUser.user_id == best.c.owner_id)
            .order_by(best.c[by].desc(), best.c.owner_id)
        )
    return _rows(reader, statement, ("owner_id", "username", "apps", "purchases", "revenue"))


def _check(by: str) -> None:
    if by not in RANKINGS:
        raise ValueError(f"unknown ranking {by!r}")


def _sales_in(window: Window, owner_id: int | None = None):
    """Signed sales bucket rows that add up to the hour-aligned ``window``, as a subquery:
    whole days inside, hours at the edges, and for
    an edge longer than 12 hours its whole day less the hours outside (see
    :func:`~dashboard.stats.windows.cover`); only ``owner_id``'s when it is given."""
    parts = cover(window, DAY)
    pieces: list[tuple[str, Window, int]] = [("hour", part, 1) for part in parts.fine]
    pieces += [("hour", part, -1) for part in parts.minus]
    if parts.coarse is not None:
        pieces.append(("day", parts.coarse, 1))
    selects: list[Select] = [
        select(
            AppSales.app_id,
            AppSales.owner_id,
            (AppSales.purchases * sign).label("purchases"),
            (AppSales.revenue * sign).label("revenue"),
        ).where(
            AppSales.span == span,
            AppSales.bucket_start >= part.start,
            AppSales.bucket_start < part.end,
            *((AppSales.owner_id == owner_id,) if owner_id is not None else ()),
        )
        for span, part, sign in pieces
    ]
    return union_all(*selects).subquery("sales")


def _ranked(sales, key, by: str, limit: int):
    """The ``limit`` best keys of ``sales`` by summed ``by``, as a subquery."""
    purchases = func.sum(sales.c.purchases).label("purchases")
    revenue = func.sum(sales.c.revenue).label("revenue")
    ranking = purchases if by == "purchases" else revenue
    return (
        select(key, purchases, revenue)
        .group_by(key)
        # Subtracted hours can leave an app at zero: it sold nothing in the window.
        .having(purchases > 0)
        .order_by(ranking.desc(), key)
        .limit(limit)
        .subquery("best")
    )


def _rows(reader: Reader, statement, names: tuple[str, ...]) -> list[dict]:
    with reader.connect() as connection:
        rows = connection.execute(statement).all()
    # PostgreSQL's sum() of BIGINT is NUMERIC: back to int, money stays whole credits.
    return [
        {
            name: int(value) if name in ("purchases", "revenue", "apps") else value
            for name, value in zip(names, row, strict=True)
        }
        for row in rows
    ]

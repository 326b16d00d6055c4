"""One app or one developer looked up, and apps found by title or developer name.

Everything comes from the counters and facts the fold keeps: ``app_stats`` (title, owner,
flags, all-time sales), ``app_prices`` (the price history), ``developer_stats`` and
``known_users``. A rank is the place in the all-time top list (only apps or developers with
a sale are ranked, ties to the smaller id), counted on the same ``(count DESC, id)``
indexes the top lists walk, so it costs a walk down to that place.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, and_, func, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute

from dashboard.errors import UnknownScope
from dashboard.models import AppPrice, AppStats, DeveloperStats, KnownUser
from dashboard.stats.reading import Reader
from dashboard.stats.top import RANKINGS

#: The most apps a page of search results holds.
MAX_PAGE_SIZE = 100


def app(reader: Reader, app_id: int) -> dict[str, Any]:
    """``{app_id, title, owner_id, username, created_at, verified, deleted, price, prices,
    purchases, revenue, rank}``.

    Raises:
        UnknownScope: no event about the app has been folded.
    """
    with reader.connect() as connection:
        found, rank = _ranked(
            connection,
            AppStats.app_id,
            app_id,
            f"No app with id {app_id} is known to the dashboard: "
            "no event about it has been folded.",
        )
        prices = connection.execute(
            select(AppPrice.changed_at, AppPrice.price)
            .where(AppPrice.app_id == app_id)
            .order_by(AppPrice.changed_at, AppPrice.sequence)
        ).all()
    return {
        "app_id": found.app_id,
        "title": found.title,
        "owner_id": found.owner_id,
        "username": found.username,
        "created_at": found.created_at,
        "verified": found.verified,
        "deleted": found.deleted,
        "price": prices[-1].price if prices else None,
        "prices": [{"from": at, "price": price} for at, price in prices],
        "purchases": found.purchases,
        "revenue": found.revenue,
        "rank": rank,
    }


def developer(reader: Reader, owner_id: int) -> dict[str, Any]:
    """``{owner_id, username, apps, purchases, revenue, rank}``.

    Raises:
        UnknownScope: the dashboard has folded no app created or sold by ``owner_id``.
    """
    with reader.connect() as connection:
        found, rank = _ranked(
            connection,
            DeveloperStats.owner_id,
            owner_id,
            f"No developer with id {owner_id} is known to the dashboard: "
            "no app of theirs has been created or sold.",
        )
    return {
        "owner_id": found.owner_id,
        "username": found.username,
        "apps": found.apps,
        "purchases": found.purchases,
        "revenue": found.revenue,
        "rank": rank,
    }


def _ranked(
    connection: Connection, key: InstrumentedAttribute, key_value: int, unknown: str
) -> tuple[Row, dict[str, int | None]]:
    """The row of ``key_value`` in the table of ``key``, with its owner's username, and its
    place in the all-time top lists (:data:`RANKINGS`): ``None`` before its first sale.

    Raises:
        UnknownScope: the table has no such row; ``unknown`` says so.
    """
    table = key.class_
    found = connection.execute(
        select(*table.__table__.columns, KnownUser.username)
        .outerjoin(KnownUser, KnownUser.user_id == table.owner_id)
        .where(key == key_value)
    ).first()
    if found is None:
        raise UnknownScope(unknown)
    rank = {by: _rank(connection, table, key, key_value, found, by) for by in RANKINGS}
    return found, rank


def _rank(connection, table, key, key_value: int, found, by: str) -> int | None:
    """The place of ``found`` in the all-time top list by ``by``; None without a sale."""
    if not found.purchases:
        return None
    figure = getattr(table, by)
    mine = getattr(found, by)
    ahead = connection.scalar(
        select(func.count()).where(
            table.purchases > 0,
            or_(figure > mine, and_(figure == mine, key < key_value)),
        )
    )
    return int(ahead) + 1


def search(reader: Reader, q: str, page: int, page_size: int) -> tuple[list[dict], int]:
    """Apps whose title or developer's name holds ``q`` (any case; all apps for ``""``),
    most bought first, ties to the smaller id: one page of them, and how many there are.

    Each is ``{app_id, title, owner_id, username, purchases, revenue, deleted}``.
    """
    named = KnownUser.user_id == AppStats.owner_id
    found = (
        or_(
            AppStats.title.icontains(q, autoescape=True),
            KnownUser.username.icontains(q, autoescape=True),
        )
        if q
        else true()
    )
    statement = (
        select(
            AppStats.app_id,
            AppStats.title,
            AppStats.owner_id,
            KnownUser.username,
            AppStats.purchases,
            AppStats.revenue,
            AppStats.deleted,
        )
        .outerjoin(KnownUser, named)
        .where(found)
        .order_by(AppStats.purchases.desc(), AppStats.app_id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    count = select(func.count()).select_from(AppStats).outerjoin(KnownUser, named).where(found)
    with reader.connect() as connection:
        total = int(connection.scalar(count))
        if (page - 1) * page_size >= total:  # past the end; a huge page never reaches SQL
            return [], total
        rows = connection.execute(statement).mappings().all()
    return [dict(row) for row in rows], total

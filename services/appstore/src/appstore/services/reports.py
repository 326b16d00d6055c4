"""Figures computed from the Appstore's own tables, for consumers that check their views.

The Dashboard's ``dashboard reconcile`` compares its projections with these; they are
ground truth because they come from the rows the events were written with.
"""

from __future__ import annotations

from sqlalchemy import func, select

from appstore.models import App, CreditGrant, Purchase, User
from sqlstore import Database


def totals(db: Database) -> dict[str, int]:
    """The all-time totals the Dashboard keeps, computed from the source tables."""
    with db.reading() as session:
        purchases, spent, buyers = session.execute(
            select(
                func.count(Purchase.id),
                func.coalesce(func.sum(Purchase.price), 0),
                func.count(func.distinct(Purchase.buyer_id)),
            )
        ).one()
        return {
            "users": session.scalar(select(func.count(User.id))),
            "apps_created": session.scalar(select(func.count(App.id))),
            "apps_verified": session.scalar(select(func.count(App.id)).where(App.verified)),
            "purchases": purchases,
            "credits_spent": spent,
            "credits_granted": session.scalar(
                select(func.coalesce(func.sum(CreditGrant.amount), 0))
            ),
            "buyers": buyers,
        }


def app_figures(db: Database, page: int, page_size: int) -> tuple[list[dict], int]:
    """Every app, deleted or not, with its purchases and revenue, by id."""
    sold = (
        select(
            Purchase.app_id,
            func.count(Purchase.id).label("purchases"),
            func.sum(Purchase.price).label("revenue"),
        )
        .group_by(Purchase.app_id)
        .subquery()
    )
    with db.reading() as session:
        total = session.scalar(select(func.count(App.id)))
        if (page - 1) * page_size >= total:  # past the end; a huge page never reaches SQL
            return [], total
        rows = session.execute(
            select(
                App.id,
                App.owner_id,
                App.title,
                func.coalesce(sold.c.purchases, 0),
                func.coalesce(sold.c.revenue, 0),
            )
            .outerjoin(sold, sold.c.app_id == App.id)
            .order_by(App.id)
            .offset((page - 1) * page_size)
            .limit(page_size)
        ).all()
    keys = ("app_id", "owner_id", "title", "purchases", "revenue")
    return [dict(zip(keys, row, strict=True)) for row in rows], total

"""The figures of the Appstore's own tables (PostgreSQL): SQL over the rows the events
came from."""

from __future__ import annotations

import itertools
from datetime import datetime

from sqlalchemy import Engine, text

TOTALS_SQL = text(
    """
    SELECT (SELECT count(*) FROM users) AS users,
           (SELECT count(*) FROM apps) AS apps_created,
           (SELECT count(*) FROM apps WHERE verified) AS apps_verified,
           (SELECT count(*) FROM purchases) AS purchases,
           (SELECT coalesce(sum(price), 0) FROM purchases) AS credits_spent,
           (SELECT coalesce(sum(amount), 0) FROM credit_grants) AS credits_granted,
           (SELECT count(DISTINCT buyer_id) FROM purchases) AS buyers
    """
)
APPS_SQL = text(
    """
    SELECT a.id, a.owner_id, a.title, count(p.id), coalesce(sum(p.price), 0)
    FROM apps a LEFT JOIN purchases p ON p.app_id = a.id
    GROUP BY a.id ORDER BY a.id
    """
)
WINDOW_SQL = text(
    """
    SELECT (SELECT count(*) FROM users WHERE created_at >= :start AND created_at < :end)
               AS users,
           (SELECT count(*) FROM apps WHERE created_at >= :start AND created_at < :end)
               AS apps_created,
           (SELECT count(*) FROM purchases WHERE created_at >= :start AND created_at < :end)
               AS purchases,
           (SELECT coalesce(sum(price), 0) FROM purchases
               WHERE created_at >= :start AND created_at < :end) AS credits_spent,
           (SELECT count(*) FROM (SELECT min(created_at) AS first FROM purchases
                                  GROUP BY buyer_id) AS buyers
               WHERE first >= :start AND first < :end) AS new_buyers
    """
)
SERIES_SQL = {
    "purchases": "SELECT count(*) FROM purchases WHERE created_at >= :start AND created_at < :end",
    "credits_spent": "SELECT coalesce(sum(price), 0) FROM purchases "
    "WHERE created_at >= :start AND created_at < :end",
    "apps_created": "SELECT count(*) FROM apps WHERE created_at >= :start AND created_at < :end",
}
TOP_APPS_SQL = text(
    """
    SELECT a.title, count(p.id) AS purchases, coalesce(sum(p.price), 0) AS revenue
    FROM purchases p JOIN apps a ON a.id = p.app_id
    WHERE p.created_at >= :start AND p.created_at < :end
    GROUP BY a.id, a.title
    """
)
LAST_SEQUENCE_SQL = text("SELECT coalesce(max(sequence), 0) FROM outbox")
OUTBOX_SIZE_SQL = text("SELECT count(*) FROM outbox")


class AppstoreTruth:
    """Figures computed from the Appstore's own tables (PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def totals(self) -> dict[str, int]:
        with self.engine.connect() as connection:
            return dict(connection.execute(TOTALS_SQL).mappings().one())

    def apps(self) -> dict[int, tuple]:
        """Every app of the Appstore: ``{id: (owner_id, title, purchases, revenue)}``."""
        with self.engine.connect() as connection:
            return {row[0]: tuple(row[1:]) for row in connection.execute(APPS_SQL)}

    def window(self, start: datetime, end: datetime) -> dict[str, int]:
        with self.engine.connect() as connection:
            row = connection.execute(WINDOW_SQL, {"start": start, "end": end}).mappings().one()
        return dict(row)

    def series(self, metric: str, edges: list[datetime]) -> list[int]:
        """The metric in each bucket ``[edges[i], edges[i + 1])``."""
        query = text(SERIES_SQL[metric])
        with self.engine.connect() as connection:
            return [
                connection.scalar(query, {"start": start, "end": end})
                for start, end in itertools.pairwise(edges)
            ]

    def top_apps(self, start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
        """``{title: (purchases, revenue)}`` of every app bought in the window."""
        with self.engine.connect() as connection:
            rows = connection.execute(TOP_APPS_SQL, {"start": start, "end": end})
            return {title: (bought, revenue) for title, bought, revenue in rows}

    def last_sequence(self) -> int:
        with self.engine.connect() as connection:
            return connection.scalar(LAST_SEQUENCE_SQL)

    def outbox_size(self) -> int:
        with self.engine.connect() as connection:
            return connection.scalar(OUTBOX_SIZE_SQL)

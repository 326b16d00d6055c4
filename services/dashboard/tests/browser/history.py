"""A scripted month of Appstore history, made by the Appstore's own service functions, and
the ground truth the page's figures are checked against, read from the Appstore's tables.

The service functions take the time from the clock, so the history is spread over the past
month by travelling in time (``time_machine``) while it is written: every row and every
outbox event carries the moment it was "made", as if the month had really passed.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import time_machine
from sqlalchemy import Engine, text

from appstore.security.principal import Principal
from appstore.services import apps, purchases, users

PASSWORD = "browser-test-password"
MANAGER = "manager"
PLAIN_USER = "plain"
SERVICE_ACCOUNT = "svc"
PRICES = (0, 5, 12, 30)
# (how long before the seeding, purchases then); the 24 h window holds the last two, the
# previous 24 h the one 30 hours back, the 7 days all but the first, the month all of them.
WAVES = (
    (timedelta(days=20), 0),
    (timedelta(days=5), 8),
    (timedelta(hours=30), 6),
    (timedelta(minutes=150), 7),
    (timedelta(minutes=40), 5),
)


@dataclass
class Seeded:
    """What the script made, for the tests to act on."""

    admin: Principal
    buyers: list[Principal] = field(default_factory=list)
    for_sale: list[int] = field(default_factory=list)  # verified app ids
    bought: set[tuple[int, int]] = field(default_factory=set)  # (buyer id, app id)


def seed(parts, now: datetime) -> Seeded:
    """Write the history into the Appstore of ``parts`` (its bootstrap components), the last
    of it at ``now``: developers and their apps, buyers with credit, waves of purchases."""
    rng = random.Random(11)
    db, hasher = parts.db, parts.passwords
    start = now - WAVES[0][0]
    with time_machine.travel(start, tick=False) as clock:
        root = users.register(db, hasher, "root", "root@browser.example", PASSWORD, "admin")
        seeded = Seeded(admin=Principal(root.id, root.username, "admin"))
        users.register(db, hasher, SERVICE_ACCOUNT, "svc@browser.example", PASSWORD, "service")
        for d in range(4):
            clock.shift(timedelta(minutes=7))
            developer = _user(db, hasher, f"developer{d}")
            for a in range(3):
                clock.shift(timedelta(seconds=50))
                app_id = _new_app(db, developer, f"{developer.username}'s app {a}", d + a)
                if a < 2:
                    apps.verify_app(db, seeded.admin, app_id)
                    seeded.for_sale.append(app_id)
        for b in range(10):
            clock.shift(timedelta(minutes=3))
            buyer = _user(db, hasher, f"buyer{b}")
            users.grant_credit(db, seeded.admin, buyer.user_id, 400)
            seeded.buyers.append(buyer)
    for back, count in WAVES[1:]:
        with time_machine.travel(now - back, tick=False) as clock:
            newcomer = _user(db, hasher, f"newcomer{int(back.total_seconds())}")
            users.grant_credit(db, seeded.admin, newcomer.user_id, 50)
            app_id = _new_app(db, newcomer, f"Fresh app {len(seeded.for_sale)}", count)
            apps.verify_app(db, seeded.admin, app_id)
            seeded.for_sale.append(app_id)
            for _ in range(count):
                clock.shift(timedelta(seconds=rng.randint(20, 200)))
                buy(db, seeded, rng)
    with time_machine.travel(now, tick=False):
        for username, role in ((MANAGER, "management"), (PLAIN_USER, "user")):
            users.register(db, hasher, username, f"{username}@browser.example", PASSWORD, role)
    return seeded


def buy(db, seeded: Seeded, rng: random.Random) -> None:
    """One purchase of an app the buyer does not have yet (not their own)."""
    pairs = [
        (buyer, app_id)
        for buyer in seeded.buyers
        for app_id in seeded.for_sale
        if (buyer.user_id, app_id) not in seeded.bought
    ]
    buyer, app_id = rng.choice(pairs)
    purchases.purchase(db, buyer, app_id)
    seeded.bought.add((buyer.user_id, app_id))


def _user(db, hasher, username: str) -> Principal:
    user = users.register(db, hasher, username, f"{username}@browser.example", PASSWORD)
    return Principal(user.id, user.username, "user")


def _new_app(db, owner: Principal, title: str, index: int) -> int:
    fields = {
        "title": title,
        "description": f"{title}, for the browser tests",
        "price": PRICES[index % len(PRICES)],
        "access_link": "https://apps.browser.example/launch",
    }
    return apps.create_app(db, owner, fields).id


# --- ground truth ----------------------------------------------------------------------------

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


class Truth:
    """Figures computed from the Appstore's own tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def window(self, start: datetime, end: datetime) -> dict[str, int]:
        with self.engine.connect() as connection:
            row = connection.execute(WINDOW_SQL, {"start": start, "end": end}).mappings().one()
        return dict(row)

    def totals(self) -> dict[str, int]:
        with self.engine.connect() as connection:
            return dict(connection.execute(TOTALS_SQL).mappings().one())

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

"""A scripted month of Appstore history, made by the Appstore's own service functions. The
page's figures are checked against :class:`tests.truth.AppstoreTruth` of it, read from the
Appstore's tables.

The service functions take the time from the clock, so the history is spread over the past
month by travelling in time (``time_machine``) while it is written: every row and every
outbox event carries the moment it was "made", as if the month had really passed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import time_machine

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

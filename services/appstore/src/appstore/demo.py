"""Demo data for ``make run``: accounts, apps and purchases made through the service layer."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from appstore.bootstrap import Components
from appstore.errors import InsufficientCredit
from appstore.models import User, clock_at, utcnow
from appstore.security.principal import Principal
from appstore.services import apps, purchases, users
from appstore.settlement import settle_all

APP_NAMES = (
    "Lumen Notes",
    "Tidy Budget",
    "Pocket Atlas",
    "Quiet Hours",
    "Recipe Box",
    "Trail Log",
    "Chord Finder",
    "Sky Watch",
    "Habit Loop",
    "Focus Timer",
    "Plant Pal",
    "Word Smith",
    "Pixel Paint",
    "Run Buddy",
    "Sleep Well",
    "Tide Tables",
    "Star Chart",
    "Code Snips",
    "Lingo Cards",
    "Sketch Pad",
    "Budget Bee",
    "Moon Phase",
    "Bird Song",
    "Fold Origami",
)


def demo_accounts_exist(parts: Components) -> bool:
    with parts.db.reading() as session:
        return session.scalar(select(User.id).where(User.username == "admin")) is not None


def seed(
    parts: Components,
    password: str,
    *,
    developers: int = 12,
    apps_each: int = 4,
    buyers: int = 80,
    days: int = 30,
    seed_value: int = 7,
) -> dict:
    """Create ``admin``, ``manager`` and ``service`` accounts plus a lively store whose
    history spreads over the last ``days`` days.

    Every row and event is made by the service code, in time order, each stamped with its
    moment in the past (:func:`appstore.models.clock_at`), so the event log reads like
    a month of real use: developers and apps first, buyers arriving over the weeks, a few
    thousand purchases, some refused for want of credit.

    Returns:
        Counts of what was made.
    """
    rng = random.Random(seed_value)
    db, hasher = parts.db, parts.passwords
    now = utcnow()
    start = now - timedelta(days=days)
    with clock_at(start):
        admin = users.register(db, hasher, "admin", "admin@demo.local", password, "admin")
        users.register(db, hasher, "manager", "manager@demo.local", password, "management")
        users.register(db, hasher, "service", "service@demo.local", password, "service")
    as_admin = Principal(admin.id, admin.username, "admin")
    made = Counter()
    published: list[tuple[int, datetime]] = []  # (app id, verified at), for buyers
    prices = (0, 5, 10, 15, 25, 40)

    for d in range(developers):
        joined = start + timedelta(hours=rng.uniform(0, 24 * days * 0.2))
        with clock_at(joined):
            dev = users.register(db, hasher, f"dev{d}", f"dev{d}@demo.local", password)
        as_dev = Principal(dev.id, dev.username, "user")
        for a in range(apps_each):
            name = APP_NAMES[(d * apps_each + a) % len(APP_NAMES)]
            if d * apps_each + a >= len(APP_NAMES):
                name = f"{name} {1 + (d * apps_each + a) // len(APP_NAMES)}"
            created = joined + timedelta(hours=rng.uniform(1, 24 * days * 0.6))
            fields = {
                "title": name,
                "description": f"{name}: a demo app by {dev.username}.",
                "price": rng.choice(prices),
                "access_link": f"https://apps.demo.local/{name.lower().replace(' ', '-')}",
            }
            with clock_at(created):
                app = apps.create_app(db, as_dev, fields)
            verified = created + timedelta(minutes=rng.uniform(5, 600))
            with clock_at(verified):
                apps.verify_app(db, as_admin, app.id)
            published.append((app.id, verified))
            made["apps"] += 1

    # Buyers and their purchases, replayed in time order so that credit runs out when
    # it would have.
    actions: list[tuple[datetime, int, Callable[[], None]]] = []
    for b in range(buyers):
        joined = start + timedelta(hours=rng.uniform(0, 24 * days * 0.9))
        with clock_at(joined):
            buyer = users.register(db, hasher, f"buyer{b}", f"buyer{b}@demo.local", password)
        as_buyer = Principal(buyer.id, buyer.username, "user")
        welcome = joined + timedelta(minutes=rng.uniform(1, 30))
        actions.append((welcome, 0, _grant(db, as_admin, buyer.id, rng.randint(250, 700))))
        if rng.random() < 0.5:
            later = welcome + (now - welcome) * rng.random()
            actions.append((later, 0, _grant(db, as_admin, buyer.id, rng.randint(50, 300))))
        for app_id, verified in rng.sample(published, k=rng.randint(28, 46)):
            first = max(welcome, verified)
            moment = first + (now - first) * rng.random()
            actions.append((moment, 1, _buy(db, as_buyer, app_id, made)))
    for moment, _order, action in sorted(actions, key=lambda item: item[:2]):
        with clock_at(moment):
            action()
    # The developers' earnings, paid now rather than when the relay's settler first runs.
    settle_all(db.engine)
    return {
        "developers": developers,
        "apps": made["apps"],
        "buyers": buyers,
        "purchases": made["purchases"],
        "refused for want of credit": made["refused"],
    }


def _grant(db, admin: Principal, user_id: int, amount: int) -> Callable[[], None]:
    return lambda: users.grant_credit(db, admin, user_id, amount, "demo credit")


def _buy(db, buyer: Principal, app_id: int, made: Counter) -> Callable[[], None]:
    def buy() -> None:
        try:
            purchases.purchase(db, buyer, app_id)
            made["purchases"] += 1
        except InsufficientCredit:
            made["refused"] += 1

    return buy

"""Demo data for ``make run``: accounts, apps and purchases made through the service layer."""

from __future__ import annotations

import random

from sqlalchemy import select

from appstore.bootstrap import Components
from appstore.errors import Conflict, InsufficientCredit
from appstore.models import User
from appstore.security.principal import Principal
from appstore.services import apps, purchases, users

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


def seed(parts: Components, password: str, *, developers=8, buyers=32, seed_value=7) -> dict:
    """Create ``admin``, ``manager`` and ``service`` accounts plus a small, lively store.

    Returns counts of what was made.
    """
    rng = random.Random(seed_value)
    db, hasher = parts.db, parts.passwords
    admin = users.register(db, hasher, "admin", "admin@demo.local", password, "admin")
    users.register(db, hasher, "manager", "manager@demo.local", password, "management")
    users.register(db, hasher, "service", "service@demo.local", password, "service")
    as_admin = Principal(admin.id, admin.username, "admin")

    published = []
    for d in range(developers):
        dev = users.register(db, hasher, f"dev{d}", f"dev{d}@demo.local", password)
        as_dev = Principal(dev.id, dev.username, "user")
        for name in APP_NAMES[d * 3 : d * 3 + 3]:
            fields = {
                "title": name,
                "description": f"{name}: a demo app by {dev.username}.",
                "price": rng.choice((0, 5, 10, 15, 25, 40)),
                "access_link": f"https://apps.demo.local/{name.lower().replace(' ', '-')}",
            }
            app = apps.create_app(db, as_dev, fields)
            apps.verify_app(db, as_admin, app.id)
            published.append(app.id)

    bought = 0
    for b in range(buyers):
        buyer = users.register(db, hasher, f"buyer{b}", f"buyer{b}@demo.local", password)
        users.grant_credit(db, as_admin, buyer.id, rng.randint(50, 200), "welcome credit")
        as_buyer = Principal(buyer.id, buyer.username, "user")
        for app_id in rng.sample(published, k=rng.randint(2, 10)):
            try:
                purchases.purchase(db, as_buyer, app_id)
                bought += 1
            except (InsufficientCredit, Conflict):
                break
    return {"developers": developers, "apps": len(published), "buyers": buyers, "purchases": bought}

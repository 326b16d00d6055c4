"""The pipeline benchmark's workload: events as a live Appstore logs them, and the totals the
Dashboard must end up with."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


@dataclass
class Workload:
    """Events as a live Appstore logs them, and the totals the Dashboard must end up with."""

    events: list[tuple[str, dict]] = field(default_factory=list)
    totals: Counter[str] = field(default_factory=Counter)

    def add(self, event_type: str, data: dict) -> None:
        self.events.append((event_type, data))


def make_workload(count: int, seed: int = 7) -> Workload:
    """``count`` events over the past day: ~92% purchases, the rest the store growing.

    A starting cast (an admin, developers with verified apps, buyers with credit) comes
    first; after it, each event is a purchase of a verified app by a registered user who
    has not bought it yet (92%), a registration followed by its credit grant (3% each),
    or an app created (1%) that an admin verifies a little later (1%).
    """
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=1)
    step = timedelta(days=1) / count
    work = Workload()
    users: list[int] = []
    owners: dict[int, int] = {}  # verified app -> its owner
    prices: dict[int, int] = {}
    pending: list[tuple[int, int]] = []  # created, not yet verified: (app, owner)
    bought: set[tuple[int, int]] = set()

    def at() -> str:
        return (start + step * len(work.events)).isoformat().replace("+00:00", "Z")

    def register(role: str = "user") -> int:
        user_id = len(users) + 1
        users.append(user_id)
        work.add(
            "UserRegistered",
            {"user_id": user_id, "username": f"u{user_id}", "role": role, "registered_at": at()},
        )
        if role == "user":
            amount = rng.choice((100, 500, 1000))
            work.add(
                "CreditGranted",
                {"user_id": user_id, "amount": amount, "granted_by": 1, "granted_at": at()},
            )
        return user_id

    def create(owner: int) -> None:
        app_id = len(prices) + 1  # every app created so far has its price here
        price = rng.choice((0, 1, 2, 5, 10, 20))
        prices[app_id] = price
        work.add(
            "AppCreated",
            {"app_id": app_id, "owner_id": owner, "title": f"App {app_id}", "price": price,
             "created_at": at()},
        )  # fmt: skip
        pending.append((app_id, owner))

    def verify() -> None:
        app_id, owner = pending.pop(0)
        work.add("AppVerified", {"app_id": app_id, "verified_by": 1, "verified_at": at()})
        owners[app_id] = owner

    def purchase() -> None:
        apps = list(owners)
        for _ in range(20):  # a fresh (buyer, app) pair; the cast makes one easy to find
            buyer, app_id = rng.choice(users[1:]), rng.choice(apps)
            if owners[app_id] != buyer and (buyer, app_id) not in bought:
                break
        else:
            register()
            return
        bought.add((buyer, app_id))
        price = prices[app_id]
        work.add(
            "AppPurchased",
            {"purchase_id": len(bought), "app_id": app_id, "buyer_id": buyer,
             "owner_id": owners[app_id], "price": price, "purchased_at": at()},
        )  # fmt: skip

    register("admin")
    for _ in range(max(2, count // 2000)):
        owner = register()
        create(owner)
        verify()
    for _ in range(max(2, count // 400)):
        register()
    while len(work.events) < count:
        roll = rng.random()
        if roll < 0.03:
            register()
        elif roll < 0.04:
            create(rng.choice(users[1:]))
        elif roll < 0.05 and pending:
            verify()
        else:
            purchase()
    del work.events[count:]  # perhaps a grant after the last registration
    buyers = set()
    for event_type, data in work.events:
        if event_type == "UserRegistered":
            work.totals["users"] += 1
        elif event_type == "CreditGranted":
            work.totals["credits_granted"] += data["amount"]
        elif event_type == "AppCreated":
            work.totals["apps_created"] += 1
        elif event_type == "AppVerified":
            work.totals["apps_verified"] += 1
        elif event_type == "AppPurchased":
            work.totals["purchases"] += 1
            work.totals["credits_spent"] += data["price"]
            buyers.add(data["buyer_id"])
    work.totals["buyers"] = len(buyers)
    return work

"""The scripted workload sent through the Appstore's HTTP API, and the answers it must get."""

from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .client import Api
from .pipeline import COMMAND_SECONDS, Pipeline

#: Threads registering a workload's buyers (the served Appstore has 12).
SET_UP_THREADS = 8


@dataclass
class Store:
    """What a workload set up: accounts (with tokens) and apps (with prices)."""

    admin: str
    rich: list[str] = field(default_factory=list)  # buyer tokens
    poor: list[str] = field(default_factory=list)
    credit: dict[str, int] = field(default_factory=dict)  # buyer token -> credit granted
    prices: dict[int, int] = field(default_factory=dict)  # verified app id -> price
    unverified: list[int] = field(default_factory=list)
    developers: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    statuses: Counter = field(default_factory=Counter)
    spent: int = 0  # the prices of the purchases answered 201
    attempts: int = 0


class Workload:
    """Registrations, credit grants, app creations and verifications, then purchases from
    many threads, some of them refused with 402 (credit short) or 409 (already bought)."""

    RICH_CREDIT = 1000  # more than a rich buyer can spend on the purchases planned
    POOR_CREDIT = 15  # enough for one app priced 10 at most
    PRICES = (0, 5, 10, 20, 30)

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.api = Api(pipeline.appstore_url, pipeline)

    @staticmethod
    def new_outcome() -> Outcome:
        return Outcome()

    def set_up(self, prefix: str, developers=4, apps_each=5, rich=30, poor=10, seed=1) -> Store:
        rng = random.Random(seed)
        api = self.api
        store = Store(admin=api.token("admin"))
        for d in range(developers):
            name = f"{prefix}dev{d}"
            api.register(name)
            token = api.token(name)
            store.developers.append(token)
            for a in range(apps_each):
                price = self.PRICES[(d + a) % len(self.PRICES)]
                app_id = api.create_app(token, f"{prefix} app {d}.{a}", price)
                if a == apps_each - 1:
                    store.unverified.append(app_id)  # never verified: not for sale
                else:
                    api.verify(store.admin, app_id)
                    store.prices[app_id] = price
        # Drawn before any request, so the store is the same whatever order the threads
        # below register the buyers in.
        buyers = []  # (kind, username, credit grants)
        kinds = (("rich", rich, self.RICH_CREDIT), ("poor", poor, self.POOR_CREDIT))
        for kind, count, credit in kinds:
            for b in range(count):
                grants = [credit]
                if kind == "rich" and rng.random() < 0.3:
                    grants.append(rng.randint(1, 50))  # a second grant
                buyers.append((kind, f"{prefix}{kind}{b}", grants))

        def register(buyer: tuple[str, str, list[int]]) -> str:
            _kind, name, grants = buyer
            user_id = api.register(name)
            for amount in grants:
                api.grant(store.admin, user_id, amount)
            return api.token(name)

        with ThreadPoolExecutor(SET_UP_THREADS) as pool:
            tokens = list(pool.map(register, buyers))
        for (kind, _name, grants), token in zip(buyers, tokens, strict=True):
            getattr(store, kind).append(token)
            store.credit[token] = sum(grants)
        return store

    def plan(self, store: Store, per_rich=8, per_poor=4, repeats=20, seed=2) -> list[tuple]:
        """``(token, app_id)`` attempts, shuffled: every rich buyer's are distinct apps (all
        201), ``repeats`` of them asked again (409), and each poor buyer's all cost 10 or
        more (at most one 201 each, then 402)."""
        rng = random.Random(seed)
        apps = sorted(store.prices)
        dear = [app_id for app_id in apps if store.prices[app_id] >= 10]
        assert len(apps) >= per_rich
        assert len(dear) >= per_poor
        attempts = [(t, a) for t in store.rich for a in rng.sample(apps, per_rich)]
        attempts += rng.sample(attempts, repeats)
        attempts += [(t, a) for t in store.poor for a in rng.sample(dear, per_poor)]
        rng.shuffle(attempts)
        return attempts

    @staticmethod
    def expected(store: Store, attempts: list[tuple]) -> Outcome:
        """The answers ``attempts`` must get, and the credit they spend, in any order.

        The plan makes the order irrelevant, which is checked here: a buyer either can
        afford every app planned for them (then only a repeated pair is refused, 409, once),
        or can afford at most one of them at a time and repeats none (then the first
        affordable one sent is 201 and every other 402, whichever it is). So the answers
        can be worked out by going through the attempts in plan order.
        """
        planned: dict[str, list[int]] = {}
        for token, app_id in attempts:
            planned.setdefault(token, []).append(app_id)
        for token, apps in planned.items():
            prices = [store.prices[app_id] for app_id in set(apps)]
            credit = store.credit[token]
            if sum(prices) > credit:
                assert len(set(apps)) == len(apps), "a buyer short of credit repeats a pair"
                left = [credit - price for price in prices if price <= credit]
                assert all(rest < min(prices) for rest in left), "order would matter"
        credit, bought, outcome = dict(store.credit), set(), Outcome()
        for token, app_id in attempts:
            price = store.prices[app_id]
            if (token, app_id) in bought:
                status = 409
            elif credit[token] < price:
                status = 402
            else:
                status = 201
                bought.add((token, app_id))
                credit[token] -= price
                outcome.spent += price
            outcome.statuses[status] += 1
            outcome.attempts += 1
        return outcome

    def purchase(
        self,
        store: Store,
        attempts: list[tuple],
        threads: int = 8,
        outcome: Outcome | None = None,
    ) -> Outcome:
        """Send the attempts from ``threads`` threads; ``outcome`` fills in as they answer."""
        outcome = outcome or Outcome()
        lock = threading.Lock()
        work = iter(attempts)
        errors: list[BaseException] = []

        def buyer() -> None:
            try:
                while True:
                    with lock:
                        attempt = next(work, None)
                    if attempt is None:
                        return
                    token, app_id = attempt
                    status = self.api.purchase(token, app_id).status_code
                    with lock:
                        outcome.statuses[status] += 1
                        outcome.attempts += 1
                        if status == 201:
                            outcome.spent += store.prices[app_id]
            except BaseException as error:  # reported by the caller
                errors.append(error)

        pool = [threading.Thread(target=buyer, daemon=True) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join(COMMAND_SECONDS)
            if thread.is_alive():
                self.pipeline.fail(f"purchases still running after {COMMAND_SECONDS} s")
        if errors:
            raise errors[0]
        return outcome

    def edit(self, store: Store) -> None:
        """An AppUpdated (a new title) and an AppDeleted, after the purchases: the first
        developer's first two verified apps (they were created first)."""
        renamed, delisted = sorted(store.prices)[:2]
        owner = store.developers[0]
        self.api.call("PATCH", f"/api/v1/apps/{renamed}", owner, json={"title": "Renamed app"})
        self.api.call("DELETE", f"/api/v1/apps/{delisted}", owner, expect=(204,))

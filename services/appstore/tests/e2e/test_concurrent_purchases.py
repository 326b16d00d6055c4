"""Parallel purchases against a served Appstore on PostgreSQL: no lost or invented credit."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select

from appstore.models import App, Purchase, User

from .relay_fixtures import start_relay_fixture  # noqa: F401  (used by name)

PRICE = 7


def _buy(base_url: str, buyer: dict, app_id: int) -> int:
    with requests.post(
        f"{base_url}/api/v1/apps/{app_id}/purchase", headers=buyer["headers"], timeout=30
    ) as answer:
        return answer.status_code


def _in_parallel(calls) -> Counter:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return Counter(pool.map(lambda call: call(), calls))


def _total_credit(components) -> int:
    with components.db.transaction() as session:
        return session.scalar(select(func.sum(User.credit)))


def test_credit_for_ten_of_fifty_apps_buys_exactly_ten(api, components, live_server):
    owners = [api.user() for _ in range(5)]
    apps = [api.app(owners[i % 5], price=PRICE) for i in range(50)]
    buyer = api.user(credit=10 * PRICE)
    credit_before = _total_credit(components)

    statuses = _in_parallel([lambda app=app: _buy(live_server, buyer, app["id"]) for app in apps])

    assert statuses == {201: 10, 402: 40}
    assert api.balance(buyer) == 0
    assert sum(api.balance(owner) for owner in owners) == 10 * PRICE
    assert _total_credit(components) == credit_before
    with components.db.transaction() as session:
        assert session.scalar(select(func.count(Purchase.id))) == 10


def test_same_app_bought_twenty_times_at_once_is_bought_once(api, components, live_server):
    owner = api.user()
    app = api.app(owner, price=PRICE)
    buyer = api.user(credit=100 * PRICE)

    statuses = _in_parallel([lambda: _buy(live_server, buyer, app["id"]) for _ in range(20)])

    assert statuses == {201: 1, 409: 19}
    assert api.balance(buyer) == 99 * PRICE
    assert api.balance(owner) == PRICE


def test_users_buying_each_others_apps_at_once_never_deadlock(api, components, live_server):
    # Each pair buys the other's app at the same moment: row locks taken in id order keep
    # the two transactions from waiting on each other forever.
    pairs = [(api.user(credit=PRICE), api.user(credit=PRICE)) for _ in range(15)]
    calls = []
    for first, second in pairs:
        first_app, second_app = api.app(first, price=PRICE), api.app(second, price=PRICE)
        calls.append(lambda b=first, a=second_app: _buy(live_server, b, a["id"]))
        calls.append(lambda b=second, a=first_app: _buy(live_server, b, a["id"]))
    credit_before = _total_credit(components)

    statuses = _in_parallel(calls)

    assert statuses == {201: 30}
    assert all(api.balance(user) == PRICE for pair in pairs for user in pair)
    assert _total_credit(components) == credit_before


def test_same_idempotency_key_in_parallel_charges_once(api, components, live_server):
    owner = api.user()
    app = api.app(owner, price=PRICE)
    buyer = api.user(credit=PRICE)
    headers = {**buyer["headers"], "Idempotency-Key": "order-42"}

    def buy() -> tuple[int, int | None]:
        answer = requests.post(
            f"{live_server}/api/v1/apps/{app['id']}/purchase", headers=headers, timeout=30
        )
        return answer.status_code, answer.json().get("id")

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: buy(), range(10)))

    assert {status for status, _ in answers} == {201}
    assert len({purchase_id for _, purchase_id in answers}) == 1
    assert api.balance(buyer) == 0


class Observer:
    """Reads the store's figures over and over, each reading in one statement (one
    snapshot), while purchases and settlements run; keeps every reading."""

    def __init__(self, components, owner: dict, live_server: str) -> None:
        self.components = components
        self.owner = owner
        self.live_server = live_server
        self.readings: list[tuple[int, int, int, int]] = []
        self.owner_balances: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch)

    def __enter__(self) -> Observer:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _watch(self) -> None:
        figures = select(
            select(func.sum(User.credit)).scalar_subquery(),
            select(func.min(User.settled_credit)).scalar_subquery(),
            select(func.count(Purchase.id)).scalar_subquery(),
            select(func.coalesce(func.sum(App.purchases_count), 0)).scalar_subquery(),
        )
        me = f"{self.live_server}/api/v1/users/me"
        while not self._stop.is_set():
            with self.components.db.reading() as session:
                self.readings.append(tuple(session.execute(figures).one()))
            answer = requests.get(me, headers=self.owner["headers"], timeout=30)
            self.owner_balances.append(answer.json()["credit"])


def _settled(components, owner_id: int) -> tuple[int, int]:
    with components.db.reading() as session:
        return session.execute(
            select(
                select(User.settled_credit).where(User.id == owner_id).scalar_subquery(),
                select(func.count(Purchase.id))
                .where(Purchase.settled_at.is_(None))
                .scalar_subquery(),
            )
        ).one()


def test_one_hot_seller_conserves_credit_at_every_instant(
    api, components, live_server, start_relay
):
    # Every purchase pays one developer, as a hit app's would; two relays, each with its
    # settler, pay the earnings in while the purchases run.
    owner = api.user()
    apps = [api.app(owner, price=PRICE) for _ in range(10)]
    buyers = [api.user(credit=len(apps) * PRICE) for _ in range(16)]
    credit_before = _total_credit(components)
    calls = [
        lambda b=buyer, a=app: _buy(live_server, b, a["id"]) for app in apps for buyer in buyers
    ]
    relays = [start_relay(wait_leading=False), start_relay(wait_leading=False)]

    with Observer(components, owner, live_server) as observer:
        statuses = _in_parallel(calls[:32]) + _in_parallel(calls[32:])
        deadline = time.monotonic() + 30
        while _settled(components, owner["id"]) != (160 * PRICE, 0):
            assert time.monotonic() < deadline, [relay.describe() for relay in relays]
            time.sleep(0.05)

    assert statuses == {201: 160}
    assert all(relay.alive for relay in relays), [relay.describe() for relay in relays]
    assert len(observer.readings) > 10
    for total, lowest, purchases, counted in observer.readings:
        assert total == credit_before
        assert lowest >= 0
        assert counted == purchases
    assert observer.owner_balances == sorted(observer.owner_balances)
    assert api.balance(owner) == 160 * PRICE
    assert all(api.balance(buyer) == 0 for buyer in buyers)
    with components.db.reading() as session:
        settled_counts = session.scalars(select(App.settled_purchases)).all()
    assert settled_counts == [16] * len(apps)


def test_a_developer_spends_pending_earnings_while_settlers_run(
    api, components, live_server, start_relay
):
    # The developer's own purchases settle the developer's pending earnings in their
    # transactions, while the apps keep selling and two relays' settlers settle the same
    # entries: every purchase the shown balance covers goes through, none deadlocks.
    developer = api.user()
    own_apps = [api.app(developer, price=PRICE) for _ in range(2)]
    first_buyers = [api.user(credit=PRICE) for _ in range(10)]
    assert _in_parallel(
        [lambda b=buyer: _buy(live_server, b, own_apps[0]["id"]) for buyer in first_buyers]
    ) == {201: 10}
    assert api.balance(developer) == 10 * PRICE
    others = [api.app(api.user(), price=PRICE) for _ in range(10)]
    later_buyers = [api.user(credit=PRICE) for _ in range(20)]
    credit_before = _total_credit(components)
    relays = [start_relay(wait_leading=False), start_relay(wait_leading=False)]

    statuses = _in_parallel(
        [lambda a=app: _buy(live_server, developer, a["id"]) for app in others]
        + [lambda b=buyer: _buy(live_server, b, own_apps[1]["id"]) for buyer in later_buyers]
    )

    assert statuses == {201: 30}, [relay.describe() for relay in relays]
    assert api.balance(developer) == 20 * PRICE
    assert _total_credit(components) == credit_before
    deadline = time.monotonic() + 30
    while _settled(components, developer["id"])[1]:
        assert time.monotonic() < deadline, [relay.describe() for relay in relays]
        time.sleep(0.05)
    assert _settled(components, developer["id"]) == (20 * PRICE, 0)

"""Owners' earnings: pending after a purchase, settled by the settler, read exactly throughout."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from appstore.models import App, Purchase, User
from appstore.settlement import Settler, pending_age, settle, settle_all

from .helpers import buy


@pytest.fixture(scope="session", params=["postgres", "sqlite"])
def backend_url(request):
    """Settlement runs beside the relay on either backend: test it on both."""
    return request.getfixturevalue(f"{request.param}_url")


def stored(components, user_id: int) -> tuple[int, int]:
    """(settled credit, pending earnings) of a user, straight from the tables."""
    with components.db.reading() as session:
        settled = session.scalar(select(User.settled_credit).where(User.id == user_id))
        pending = session.scalar(
            select(func.coalesce(func.sum(Purchase.price), 0)).where(
                Purchase.owner_id == user_id, Purchase.settled_at.is_(None)
            )
        )
    return settled, pending


def counts(components) -> dict[int, tuple[int, int]]:
    """Per app: (stored settled count, true number of purchases)."""
    with components.db.reading() as session:
        settled = dict(session.execute(select(App.id, App.settled_purchases)).all())
        truth = dict(
            session.execute(select(Purchase.app_id, func.count()).group_by(Purchase.app_id)).all()
        )
    return {app: (settled[app], truth.get(app, 0)) for app in settled}


def test_a_purchase_leaves_the_owners_earnings_pending_and_visible(client, api, components):
    owner, buyer = api.user(), api.user(credit=100)
    app = api.app(owner, price=30)

    assert buy(client, buyer, app).status_code == 201

    assert stored(components, owner["id"]) == (0, 30)
    assert stored(components, buyer["id"]) == (70, 0)
    assert api.balance(owner) == 30
    seen = client.get(f"/api/v1/apps/{app['id']}", headers=buyer["headers"]).get_json()
    assert seen["purchases_count"] == 1


def test_settling_moves_earnings_into_balances_and_counts_once(client, api, components):
    owners = [api.user(), api.user()]
    apps = [api.app(owners[0], price=10), api.app(owners[0], price=0), api.app(owners[1], price=7)]
    buyers = [api.user(credit=100) for _ in range(3)]
    for buyer in buyers:
        for app in apps:
            assert buy(client, buyer, app).status_code == 201

    with components.db.engine.begin() as connection:
        done = settle(connection)
    with components.db.engine.begin() as connection:
        again = settle(connection)

    assert (done.entries, done.credits, done.owners, done.apps) == (9, 51, 2, 3)
    assert again.entries == 0
    assert stored(components, owners[0]["id"]) == (30, 0)
    assert stored(components, owners[1]["id"]) == (21, 0)
    assert [api.balance(owner) for owner in owners] == [30, 21]
    assert all(settled == truth == 3 for settled, truth in counts(components).values())
    listed = client.get("/api/v1/apps/", headers=buyers[0]["headers"]).get_json()
    assert [a["purchases_count"] for a in listed] == [3, 3, 3]


def test_a_batch_limit_settles_in_several_passes_with_nothing_lost(client, api, components):
    owner = api.user()
    apps = [api.app(owner, price=5) for _ in range(4)]
    buyer = api.user(credit=20)
    for app in apps:
        assert buy(client, buyer, app).status_code == 201

    assert settle_all(components.db.engine, batch_size=3) == 4

    assert stored(components, owner["id"]) == (20, 0)
    assert api.balance(owner) == 20


def test_a_rolled_back_settlement_leaves_the_entries_pending(client, api, components):
    owner, buyer = api.user(), api.user(credit=10)
    assert buy(client, buyer, api.app(owner, price=10)).status_code == 201

    def crash_before_the_commit():
        with components.db.engine.begin() as connection:
            settle(connection)
            raise RuntimeError("crash before the commit")

    with pytest.raises(RuntimeError):
        crash_before_the_commit()

    assert stored(components, owner["id"]) == (0, 10)
    assert settle_all(components.db.engine) == 1
    assert stored(components, owner["id"]) == (10, 0)


def test_a_developer_may_spend_earnings_not_yet_settled(client, api, components):
    developer, customer = api.user(credit=5), api.user(credit=40)
    assert buy(client, customer, api.app(developer, price=40)).status_code == 201
    other = api.app(api.user(), price=45)

    response = buy(client, developer, other)

    assert response.status_code == 201, response.get_json()
    assert stored(components, developer["id"]) == (0, 0)
    assert api.balance(developer) == 0


def test_a_refusal_names_the_balance_with_pending_earnings(client, api, components):
    developer, customer = api.user(credit=5), api.user(credit=40)
    assert buy(client, customer, api.app(developer, price=40)).status_code == 201

    response = buy(client, developer, api.app(api.user(), price=46))

    assert response.status_code == 402
    assert response.get_json()["message"].endswith("your balance is 45.")
    # The refusal rolled back the settlement it tried: nothing moved.
    assert stored(components, developer["id"]) == (5, 40)


def test_the_settler_loop_settles_what_arrives_and_stops_when_told(client, api, components):
    owner, buyer = api.user(), api.user(credit=30)
    app = api.app(owner, price=30)
    stop = threading.Event()
    settler = threading.Thread(
        target=Settler(components.db, interval=0.02).run, args=(stop.is_set,)
    )
    settler.start()
    try:
        assert buy(client, buyer, app).status_code == 201
        for _ in range(250):
            if stored(components, owner["id"]) == (30, 0):
                break
            threading.Event().wait(0.02)
    finally:
        stop.set()
        settler.join(timeout=5)

    assert not settler.is_alive()
    assert stored(components, owner["id"]) == (30, 0)
    with components.db.engine.connect() as connection:
        assert pending_age(connection) == 0


@pytest.mark.parametrize("backend_url", ["postgres"], indirect=True)
def test_concurrent_settlers_settle_each_entry_exactly_once(client, api, components):
    owners = [api.user() for _ in range(3)]
    apps = [api.app(owners[i % 3], price=1 + i) for i in range(12)]
    buyers = [api.user(credit=100) for _ in range(10)]
    for buyer in buyers:
        for app in apps:
            assert buy(client, buyer, app).status_code == 201

    def settle_in_small_batches(_):
        return settle_all(components.db.engine, batch_size=7)

    with ThreadPoolExecutor(max_workers=6) as pool:
        settled = sum(pool.map(settle_in_small_batches, range(6)))

    assert settled == 120
    for index, owner in enumerate(owners):
        earned = sum(10 * (1 + i) for i in range(12) if i % 3 == index)
        assert stored(components, owner["id"]) == (earned, 0)
    assert all(settled == truth == 10 for settled, truth in counts(components).values())

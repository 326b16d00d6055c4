"""Buying apps, idempotent retries, and the purchase records."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from .helpers import (
    assert_error,
    assert_recent,
    buy,
    grant,
    ids,
    pagination,
    parse_timestamp,
)

PURCHASES = "/api/v1/purchases/"
LINK = "https://apps.example.com/download"


@pytest.fixture
def shop(api):
    """An owner with a verified app at 30 credits and a buyer with 100."""
    owner = api.user()
    return {
        "owner": owner,
        "buyer": api.user(credit=100),
        "admin": api.user("admin"),
        "app": api.app(owner, price=30),
    }


def listed(client, who, **query) -> list[dict]:
    response = client.get(PURCHASES, query_string=query, headers=who["headers"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# Buying


def test_purchase_answers_the_purchase_and_moves_credit(client, api, shop):
    buyer, owner, app = shop["buyer"], shop["owner"], shop["app"]
    response = buy(client, buyer, app)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {
        "id",
        "app_id",
        "buyer_id",
        "price",
        "created_at",
        "access_link",
        "access_key",
    }
    assert isinstance(body["id"], int)
    assert body["app_id"] == app["id"]
    assert body["buyer_id"] == buyer["id"]
    assert body["price"] == 30
    assert body["access_link"] == LINK
    assert body["access_key"] == app["access_key"]
    assert_recent(body["created_at"])
    assert api.balance(buyer) == 70
    assert api.balance(owner) == 30
    assert (
        client.get(f"/api/v1/apps/{app['id']}", headers=buyer["headers"]).get_json()[
            "purchases_count"
        ]
        == 1
    )


def test_purchase_records_the_price_paid_at_the_time(client, api, shop):
    bought = buy(client, shop["buyer"], shop["app"]).get_json()
    client.patch(
        f"/api/v1/apps/{shop['app']['id']}", json={"price": 99}, headers=shop["owner"]["headers"]
    )
    again = client.get(f"{PURCHASES}{bought['id']}", headers=shop["buyer"]["headers"])
    assert again.get_json()["price"] == 30


def test_purchase_of_the_whole_balance_leaves_zero(client, api):
    owner, buyer = api.user(), api.user(credit=30)
    assert buy(client, buyer, api.app(owner, price=30)).status_code == 201
    assert api.balance(buyer) == 0
    assert api.balance(owner) == 30


def test_free_app_needs_no_credit(client, api):
    owner, buyer = api.user(), api.user()
    app = api.app(owner, price=0)
    response = buy(client, buyer, app)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["price"] == 0
    assert api.balance(buyer) == 0
    assert api.balance(owner) == 0
    assert [p["app_id"] for p in listed(client, buyer)] == [app["id"]]


def _unknown(api, client, owner):
    return {"id": 424242}


def _unverified(api, client, owner):
    return api.app(owner, verified=False)


def _delisted(api, client, owner):
    app = api.app(owner)
    assert client.delete(f"/api/v1/apps/{app['id']}", headers=owner["headers"]).status_code == 204
    return app


@pytest.mark.parametrize("make", [_unknown, _unverified, _delisted], ids=lambda f: f.__name__[1:])
def test_purchase_of_a_hidden_app_is_404(client, api, shop, make):
    app = make(api, client, shop["owner"])
    assert_error(buy(client, shop["buyer"], app), 404)
    assert api.balance(shop["buyer"]) == 100
    assert listed(client, shop["admin"]) == []


def test_purchase_of_own_app_is_403(client, api):
    owner = api.user(credit=100)
    app = api.app(owner, price=30)
    assert_error(buy(client, owner, app), 403)
    assert api.balance(owner) == 100
    assert listed(client, owner) == []


def test_second_purchase_is_409_and_charges_once(client, api, shop):
    first = buy(client, shop["buyer"], shop["app"])
    assert first.status_code == 201
    assert_error(buy(client, shop["buyer"], shop["app"]), 409)
    assert api.balance(shop["buyer"]) == 70
    assert api.balance(shop["owner"]) == 30
    assert ids(client.get(PURCHASES, headers=shop["admin"]["headers"])) == [first.get_json()["id"]]


def test_insufficient_credit_is_402_and_changes_nothing(client, api):
    owner, buyer, admin = api.user(), api.user(credit=29), api.user("admin")
    app = api.app(owner, price=30)
    body = assert_error(buy(client, buyer, app), 402)
    assert "30" in body["message"]
    assert api.balance(buyer) == 29
    assert api.balance(owner) == 0
    assert listed(client, buyer) == []
    assert listed(client, admin) == []
    seen = client.get(f"/api/v1/apps/{app['id']}", headers=buyer["headers"]).get_json()
    assert seen["purchases_count"] == 0
    assert "access_key" not in seen


# Idempotency-Key


def test_same_key_replays_the_purchase_and_charges_once(client, api, shop):
    first = buy(client, shop["buyer"], shop["app"], key="order-1")
    second = buy(client, shop["buyer"], shop["app"], key="order-1")
    assert first.status_code == 201
    assert second.status_code == 201
    assert second.get_json() == first.get_json()
    assert api.balance(shop["buyer"]) == 70
    assert api.balance(shop["owner"]) == 30
    assert len(listed(client, shop["admin"])) == 1


def test_a_new_key_for_an_owned_app_is_409(client, api, shop):
    assert buy(client, shop["buyer"], shop["app"], key="order-1").status_code == 201
    assert_error(buy(client, shop["buyer"], shop["app"], key="order-2"), 409)
    assert api.balance(shop["buyer"]) == 70


def test_same_key_replays_a_refusal_even_after_credit_arrives(client, api, shop):
    buyer, app = api.user(credit=5), shop["app"]
    first = assert_error(buy(client, buyer, app, key="retry-me"), 402)
    assert grant(client, shop["admin"], buyer, 100).status_code == 200
    second = assert_error(buy(client, buyer, app, key="retry-me"), 402)
    assert second == first
    assert api.balance(buyer) == 105
    assert listed(client, buyer) == []
    fresh = buy(client, buyer, app, key="another-key")
    assert fresh.status_code == 201
    assert api.balance(buyer) == 75


def test_same_key_replays_the_purchase_after_the_app_is_delisted(client, api, shop):
    first = buy(client, shop["buyer"], shop["app"], key="order-1")
    app_url = f"/api/v1/apps/{shop['app']['id']}"
    assert client.delete(app_url, headers=shop["owner"]["headers"]).status_code == 204
    again = buy(client, shop["buyer"], shop["app"], key="order-1")
    assert again.status_code == 201, again.get_json()
    assert again.get_json() == first.get_json()
    assert api.balance(shop["buyer"]) == 70


def test_same_key_for_another_app_is_409(client, api, shop):
    other_app = api.app(shop["owner"], price=10, title="Second")
    assert buy(client, shop["buyer"], shop["app"], key="order-1").status_code == 201
    assert_error(buy(client, shop["buyer"], other_app, key="order-1"), 409)
    assert api.balance(shop["buyer"]) == 70
    assert [p["app_id"] for p in listed(client, shop["buyer"])] == [shop["app"]["id"]]


@pytest.mark.parametrize("key", ["k" * 256, "k" * 1000, ""], ids=["256", "1000", "empty"])
def test_bad_idempotency_key_is_422(client, api, shop, key):
    response = buy(client, shop["buyer"], shop["app"], key=key)
    assert_error(response, 422)
    assert api.balance(shop["buyer"]) == 100


def test_idempotency_key_of_255_characters_is_fine(client, api, shop):
    first = buy(client, shop["buyer"], shop["app"], key="k" * 255)
    second = buy(client, shop["buyer"], shop["app"], key="k" * 255)
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] == second.get_json()["id"]


def test_buyers_use_the_same_key_independently(client, api, shop):
    other_buyer = api.user(credit=100)
    mine = buy(client, shop["buyer"], shop["app"], key="shared")
    theirs = buy(client, other_buyer, shop["app"], key="shared")
    assert mine.status_code == theirs.status_code == 201
    assert mine.get_json()["id"] != theirs.get_json()["id"]
    assert theirs.get_json()["buyer_id"] == other_buyer["id"]
    assert api.balance(shop["buyer"]) == api.balance(other_buyer) == 70
    assert api.balance(shop["owner"]) == 60


# Listing


@pytest.fixture
def market(api, client):
    """Two buyers and two apps: alice buys both, bob buys the first."""
    owner = api.user()
    first, second = api.app(owner, price=10, title="First"), api.app(owner, price=20, title="Two")
    alice, bob = api.user(credit=100), api.user(credit=100)
    bought = {}
    for name, buyer, app in (("a1", alice, first), ("b1", bob, first), ("a2", alice, second)):
        response = buy(client, buyer, app)
        assert response.status_code == 201
        bought[name] = response.get_json()
    return {
        "owner": owner,
        "first": first,
        "second": second,
        "alice": alice,
        "bob": bob,
        "bought": bought,
    }


def test_user_lists_only_own_purchases_newest_first(client, market):
    bought = market["bought"]
    alice = listed(client, market["alice"])
    assert [p["id"] for p in alice] == [bought["a2"]["id"], bought["a1"]["id"]]
    assert alice[0] == bought["a2"]
    assert [p["id"] for p in listed(client, market["bob"])] == [bought["b1"]["id"]]
    assert listed(client, market["owner"]) == []


def test_user_may_filter_by_own_buyer_id(client, market):
    alice = market["alice"]
    assert len(listed(client, alice, buyer_id=alice["id"])) == 2


def test_user_may_not_list_someone_elses_purchases(client, market):
    response = client.get(
        PURCHASES,
        query_string={"buyer_id": market["bob"]["id"]},
        headers=market["alice"]["headers"],
    )
    assert_error(response, 403)


@pytest.mark.parametrize("role", ["admin", "management", "service"])
def test_readers_list_every_purchase(client, api, market, role):
    reader = api.user(role)
    bought = market["bought"]
    response = client.get(PURCHASES, headers=reader["headers"])
    assert ids(response) == [bought["a2"]["id"], bought["b1"]["id"], bought["a1"]["id"]]
    assert pagination(response)["total"] == 3
    by_app = listed(client, reader, app_id=market["first"]["id"])
    assert [p["id"] for p in by_app] == [bought["b1"]["id"], bought["a1"]["id"]]
    by_buyer = listed(client, reader, buyer_id=market["bob"]["id"])
    assert [p["id"] for p in by_buyer] == [bought["b1"]["id"]]
    both = listed(client, reader, app_id=market["second"]["id"], buyer_id=market["bob"]["id"])
    assert both == []


def test_admin_sees_access_management_does_not(client, api, market):
    admin, management = api.user("admin"), api.user("management")
    for purchase in listed(client, admin):
        assert purchase["access_link"] == LINK
        assert purchase["access_key"] in (
            market["first"]["access_key"],
            market["second"]["access_key"],
        )
    seen = listed(client, management)
    assert len(seen) == 3
    for purchase in seen:
        assert set(purchase) == {"id", "app_id", "buyer_id", "price", "created_at"}
    one = client.get(f"{PURCHASES}{market['bought']['a1']['id']}", headers=management["headers"])
    assert one.status_code == 200
    assert "access_key" not in one.get_json()
    assert "access_link" not in one.get_json()
    assert one.get_json()["price"] == 10


def test_listing_paginates(client, api, market):
    admin = api.user("admin")
    response = client.get(
        PURCHASES, query_string={"page_size": 2, "page": 2}, headers=admin["headers"]
    )
    assert ids(response) == [market["bought"]["a1"]["id"]]
    assert pagination(response)["total"] == 3
    assert pagination(response)["total_pages"] == 2
    assert pagination(response)["page"] == 2


def test_since_is_inclusive_and_until_exclusive(client, api, market):
    admin = api.user("admin")
    a1, b1, a2 = (market["bought"][name] for name in ("a1", "b1", "a2"))
    assert parse_timestamp(a1["created_at"]) < parse_timestamp(b1["created_at"])
    assert parse_timestamp(b1["created_at"]) < parse_timestamp(a2["created_at"])

    def window(**query):
        return [p["id"] for p in listed(client, admin, **query)]

    assert window(since=b1["created_at"]) == [a2["id"], b1["id"]]
    assert window(until=b1["created_at"]) == [a1["id"]]
    assert window(since=b1["created_at"], until=a2["created_at"]) == [b1["id"]]
    assert window(since=a2["created_at"], until=a2["created_at"]) == []
    later = (parse_timestamp(a2["created_at"]) + timedelta(seconds=1)).isoformat()
    assert window(since=later) == []
    assert window(until=later) == [a2["id"], b1["id"], a1["id"]]


def test_since_with_an_offset_is_converted_to_utc(client, api, market):
    admin = api.user("admin")
    b1 = market["bought"]["b1"]
    in_tokyo = parse_timestamp(b1["created_at"]).astimezone(timezone(timedelta(hours=9)))
    since = in_tokyo.isoformat()
    assert since.endswith("+09:00")
    assert [p["id"] for p in listed(client, admin, since=since)] == [
        market["bought"]["a2"]["id"],
        b1["id"],
    ]


def test_since_after_until_lists_nothing(client, api, market):
    admin = api.user("admin")
    response = client.get(
        PURCHASES,
        query_string={"since": "2030-01-02T00:00:00Z", "until": "2000-01-01T00:00:00Z"},
        headers=admin["headers"],
    )
    assert response.status_code == 200
    assert response.json == []


def test_user_filters_apply_within_own_purchases(client, market):
    alice = market["alice"]
    mine = listed(client, alice, app_id=market["first"]["id"])
    assert [p["id"] for p in mine] == [market["bought"]["a1"]["id"]]


# One purchase


def test_get_own_purchase(client, market):
    a1 = market["bought"]["a1"]
    response = client.get(f"{PURCHASES}{a1['id']}", headers=market["alice"]["headers"])
    assert response.status_code == 200
    assert response.get_json() == a1


def test_someone_elses_purchase_is_404_for_a_user(client, market):
    b1 = market["bought"]["b1"]
    for who in ("alice", "owner"):
        response = client.get(f"{PURCHASES}{b1['id']}", headers=market[who]["headers"])
        assert_error(response, 404)


def test_admin_gets_any_purchase_with_access(client, api, market):
    admin = api.user("admin")
    b1 = market["bought"]["b1"]
    response = client.get(f"{PURCHASES}{b1['id']}", headers=admin["headers"])
    assert response.status_code == 200
    assert response.get_json() == b1


def test_unknown_purchase_is_404(client, api):
    admin = api.user("admin")
    assert_error(client.get(f"{PURCHASES}424242", headers=admin["headers"]), 404)


@pytest.mark.parametrize("path", [PURCHASES, f"{PURCHASES}1"])
def test_purchase_endpoints_need_a_token(client, market, path):
    assert_error(client.get(path), 401)

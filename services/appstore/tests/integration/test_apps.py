"""The catalogue: create, list, read, change, delist and verify apps (search: test_search.py)."""

from __future__ import annotations

import pytest

from .helpers import assert_error, assert_recent, buy, ids, pagination, parse_timestamp

APPS = "/api/v1/apps/"
LINK = "https://apps.example.com/download"


def new_app(**changes) -> dict:
    body = {
        "title": "Photo Editor",
        "description": "Edits photos.",
        "price": 30,
        "access_link": "https://photo.example.com/get",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def url(app: dict | int, suffix: str = "") -> str:
    app_id = app if isinstance(app, int) else app["id"]
    return f"{APPS}{app_id}{suffix}"


def delete(client, app, who):
    return client.delete(url(app), headers=who["headers"])


# Creating


def test_create_answers_the_new_unverified_app(client, api):
    owner = api.user()
    response = client.post(
        APPS, json=new_app(icon_url="https://photo.example.com/icon.png"), headers=owner["headers"]
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {
        "id",
        "title",
        "description",
        "price",
        "icon_url",
        "owner_id",
        "verified",
        "created_at",
        "updated_at",
        "purchases_count",
        "access_link",
        "access_key",
    }
    assert body["title"] == "Photo Editor"
    assert body["description"] == "Edits photos."
    assert body["price"] == 30
    assert body["icon_url"] == "https://photo.example.com/icon.png"
    assert body["owner_id"] == owner["id"]
    assert body["verified"] is False
    assert body["purchases_count"] == 0
    assert body["access_link"] == "https://photo.example.com/get"
    assert isinstance(body["access_key"], str)
    assert len(body["access_key"]) >= 32
    assert_recent(body["created_at"])
    assert_recent(body["updated_at"])


def test_each_app_gets_its_own_access_key(client, api):
    owner = api.user()
    keys = {
        client.post(APPS, json=new_app(), headers=owner["headers"]).get_json()["access_key"]
        for _ in range(3)
    }
    assert len(keys) == 3


def test_create_without_icon_has_null_icon(client, api):
    owner = api.user()
    body = client.post(APPS, json=new_app(), headers=owner["headers"]).get_json()
    assert body["icon_url"] is None


@pytest.mark.parametrize(
    "changes",
    [{"title": "x"}, {"title": "t" * 200}, {"price": 0}, {"price": 1_000_000}, {"description": ""}],
    ids=repr,
)
def test_create_accepts_values_at_the_limits(client, api, changes):
    owner = api.user()
    response = client.post(APPS, json=new_app(**changes), headers=owner["headers"])
    assert response.status_code == 201, response.get_json()
    for name, value in changes.items():
        assert response.get_json()[name] == value


@pytest.mark.parametrize(
    ("changes", "bad_field"),
    [
        pytest.param({"title": ""}, "title", id="title-empty"),
        pytest.param({"title": "t" * 201}, "title", id="title-201"),
        pytest.param({"price": -1}, "price", id="price-negative"),
        pytest.param({"price": 1_000_001}, "price", id="price-too-high"),
        pytest.param({"price": 2.5}, "price", id="price-float"),
        pytest.param({"price": 3.0}, "price", id="price-whole-float"),
        pytest.param({"price": "5"}, "price", id="price-string"),
        pytest.param({"price": True}, "price", id="price-bool"),
        pytest.param({"access_link": "ftp://x.example.com/app"}, "access_link", id="link-ftp"),
        pytest.param({"access_link": "javascript:alert(1)"}, "access_link", id="link-js"),
        pytest.param({"access_link": "not a url"}, "access_link", id="link-text"),
        pytest.param({"access_link": "https://x.example.com/" + "a" * 2048}, "access_link"),
        pytest.param({"icon_url": "data:image/png;base64,AAAA"}, "icon_url", id="icon-data"),
        pytest.param({"icon_url": "file:///etc/passwd"}, "icon_url", id="icon-file"),
        pytest.param({"verified": True}, "verified", id="unknown-verified"),
        pytest.param({"owner_id": 1}, "owner_id", id="unknown-owner_id"),
        pytest.param({"colour": "red"}, "colour", id="unknown-field"),
    ],
)
def test_create_validates_fields(client, api, changes, bad_field):
    owner = api.user()
    response = client.post(APPS, json=new_app(**changes), headers=owner["headers"])
    errors = assert_error(response, 422)["errors"]["json"]
    assert list(errors) == [bad_field]
    mine = client.get(APPS, query_string={"mine": "true"}, headers=owner["headers"])
    assert ids(mine) == []


@pytest.mark.parametrize("missing", ["title", "description", "price", "access_link"])
def test_create_requires_fields(client, api, missing):
    owner = api.user()
    response = client.post(APPS, json=new_app(**{missing: None}), headers=owner["headers"])
    assert list(assert_error(response, 422)["errors"]["json"]) == [missing]


# Listing


@pytest.fixture
def shelf(api, client):
    """An owner with a verified app, an unverified app and a delisted app; another user."""
    owner, other, admin = api.user(), api.user(), api.user("admin")
    listed = api.app(owner, title="Listed")
    pending = api.app(owner, title="Pending", verified=False)
    delisted = api.app(owner, title="Delisted")
    assert delete(client, delisted, owner).status_code == 204
    theirs = api.app(other, title="Theirs")
    theirs_pending = api.app(other, title="Theirs pending", verified=False)
    return {
        "owner": owner,
        "other": other,
        "admin": admin,
        "listed": listed,
        "pending": pending,
        "delisted": delisted,
        "theirs": theirs,
        "theirs_pending": theirs_pending,
    }


@pytest.mark.parametrize("who", ["owner", "other", "admin"])
def test_catalogue_lists_only_verified_listed_apps(client, shelf, who):
    response = client.get(APPS, headers=shelf[who]["headers"])
    assert ids(response) == [shelf["listed"]["id"], shelf["theirs"]["id"]]
    assert pagination(response)["total"] == 2
    assert all(app["verified"] for app in response.get_json())


def test_catalogue_with_verified_true_is_the_catalogue(client, shelf):
    response = client.get(
        APPS, query_string={"verified": "true"}, headers=shelf["other"]["headers"]
    )
    assert ids(response) == [shelf["listed"]["id"], shelf["theirs"]["id"]]


def test_mine_lists_own_apps_verified_or_not(client, shelf):
    response = client.get(APPS, query_string={"mine": "true"}, headers=shelf["owner"]["headers"])
    assert ids(response) == [shelf["listed"]["id"], shelf["pending"]["id"]]
    assert all("access_key" in app for app in response.get_json())


def test_mine_with_verified_false_is_the_own_review_queue(client, shelf):
    response = client.get(
        APPS, query_string={"mine": "true", "verified": "false"}, headers=shelf["owner"]["headers"]
    )
    assert ids(response) == [shelf["pending"]["id"]]


def test_admin_lists_the_unverified_apps(client, shelf):
    response = client.get(
        APPS, query_string={"verified": "false"}, headers=shelf["admin"]["headers"]
    )
    assert ids(response) == [shelf["pending"]["id"], shelf["theirs_pending"]["id"]]
    assert not any(app["verified"] for app in response.get_json())


@pytest.mark.parametrize("role", ["user", "management", "service"])
def test_unverified_list_is_for_admins_only(client, api, shelf, role):
    caller = shelf["owner"] if role == "user" else api.user(role)
    response = client.get(APPS, query_string={"verified": "false"}, headers=caller["headers"])
    assert_error(response, 403)


def test_catalogue_hides_access_from_non_buyers(client, shelf):
    listed = client.get(APPS, headers=shelf["other"]["headers"]).get_json()
    mine = next(app for app in listed if app["id"] == shelf["theirs"]["id"])
    foreign = next(app for app in listed if app["id"] == shelf["listed"]["id"])
    assert mine["access_key"] == shelf["theirs"]["access_key"]
    assert "access_key" not in foreign
    assert "access_link" not in foreign


def test_catalogue_paginates(client, api):
    owner = api.user()
    made = [api.app(owner, title=f"App {n}")["id"] for n in range(5)]
    first = client.get(APPS, query_string={"page_size": 2}, headers=owner["headers"])
    assert ids(first) == made[:2]
    assert pagination(first)["total"] == 5
    assert pagination(first)["total_pages"] == 3
    assert pagination(first)["page"] == 1
    second = client.get(APPS, query_string={"page": 2, "page_size": 2}, headers=owner["headers"])
    assert ids(second) == made[2:4]
    third = client.get(APPS, query_string={"page": 3, "page_size": 2}, headers=owner["headers"])
    assert ids(third) == made[4:]
    assert pagination(third)["page"] == 3
    too_big = client.get(APPS, query_string={"page_size": 101}, headers=owner["headers"])
    assert_error(too_big, 422)


# Reading one


def test_get_shows_access_to_owner_admin_and_buyer_only(client, api):
    owner, admin = api.user(), api.user("admin")
    buyer, stranger = api.user(credit=100), api.user(credit=100)
    app = api.app(owner, price=30)
    assert buy(client, buyer, app).status_code == 201
    for who in (owner, admin, buyer):
        body = client.get(url(app), headers=who["headers"]).get_json()
        assert body["access_link"] == LINK
        assert body["access_key"] == app["access_key"]
        assert body["purchases_count"] == 1
    seen = client.get(url(app), headers=stranger["headers"])
    assert seen.status_code == 200
    body = seen.get_json()
    assert "access_link" not in body
    assert "access_key" not in body
    assert body["id"] == app["id"]
    assert body["title"] == app["title"]
    assert body["price"] == 30
    assert body["purchases_count"] == 1
    assert body["verified"] is True


@pytest.mark.parametrize("state", ["pending", "delisted"])
def test_hidden_apps_are_404_except_for_owner_and_admin(client, shelf, state):
    app = shelf[state]
    assert_error(client.get(url(app), headers=shelf["other"]["headers"]), 404)
    for who in ("owner", "admin"):
        response = client.get(url(app), headers=shelf[who]["headers"])
        assert response.status_code == 200
        assert response.get_json()["id"] == app["id"]
        assert response.get_json()["access_key"] == app["access_key"]


def test_unknown_app_is_404(client, api):
    admin = api.user("admin")
    assert_error(client.get(url(424242), headers=admin["headers"]), 404)


# Changing


def test_owner_changes_an_app(client, api):
    owner = api.user()
    app = api.app(owner, price=10)
    changes = {
        "title": "Renamed",
        "description": "Better.",
        "price": 12,
        "access_link": "https://new.example.com/get",
        "icon_url": "https://new.example.com/icon.png",
    }
    response = client.patch(url(app), json=changes, headers=owner["headers"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    for name, value in changes.items():
        assert body[name] == value
    assert body["verified"] is True
    assert body["access_key"] == app["access_key"]
    assert body["created_at"] == app["created_at"]
    assert parse_timestamp(body["updated_at"]) > parse_timestamp(app["updated_at"])
    assert client.get(url(app), headers=owner["headers"]).get_json() == body


def test_patch_changes_only_the_fields_sent(client, api):
    owner = api.user()
    app = api.app(owner, price=10, icon_url="https://x.example.com/i.png")
    body = client.patch(url(app), json={"price": 11}, headers=owner["headers"]).get_json()
    assert body["price"] == 11
    assert body["title"] == app["title"]
    assert body["icon_url"] == "https://x.example.com/i.png"
    cleared = client.patch(url(app), json={"icon_url": None}, headers=owner["headers"])
    assert cleared.get_json()["icon_url"] is None


@pytest.mark.parametrize("who", ["other", "admin"])
def test_only_the_owner_may_patch(client, shelf, who):
    app = shelf["listed"]
    response = client.patch(url(app), json={"title": "Hijacked"}, headers=shelf[who]["headers"])
    assert_error(response, 403)
    assert client.get(url(app), headers=shelf["owner"]["headers"]).get_json()["title"] == "Listed"


def test_patch_of_someone_elses_unverified_app_is_404(client, shelf):
    response = client.patch(
        url(shelf["pending"]), json={"title": "x"}, headers=shelf["other"]["headers"]
    )
    assert_error(response, 404)


@pytest.mark.parametrize(
    "body",
    [{}, {"title": ""}, {"price": -1}, {"price": "5"}, {"access_link": "ftp://x"}, {"x": 1}],
    ids=repr,
)
def test_patch_validates(client, api, body):
    owner = api.user()
    app = api.app(owner)
    assert_error(client.patch(url(app), json=body, headers=owner["headers"]), 422)
    assert client.get(url(app), headers=owner["headers"]).get_json() == app


def test_patch_unknown_app_is_404(client, api):
    owner = api.user()
    response = client.patch(url(424242), json={"title": "x"}, headers=owner["headers"])
    assert_error(response, 404)


# Delisting


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_owner_or_admin_delists(client, api, who):
    owner, admin, buyer = api.user(), api.user("admin"), api.user(credit=50)
    app = api.app(owner, price=20)
    bought = buy(client, buyer, app).get_json()
    response = delete(client, app, {"owner": owner, "admin": admin}[who])
    assert response.status_code == 204
    assert response.get_data() == b""
    assert ids(client.get(APPS, headers=buyer["headers"])) == []
    assert_error(client.get(url(app), headers=buyer["headers"]), 404)
    assert_error(buy(client, api.user(credit=50), app), 404)
    kept = client.get(f"/api/v1/purchases/{bought['id']}", headers=buyer["headers"])
    assert kept.status_code == 200
    assert kept.get_json()["access_link"] == LINK
    assert kept.get_json()["access_key"] == app["access_key"]
    listed = client.get("/api/v1/purchases/", headers=buyer["headers"]).get_json()
    assert [p["id"] for p in listed] == [bought["id"]]
    assert listed[0]["access_key"] == app["access_key"]


def test_others_may_not_delist(client, shelf):
    assert_error(delete(client, shelf["listed"], shelf["other"]), 403)
    assert shelf["listed"]["id"] in ids(client.get(APPS, headers=shelf["other"]["headers"]))


def test_delete_unknown_app_is_404(client, api):
    admin = api.user("admin")
    assert_error(client.delete(url(424242), headers=admin["headers"]), 404)


# Verifying


def test_admin_verifies(client, api):
    owner, admin = api.user(), api.user("admin")
    app = api.app(owner, verified=False)
    response = client.post(url(app, "/verify"), headers=admin["headers"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["verified"] is True
    assert body["id"] == app["id"]
    assert body["owner_id"] == owner["id"]
    assert parse_timestamp(body["updated_at"]) > parse_timestamp(app["updated_at"])
    assert ids(client.get(APPS, headers=owner["headers"])) == [app["id"]]


@pytest.mark.parametrize("role", ["user", "management", "service"])
def test_only_admins_verify(client, api, role):
    owner = api.user()
    app = api.app(owner, verified=False)
    for caller in (owner, api.user(role)):
        assert_error(client.post(url(app, "/verify"), headers=caller["headers"]), 403)
    assert client.get(url(app), headers=owner["headers"]).get_json()["verified"] is False


def test_verify_unknown_app_is_404(client, api):
    admin = api.user("admin")
    assert_error(client.post(url(424242, "/verify"), headers=admin["headers"]), 404)


# Authentication


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("POST", "", new_app()),
        ("GET", "{id}", None),
        ("PATCH", "{id}", {"title": "x"}),
        ("DELETE", "{id}", None),
        ("POST", "{id}/verify", None),
        ("POST", "{id}/purchase", None),
    ],
)
def test_app_endpoints_need_a_token(client, api, method, suffix, body):
    owner = api.user()
    app = api.app(owner)
    response = client.open(APPS + suffix.format(id=app["id"]), method=method, json=body)
    assert_error(response, 401)
    assert client.get(url(app), headers=owner["headers"]).get_json() == app

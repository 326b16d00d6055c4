"""Accounts: /users/me, the user list, one user, credit grants and role changes."""

from __future__ import annotations

import jwt
import pytest
from sqlalchemy import select

from appstore.models import CreditGrant

from .helpers import assert_error, assert_recent, grant, ids, pagination

USERS = "/api/v1/users/"
ME = "/api/v1/users/me"
READERS = ["admin", "management", "service"]


def test_me_answers_the_callers_account(client, api):
    user = api.user(credit=42, name="carol")
    response = client.get(ME, headers=user["headers"])
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"id", "username", "email", "role", "credit", "created_at"}
    assert body["id"] == user["id"]
    assert body["username"] == "carol"
    assert body["email"] == "carol@example.com"
    assert body["role"] == "user"
    assert body["credit"] == 42
    assert_recent(body["created_at"])


@pytest.mark.parametrize("role", ["user", *READERS])
def test_me_shows_the_role(client, api, role):
    user = api.user(role)
    assert client.get(ME, headers=user["headers"]).get_json()["role"] == role


@pytest.mark.parametrize("role", READERS)
def test_list_users_for_readers(client, api, role):
    reader = api.user(role)
    others = [api.user() for _ in range(3)]
    response = client.get(USERS, headers=reader["headers"])
    assert ids(response) == sorted([reader["id"], *(u["id"] for u in others)])
    page = pagination(response)
    assert page["total"] == 4
    assert page["total_pages"] == 1
    assert page["page"] == 1
    assert all("password" not in u and "password_hash" not in u for u in response.get_json())


def test_list_users_paginates(client, api):
    admin = api.user("admin")
    everyone = [admin["id"], *(api.user()["id"] for _ in range(4))]
    first = client.get(USERS, query_string={"page_size": 2}, headers=admin["headers"])
    assert ids(first) == everyone[:2]
    assert pagination(first) == {
        "total": 5,
        "total_pages": 3,
        "first_page": 1,
        "last_page": 3,
        "page": 1,
        "next_page": 2,
    }
    last = client.get(USERS, query_string={"page": 3, "page_size": 2}, headers=admin["headers"])
    assert ids(last) == everyone[4:]
    assert pagination(last)["page"] == 3
    beyond = client.get(USERS, query_string={"page": 4, "page_size": 2}, headers=admin["headers"])
    assert ids(beyond) == []
    assert pagination(beyond)["total"] == 5


def test_list_users_page_size_100_is_the_limit(client, api):
    admin = api.user("admin")
    ok = client.get(USERS, query_string={"page_size": 100}, headers=admin["headers"])
    assert ok.status_code == 200
    too_big = client.get(USERS, query_string={"page_size": 101}, headers=admin["headers"])
    assert "page_size" in assert_error(too_big, 422)["errors"]["query"]


def test_list_users_refuses_plain_users(client, api):
    user = api.user()
    assert_error(client.get(USERS, headers=user["headers"]), 403)


def test_get_own_account(client, api):
    user = api.user(credit=7)
    response = client.get(f"{USERS}{user['id']}", headers=user["headers"])
    assert response.status_code == 200
    assert response.get_json() == client.get(ME, headers=user["headers"]).get_json()
    assert response.get_json()["credit"] == 7


def test_get_another_users_account_is_forbidden(client, api):
    user, other = api.user(), api.user()
    assert_error(client.get(f"{USERS}{other['id']}", headers=user["headers"]), 403)


@pytest.mark.parametrize("role", READERS)
def test_readers_get_any_account(client, api, role):
    reader, other = api.user(role), api.user(credit=3)
    response = client.get(f"{USERS}{other['id']}", headers=reader["headers"])
    assert response.status_code == 200
    assert response.get_json()["id"] == other["id"]
    assert response.get_json()["username"] == other["username"]
    assert response.get_json()["credit"] == 3


def test_unknown_account_is_404_for_admin(client, api):
    admin = api.user("admin")
    assert_error(client.get(f"{USERS}{admin['id'] + 1000}", headers=admin["headers"]), 404)


# Credit


def test_admin_grants_credit(client, api, components):
    admin, user = api.user("admin"), api.user()
    response = client.post(
        f"{USERS}{user['id']}/credit",
        json={"amount": 25, "note": "welcome bonus"},
        headers=admin["headers"],
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["id"] == user["id"]
    assert response.get_json()["credit"] == 25
    assert api.balance(user) == 25
    assert grant(client, admin, user, 1_000_000).get_json()["credit"] == 1_000_025
    assert grant(client, admin, user, 1).get_json()["credit"] == 1_000_026
    assert api.balance(user) == 1_000_026
    with components.db.transaction() as session:
        ledger = session.execute(
            select(CreditGrant.amount, CreditGrant.granted_by, CreditGrant.note)
            .where(CreditGrant.user_id == user["id"])
            .order_by(CreditGrant.id)
        ).all()
    assert [tuple(row) for row in ledger] == [
        (25, admin["id"], "welcome bonus"),
        (1_000_000, admin["id"], None),
        (1, admin["id"], None),
    ]


@pytest.mark.parametrize("amount", [0, -1, 1_000_001, 1.5, "10", True, None, [], {}], ids=repr)
def test_credit_amount_is_validated(client, api, amount):
    admin, user = api.user("admin"), api.user(credit=5)
    response = client.post(
        f"{USERS}{user['id']}/credit", json={"amount": amount}, headers=admin["headers"]
    )
    assert "amount" in assert_error(response, 422)["errors"]["json"]
    assert api.balance(user) == 5


def test_credit_needs_an_amount(client, api):
    admin, user = api.user("admin"), api.user()
    response = client.post(f"{USERS}{user['id']}/credit", json={}, headers=admin["headers"])
    assert "amount" in assert_error(response, 422)["errors"]["json"]


@pytest.mark.parametrize("role", ["user", "management", "service"])
def test_credit_is_for_admins_only(client, api, role):
    caller, user = api.user(role), api.user()
    for target in (user, caller):
        response = grant(client, caller, target, 10)
        assert_error(response, 403)
    assert api.balance(user) == 0
    assert api.balance(caller) == 0


def test_credit_for_an_unknown_user_is_404(client, api):
    admin = api.user("admin")
    assert_error(grant(client, admin, {"id": admin["id"] + 1000}, 10), 404)


# Roles


def test_admin_changes_a_role_and_new_tokens_carry_it(client, api):
    admin = api.user("admin")
    registered = client.post(
        "/api/v1/auth/register",
        json={"username": "dora", "email": "dora@example.com", "password": "dora's password"},
    ).get_json()
    response = client.post(
        f"{USERS}{registered['id']}/role", json={"role": "management"}, headers=admin["headers"]
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["role"] == "management"
    assert response.get_json()["id"] == registered["id"]

    token = client.post(
        "/api/v1/auth/token", json={"username": "dora", "password": "dora's password"}
    ).get_json()["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["role"] == "management"
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(ME, headers=headers).get_json()["role"] == "management"
    assert client.get(USERS, headers=headers).status_code == 200


@pytest.mark.parametrize("role", ["god", "", "Admin", None, 1, ["admin"]], ids=repr)
def test_role_must_be_known(client, api, role):
    admin, user = api.user("admin"), api.user()
    response = client.post(
        f"{USERS}{user['id']}/role", json={"role": role}, headers=admin["headers"]
    )
    assert "role" in assert_error(response, 422)["errors"]["json"]
    assert client.get(f"{USERS}{user['id']}", headers=admin["headers"]).get_json()["role"] == "user"


@pytest.mark.parametrize("role", ["user", "management", "service"])
def test_role_change_is_for_admins_only(client, api, role):
    caller = api.user(role)
    response = client.post(
        f"{USERS}{caller['id']}/role", json={"role": "admin"}, headers=caller["headers"]
    )
    assert_error(response, 403)
    assert client.get(ME, headers=caller["headers"]).get_json()["role"] == role


def test_role_change_for_an_unknown_user_is_404(client, api):
    admin = api.user("admin")
    response = client.post(
        f"{USERS}{admin['id'] + 1000}/role", json={"role": "user"}, headers=admin["headers"]
    )
    assert_error(response, 404)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", ME, None),
        ("GET", USERS, None),
        ("GET", f"{USERS}1", None),
        ("POST", f"{USERS}1/credit", {"amount": 5}),
        ("POST", f"{USERS}1/role", {"role": "admin"}),
    ],
)
def test_user_endpoints_need_a_token(client, api, method, path, body):
    api.user()
    assert_error(client.open(path, method=method, json=body), 401)

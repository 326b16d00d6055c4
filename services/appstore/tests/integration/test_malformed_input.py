"""Malformed input of any kind gets a 4xx in the error shape, never a 5xx.

Each test sets up one small world and sends it many bad requests, one subtest each: the
requests are refused, so they cannot disturb each other.
"""

from __future__ import annotations

import pytest

from .helpers import assert_client_error, assert_error

TEN_MB = 10 * 1024 * 1024
NUL = "a\u0000b"
HUGE = 10**30

# name: (method, path, who calls it)
BODY_ENDPOINTS = {
    "register": ("POST", "/api/v1/auth/register", None),
    "token": ("POST", "/api/v1/auth/token", None),
    "credit": ("POST", "/api/v1/users/{user}/credit", "admin"),
    "role": ("POST", "/api/v1/users/{user}/role", "admin"),
    "create_app": ("POST", "/api/v1/apps/", "owner"),
    "update_app": ("PATCH", "/api/v1/apps/{app}", "owner"),
}
VALID = {
    "register": {"username": "newbie", "email": "newbie@example.com", "password": "long enough"},
    "token": {"username": "newbie", "password": "long enough"},
    "credit": {"amount": 5, "note": "thanks"},
    "role": {"role": "management"},
    "create_app": {
        "title": "T",
        "description": "D",
        "price": 1,
        "access_link": "https://x.example.com/get",
        "icon_url": "https://x.example.com/icon.png",
    },
    "update_app": {
        "title": "T2",
        "description": "D2",
        "price": 2,
        "access_link": "https://y.example.com/get",
        "icon_url": "https://y.example.com/icon.png",
    },
}
REQUIRED = {
    "register": ["username", "email", "password"],
    "token": ["username", "password"],
    "credit": ["amount"],
    "role": ["role"],
    "create_app": ["title", "description", "price", "access_link"],
    "update_app": [],
}
INTEGER_FIELDS = {"amount", "price"}
NULLABLE_FIELDS = {"icon_url"}
STRING_FIELDS = [
    (name, field) for name, body in VALID.items() for field in body if field not in INTEGER_FIELDS
]
INTEGER_CASES = [
    (name, field) for name, body in VALID.items() for field in body if field in INTEGER_FIELDS
]
WRONG_FOR_STRING = [None, 1, 1.5, True, [], {}, ["a"], {"a": "b"}]
WRONG_FOR_INTEGER = [None, "5", "five", 1.5, 2.0, True, [], {}, [5], HUGE, -HUGE, -1, 2**63]

QUERY_ENDPOINTS = {
    "users": ("/api/v1/users/", "admin"),
    "apps": ("/api/v1/apps/", "owner"),
    "purchases": ("/api/v1/purchases/", "admin"),
}
# Every route with an id in its path, with a body it would accept.
ID_ENDPOINTS = [
    ("GET", "/api/v1/users/{id}", None),
    ("POST", "/api/v1/users/{id}/credit", {"amount": 5}),
    ("POST", "/api/v1/users/{id}/role", {"role": "user"}),
    ("GET", "/api/v1/apps/{id}", None),
    ("PATCH", "/api/v1/apps/{id}", {"title": "x"}),
    ("DELETE", "/api/v1/apps/{id}", None),
    ("POST", "/api/v1/apps/{id}/verify", None),
    ("POST", "/api/v1/apps/{id}/purchase", None),
    ("GET", "/api/v1/purchases/{id}", None),
]
BAD_IDS = ["0", "-1", "99999999999999999999", str(2**31), str(2**63), "abc", "1.0", "%00"]


@pytest.fixture
def world(api):
    admin = api.user("admin", credit=1000)
    owner = api.user(credit=100)
    return {"admin": admin, "owner": owner, "user": owner, "app": api.app(owner)}


def call(client, world, name, **kwargs):
    method, path, who = BODY_ENDPOINTS[name]
    path = path.format(user=world["owner"]["id"], app=world["app"]["id"])
    headers = dict(world[who]["headers"]) if who else {}
    headers.update(kwargs.pop("headers", {}))
    return client.open(path, method=method, headers=headers, **kwargs)


def field_errors(response, status=422) -> dict:
    """The per-field errors of a refusal, whatever the location (json, form, query)."""
    errors = assert_error(response, status)["errors"]
    assert len(errors) == 1, errors
    return next(iter(errors.values()))


def test_valid_bodies_are_accepted(client, world, subtests):
    """The control for the cases below: the valid bodies pass, so only the mutation fails."""
    for name in BODY_ENDPOINTS:
        with subtests.test(name):
            response = call(client, world, name, json=VALID[name])
            assert response.status_code in (200, 201), response.get_json()


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        pytest.param(b"{", 400, id="truncated"),
        pytest.param(b'{"a": 1,}', 400, id="trailing-comma"),
        pytest.param(b"{'a': 1}", 400, id="single-quotes"),
        pytest.param(b"\xff\xfe{}", 400, id="not-utf8"),
        pytest.param(b"[" * 100_000, 400, id="deeply-nested"),
        pytest.param(b'{"price": ' + b"9" * 5000 + b"}", 400, id="integer-of-5000-digits"),
        pytest.param(b"[]", 422, id="list"),
        pytest.param(b'[{"title": "x"}]', 422, id="list-of-objects"),
        pytest.param(b'"a string"', 422, id="string"),
        pytest.param(b"42", 422, id="number"),
        pytest.param(b"null", 422, id="null"),
        pytest.param(b"true", 422, id="true"),
        pytest.param(b"{}", 422, id="empty-object"),
    ],
)
def test_bad_json_bodies(client, world, subtests, payload, status):
    for name in BODY_ENDPOINTS:
        with subtests.test(name):
            response = call(client, world, name, data=payload, content_type="application/json")
            assert_error(response, status)


def test_bodies_of_another_type(client, world, subtests):
    body = b'{"username": "newbie"}'
    for content_type in ("text/plain", "application/xml", "multipart/form-data; boundary=x"):
        for name in BODY_ENDPOINTS:
            with subtests.test(name, content_type=content_type):
                assert_client_error(call(client, world, name, data=body, content_type=content_type))


def test_ten_megabyte_body_is_413(client, world, subtests):
    body = b'{"title": "' + b"a" * TEN_MB + b'"}'
    for name in BODY_ENDPOINTS:
        with subtests.test(name):
            response = call(client, world, name, data=body, content_type="application/json")
            assert_error(response, 413)
    with subtests.test("token-form"):
        response = client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "a" * TEN_MB, "password": "x"},
        )
        assert_error(response, 413)


@pytest.mark.parametrize(("name", "field"), STRING_FIELDS)
def test_wrong_types_for_string_fields(client, world, subtests, name, field):
    for value in WRONG_FOR_STRING:
        if value is None and field in NULLABLE_FIELDS:
            continue
        with subtests.test(value=value):
            response = call(client, world, name, json={**VALID[name], field: value})
            assert field in field_errors(response)


@pytest.mark.parametrize(("name", "field"), INTEGER_CASES)
def test_wrong_values_for_integer_fields(client, api, world, subtests, name, field):
    for value in WRONG_FOR_INTEGER:
        with subtests.test(value=value):
            response = call(client, world, name, json={**VALID[name], field: value})
            assert field in field_errors(response)
    assert api.balance(world["owner"]) == 100


def test_nul_characters_in_string_fields(client, world, subtests):
    for name, field in STRING_FIELDS:
        value = f"https://{NUL}.example.com/" if field in ("access_link", "icon_url") else NUL
        if field == "email":
            value = f"{NUL}@example.com"
        with subtests.test(name, field=field):
            response = call(client, world, name, json={**VALID[name], field: value})
            assert field in field_errors(response)


def test_lone_surrogates_in_string_fields(client, world, subtests):
    # JSON may escape half of a UTF-16 pair ("\ud800"); no database or hasher can take it.
    half = "a\ud800b"
    for name, field in STRING_FIELDS:
        value = f"https://{half}.example.com/" if field in ("access_link", "icon_url") else half
        if field == "email":
            value = f"someone@x{half}.example.com"
        with subtests.test(name, field=field):
            response = call(client, world, name, json={**VALID[name], field: value})
            assert 400 <= response.status_code < 500, response.get_data(as_text=True)


def test_megabyte_strings_are_refused(client, world, subtests):
    for name, field in STRING_FIELDS:
        with subtests.test(name, field=field):
            response = call(client, world, name, json={**VALID[name], field: "a" * 1_000_000})
            assert field in field_errors(response)


def test_missing_required_fields(client, world, subtests):
    for name, required in REQUIRED.items():
        for field in required:
            with subtests.test(name, field=field):
                body = {k: v for k, v in VALID[name].items() if k != field}
                assert field in field_errors(call(client, world, name, json=body))


def test_unknown_fields_are_refused(client, world, subtests):
    for name in BODY_ENDPOINTS:
        with subtests.test(name):
            response = call(client, world, name, json={**VALID[name], "is_admin": True})
            assert "is_admin" in field_errors(response)


def test_unknown_enum_values_are_refused(client, world, subtests):
    for role in ("god", "ADMIN", "root", "", " user", NUL):
        with subtests.test("role", value=role):
            assert "role" in field_errors(call(client, world, "role", json={"role": role}))
    for grant_type in ("client_credentials", "", NUL, "PASSWORD"):
        with subtests.test("grant_type", value=grant_type):
            response = client.post(
                "/api/v1/auth/token",
                data={"grant_type": grant_type, "username": "newbie", "password": "long enough"},
            )
            assert "grant_type" in field_errors(response)


# Query strings

BAD_PAGINATION = [
    {"page": "0"},
    {"page": "-1"},
    {"page": "abc"},
    {"page": "1.5"},
    {"page": ""},
    {"page": NUL},
    {"page_size": "0"},
    {"page_size": "-5"},
    {"page_size": "101"},
    {"page_size": "1000"},
    {"page_size": str(HUGE)},
    {"page_size": "abc"},
]


@pytest.mark.parametrize("endpoint", list(QUERY_ENDPOINTS))
def test_bad_pagination_is_422(client, world, subtests, endpoint):
    path, who = QUERY_ENDPOINTS[endpoint]
    for query in BAD_PAGINATION:
        with subtests.test(query=query):
            response = client.get(path, query_string=query, headers=world[who]["headers"])
            assert next(iter(query)) in field_errors(response)


@pytest.mark.parametrize("endpoint", list(QUERY_ENDPOINTS))
def test_huge_page_is_not_a_server_error(client, world, subtests, endpoint):
    path, who = QUERY_ENDPOINTS[endpoint]
    for page in (2**31, 2**63, 99999999999999999999, HUGE):
        with subtests.test(page=page):
            response = client.get(path, query_string={"page": page}, headers=world[who]["headers"])
            if response.status_code == 200:
                assert response.get_json() == []
            else:
                assert "page" in field_errors(response)


def test_huge_page_of_a_search_is_empty(client, world, subtests):
    for page in (2**31, 2**62, 2**63 - 1, 99999999999999999999, HUGE):
        with subtests.test(page=page):
            query = {"page": page, "q": "a", "page_size": 100}
            response = client.get(
                "/api/v1/apps/", query_string=query, headers=world["user"]["headers"]
            )
            if response.status_code == 200:
                assert response.get_json() == []
            else:
                assert "page" in field_errors(response)


BAD_CATALOGUE_QUERIES = [
    {"verified": "maybe"},
    {"verified": ""},
    {"verified": NUL},
    {"mine": "perhaps"},
    {"mine": "2"},
    {"q": NUL},
    {"q": "x" * 201},
]


def test_bad_catalogue_query_is_422(client, world, subtests):
    for who in ("owner", "admin"):
        for query in BAD_CATALOGUE_QUERIES:
            with subtests.test(who, query=query):
                response = client.get(
                    "/api/v1/apps/", query_string=query, headers=world[who]["headers"]
                )
                assert next(iter(query)) in field_errors(response)


BAD_PURCHASE_QUERIES = [
    {"app_id": "0"},
    {"app_id": "-1"},
    {"app_id": "abc"},
    {"app_id": "1.5"},
    {"app_id": str(HUGE)},
    {"app_id": str(-HUGE)},
    {"app_id": str(2**31)},
    {"buyer_id": "0"},
    {"buyer_id": "-1"},
    {"buyer_id": str(HUGE)},
    {"buyer_id": str(-HUGE)},
    {"buyer_id": "x"},
    {"since": "not-a-date"},
    {"since": "2024-13-01T00:00:00Z"},
    {"since": "2024-02-30"},
    {"since": NUL},
    {"since": "0001-01-01T00:00:00+01:00"},
    {"until": "9999-12-31T23:59:59-01:00"},
    {"until": "yesterday"},
    {"until": "1700000000"},
]


@pytest.mark.parametrize("who", ["admin", "user"])
def test_bad_purchase_query_is_422(client, world, subtests, who):
    for query in BAD_PURCHASE_QUERIES:
        with subtests.test(query=query):
            response = client.get(
                "/api/v1/purchases/", query_string=query, headers=world[who]["headers"]
            )
            assert next(iter(query)) in field_errors(response)


# Path ids


@pytest.mark.parametrize(("method", "path", "body"), ID_ENDPOINTS)
def test_bad_path_ids_are_404(client, world, subtests, method, path, body):
    for bad_id in BAD_IDS:
        with subtests.test(id=bad_id):
            response = client.open(
                path.format(id=bad_id), method=method, json=body, headers=world["admin"]["headers"]
            )
            assert_error(response, 404)


# Headers


def test_bad_idempotency_key_is_422(client, api, world, subtests):
    buyer = api.user(credit=100)
    for key in ("k" * 256, "", NUL, "tab\there", "esc\u001b"):
        with subtests.test(key=key[:20]):
            response = client.post(
                f"/api/v1/apps/{world['app']['id']}/purchase",
                headers={**buyer["headers"], "Idempotency-Key": key},
            )
            assert_error(response, 422)
    assert api.balance(buyer) == 100


def test_bad_authorization_headers_are_401(client, world, subtests):
    for authorization in (
        "Bearer",
        "Bearer  ",
        "Bearer a b c",
        "Bearer " + "a" * 100_000,
        f"Bearer {NUL}",
        "Bearer \u00e9\u00e8",
        "\u00e9",
        "Bearer " + world["owner"]["token"][:-10],
    ):
        with subtests.test(authorization=authorization[:30]):
            response = client.get("/api/v1/users/me", headers={"Authorization": authorization})
            assert_error(response, 401)

"""Registration, sign-in and the tokens: POST /auth/register, POST /auth/token, JWKS."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from appstore.models import User
from appstore.security.keys import SigningKey
from appstore.security.tokens import TokenService

from .helpers import assert_error, assert_recent

REGISTER = "/api/v1/auth/register"
TOKEN = "/api/v1/auth/token"
JWKS = "/.well-known/jwks.json"
ME = "/api/v1/users/me"
PASSWORD = "open sesame 42"


def register(client, username="alice", **fields):
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    body.update(fields)
    return client.post(REGISTER, json=body)


def sign_in(client, username="alice", password=PASSWORD):
    return client.post(TOKEN, json={"username": username, "password": password})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(header: dict, claims: dict, sign=lambda signing_input: b"") -> str:
    """A JWS in compact form, built by hand so any header or signature can be forged."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


# Registration


def test_register_answers_the_new_user(client):
    response = register(client, "alice", email="alice@example.org")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"id", "username", "email", "role", "credit", "created_at"}
    assert isinstance(body["id"], int)
    assert body["id"] > 0
    assert body["username"] == "alice"
    assert body["email"] == "alice@example.org"
    assert body["role"] == "user"
    assert body["credit"] == 0
    assert_recent(body["created_at"])
    assert PASSWORD not in response.get_data(as_text=True)


def test_register_stores_an_argon2_hash_not_the_password(client, components):
    user_id = register(client).get_json()["id"]
    with components.db.transaction() as session:
        stored = session.scalar(select(User.password_hash).where(User.id == user_id))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_registered_user_can_sign_in_and_read_itself(client):
    created = register(client).get_json()
    token = sign_in(client).get_json()["access_token"]
    me = client.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.get_json() == created


@pytest.mark.parametrize("clash", ["alice", "Alice", "ALICE"])
def test_register_refuses_a_taken_username_in_any_case(client, clash):
    assert register(client, "alice").status_code == 201
    response = register(client, clash, email="other@example.com")
    assert_error(response, 409)


def test_register_clash_keeps_the_first_account(client, api):
    first = register(client, "Alice").get_json()
    assert register(client, "alice").status_code == 409
    admin = api.user("admin")
    listed = client.get("/api/v1/users/", headers=admin["headers"]).get_json()
    assert [u["id"] for u in listed if u["username"].lower() == "alice"] == [first["id"]]


@pytest.mark.parametrize("username", ["abc", "a" * 40, "A.b-c_9"])
def test_register_accepts_usernames_at_the_limits(client, username):
    response = register(client, username, email="x@example.com")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["username"] == username


def test_register_accepts_a_password_of_eight_characters(client):
    assert register(client, password="12345678").status_code == 201
    assert sign_in(client, password="12345678").status_code == 200


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        pytest.param({"username": "ab"}, "username", id="username-too-short"),
        pytest.param({"username": "a" * 41}, "username", id="username-too-long"),
        pytest.param({"username": "bad name"}, "username", id="username-space"),
        pytest.param({"username": "bad/name"}, "username", id="username-slash"),
        pytest.param({"username": "émile"}, "username", id="username-non-ascii"),
        pytest.param({"username": "alice\n"}, "username", id="username-newline"),
        pytest.param({"username": "al@ce"}, "username", id="username-at"),
        pytest.param({"password": "1234567"}, "password", id="password-too-short"),
        pytest.param({"password": "x" * 1025}, "password", id="password-too-long"),
        pytest.param({"email": "not-an-email"}, "email", id="email-no-at"),
        pytest.param({"email": "alice@"}, "email", id="email-no-domain"),
        pytest.param({"email": ""}, "email", id="email-empty"),
        pytest.param({"role": "admin"}, "role", id="role-cannot-be-chosen"),
        pytest.param({"credit": 100}, "credit", id="credit-cannot-be-chosen"),
    ],
)
def test_register_validates_fields(client, fields, bad_field):
    body = {"username": "alice", "email": "alice@example.com", "password": PASSWORD, **fields}
    response = client.post(REGISTER, json=body)
    errors = assert_error(response, 422)["errors"]["json"]
    assert list(errors) == [bad_field]


@pytest.mark.parametrize("missing", ["username", "email", "password"])
def test_register_requires_every_field(client, missing):
    body = {"username": "alice", "email": "alice@example.com", "password": PASSWORD}
    del body[missing]
    errors = assert_error(client.post(REGISTER, json=body), 422)["errors"]["json"]
    assert list(errors) == [missing]


def test_register_refused_creates_nobody(client, api):
    assert register(client, "ab").status_code == 422
    admin = api.user("admin")
    listed = client.get("/api/v1/users/", headers=admin["headers"]).get_json()
    assert [u["username"] for u in listed] == [admin["username"]]


# Tokens


def test_token_from_json(client, components):
    register(client)
    response = sign_in(client)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == components.tokens.ttl_seconds == 3600
    assert body["access_token"].count(".") == 2


def test_token_from_oauth2_password_form(client):
    user = register(client).get_json()
    response = client.post(
        TOKEN,
        data={"grant_type": "password", "username": "alice", "password": PASSWORD, "scope": ""},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    me = client.get(ME, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.get_json()["id"] == user["id"]


def test_token_form_refuses_another_grant_type(client):
    register(client)
    response = client.post(
        TOKEN, data={"grant_type": "client_credentials", "username": "alice", "password": PASSWORD}
    )
    assert "grant_type" in assert_error(response, 422)["errors"]["form"]


@pytest.mark.parametrize("missing", ["username", "password"])
def test_token_requires_username_and_password(client, missing):
    body = {"username": "alice", "password": PASSWORD}
    del body[missing]
    assert missing in assert_error(client.post(TOKEN, json=body), 422)["errors"]["json"]


def test_token_refuses_bad_credentials_with_one_message(client):
    register(client)
    unknown = sign_in(client, username="nobody")
    wrong = sign_in(client, password="wrong password")
    first = assert_error(unknown, 401)
    second = assert_error(wrong, 401)
    assert first == second
    assert unknown.headers["WWW-Authenticate"].startswith("Bearer")
    assert "access_token" not in wrong.get_json()


def test_token_claims_verify_against_the_jwks(client):
    user = register(client).get_json()
    before = int(time.time())
    token = sign_in(client).get_json()["access_token"]
    after = int(time.time())

    jwks = client.get(JWKS)
    assert jwks.status_code == 200
    keys = jwks.get_json()["keys"]
    assert len(keys) == 1
    jwk = keys[0]
    assert jwk["kty"] == "RSA"
    assert jwk["alg"] == "RS256"
    assert jwk["use"] == "sig"
    assert "d" not in jwk  # no private part

    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    assert header["kid"] == jwk["kid"]
    claims = jwt.decode(
        token, jwt.PyJWK(jwk).key, algorithms=["RS256"], issuer="appstore", leeway=0
    )
    assert claims["sub"] == str(user["id"])
    assert claims["username"] == "alice"
    assert claims["role"] == "user"
    assert claims["iss"] == "appstore"
    assert before <= claims["iat"] <= after
    assert claims["exp"] == claims["iat"] + 3600


def test_a_token_signed_with_the_key_by_hand_is_accepted(client, api, components):
    """The positive control for the forgeries below: a well-formed token gets through."""
    user = api.user()
    token = jwt.encode(
        _claims(user),
        components.tokens.key.private_key,
        "RS256",
        {"kid": components.tokens.key.kid},
    )
    me = client.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.get_json()["id"] == user["id"]


def _claims(user: dict, **changes) -> dict:
    now = int(time.time())
    claims = {
        "sub": str(user["id"]),
        "username": user["username"],
        "role": "admin",
        "iss": "appstore",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _public_pem(components) -> bytes:
    return components.tokens.key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _rs256(components, claims) -> str:
    key = components.tokens.key
    return jwt.encode(claims, key.private_key, "RS256", headers={"kid": key.kid})


FORGERIES = {
    "none": lambda components, user: {},
    "empty-bearer": lambda components, user: {"Authorization": "Bearer "},
    "garbage": lambda components, user: {"Authorization": "Bearer not.a.token"},
    "random-text": lambda components, user: {"Authorization": "Bearer qwertyuiop"},
    "expired-issued": lambda components, user: {
        "Authorization": "Bearer "
        + TokenService(components.tokens.key, "appstore", -60).issue(user["id"], "x", "user")
    },
    "expired-signed": lambda components, user: {
        "Authorization": "Bearer "
        + _rs256(
            components, _claims(user, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
        )
    },
    "other-rsa-key": lambda components, user: {
        "Authorization": "Bearer "
        + TokenService(SigningKey(_other_key(), components.tokens.key.kid), "appstore", 600).issue(
            user["id"], user["username"], "admin"
        )
    },
    "alg-none": lambda components, user: {
        "Authorization": "Bearer " + compact({"alg": "none", "typ": "JWT"}, _claims(user))
    },
    "hs256-with-public-pem": lambda components, user: {
        "Authorization": "Bearer "
        + compact(
            {"alg": "HS256", "typ": "JWT", "kid": components.tokens.key.kid},
            _claims(user),
            lambda data: hmac.new(_public_pem(components), data, hashlib.sha256).digest(),
        )
    },
    "other-issuer": lambda components, user: {
        "Authorization": "Bearer " + _rs256(components, _claims(user, iss="someone-else"))
    },
    "no-sub": lambda components, user: {
        "Authorization": "Bearer " + _rs256(components, _claims(user, sub=None))
    },
    "no-role": lambda components, user: {
        "Authorization": "Bearer " + _rs256(components, _claims(user, role=None))
    },
    "no-exp": lambda components, user: {
        "Authorization": "Bearer " + _rs256(components, _claims(user, exp=None))
    },
    "sub-not-a-number": lambda components, user: {
        "Authorization": "Bearer " + _rs256(components, _claims(user, sub="alice"))
    },
    "tampered-payload": lambda components, user: {
        "Authorization": "Bearer " + _tamper(_rs256(components, _claims(user, role="user")))
    },
    "basic-scheme": lambda components, user: {
        "Authorization": "Basic " + base64.b64encode(f"{user['username']}:x".encode()).decode()
    },
    "token-without-scheme": lambda components, user: {"Authorization": user["token"]},
}


def _tamper(token: str) -> str:
    """Swap the payload for one claiming the admin role, keeping the signature."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    return f"{header}.{b64(json.dumps(claims).encode())}.{signature}"


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_refused_tokens_get_401(client, api, components, forgery):
    user = api.user()
    response = client.get(ME, headers=FORGERIES[forgery](components, user))
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_refused_token_does_not_reach_admin_endpoints(client, api, components):
    user = api.user()
    headers = FORGERIES["alg-none"](components, user)
    assert_error(client.get("/api/v1/users/", headers=headers), 401)
    assert_error(
        client.post(f"/api/v1/users/{user['id']}/credit", json={"amount": 5}, headers=headers),
        401,
    )
    assert api.balance(user) == 0

"""Who may read: the role matrix of every endpoint, bad tokens, and signing in."""

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

ENDPOINTS = [
    "/api/v1/stats/summary",
    "/api/v1/stats/timeseries",
    "/api/v1/stats/top-apps",
    "/api/v1/stats/top-developers",
    "/api/v1/stats/export.csv",
    "/api/v1/stats/apps",
    "/api/v1/stream",
]
#: Lookups of one app or developer: on an empty dashboard, 404 once the role may read.
LOOKUPS = ["/api/v1/apps/1", "/api/v1/developers/1"]
TOKEN = "/api/v1/auth/token"
#: Nothing listens there: the discard service's port, never bound on these machines.
NOWHERE = "http://127.0.0.1:9"


def get(stack, path: str, headers=None, **params):
    """Status and body; a stream is opened unbuffered and closed, so that it ends."""
    response = stack.client.get(path, headers=headers or {}, query_string=params, buffered=False)
    status = response.status_code
    body = response.get_data() if status != 200 else b""
    response.close()
    return status, body


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    ("role", "status"),
    [(None, 401), ("user", 403), ("service", 403), ("management", 200), ("admin", 200)],
)
def test_only_management_and_admin_may_read(postgres_stack, path, role, status):
    headers = postgres_stack.headers(role) if role else {}

    assert get(postgres_stack, path, headers)[0] == status


@pytest.mark.parametrize("path", LOOKUPS)
@pytest.mark.parametrize(
    ("role", "status"),
    [(None, 401), ("user", 403), ("service", 403), ("management", 404), ("admin", 404)],
)
def test_lookups_check_the_role_before_the_id(postgres_stack, path, role, status):
    headers = postgres_stack.headers(role) if role else {}

    assert get(postgres_stack, path, headers)[0] == status


def _claims(**overrides) -> dict:
    now = int(time.time())
    claims = {"sub": "1", "username": "x", "role": "admin", "iss": "appstore", "iat": now}
    return {**claims, "exp": now + 600, **overrides}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256_with_public_key(kid: str, public_pem: bytes) -> str:
    """The algorithm-confusion attack: HMAC keyed with the RSA public key. PyJWT refuses
    to make one, so it is signed by hand as an attacker would."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    signing_input = f"{header}.{_b64(json.dumps(_claims()).encode())}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def forged_tokens(appstore) -> dict[str, str]:
    key = appstore.tokens.key.private_key
    real = appstore.token("admin")
    kid = jwt.get_unverified_header(real)["kid"]
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # A user's real token, its payload rewritten to say admin, its signature kept.
    header, _payload, signature = appstore.token("user").split(".")
    promoted = _b64(json.dumps(_claims()).encode())
    no_role = {k: v for k, v in _claims().items() if k != "role"}
    return {
        "alg none": jwt.encode(_claims(), None, "none", headers={"kid": kid}),
        "HS256 keyed with the public key": _hs256_with_public_key(kid, public_pem),
        "unknown kid": jwt.encode(_claims(), stranger, "RS256", headers={"kid": "stranger"}),
        "known kid, another key": jwt.encode(_claims(), stranger, "RS256", headers={"kid": kid}),
        "no kid": jwt.encode(_claims(), key, "RS256"),
        "expired": appstore.expired_token("admin"),
        "another issuer": jwt.encode(_claims(iss="other"), key, "RS256", headers={"kid": kid}),
        "no role": jwt.encode(no_role, key, "RS256", headers={"kid": kid}),
        "payload changed": f"{header}.{promoted}.{signature}",
        "garbage": "not-a-token",
        "huge": "a" * 10_000,
    }


FORGERIES = [
    "alg none",
    "HS256 keyed with the public key",
    "unknown kid",
    "known kid, another key",
    "no kid",
    "expired",
    "another issuer",
    "no role",
    "payload changed",
    "garbage",
    "huge",
]


@pytest.mark.parametrize("forgery", FORGERIES)
def test_tokens_that_cannot_be_trusted_are_401(postgres_stack, token_appstore, forgery):
    token = forged_tokens(token_appstore)[forgery]

    status, body = get(postgres_stack, ENDPOINTS[0], {"Authorization": f"Bearer {token}"})
    stream_status, _ = get(postgres_stack, "/api/v1/stream", access_token=token)

    assert (status, stream_status) == (401, 401)
    assert json.loads(body)["code"] == 401


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer  ", "Token abc"])
def test_a_malformed_authorization_header_is_401(postgres_stack, header):
    response = postgres_stack.client.get(ENDPOINTS[0], headers={"Authorization": header})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json["status"] == "Unauthorized"


def test_only_the_stream_takes_the_token_from_the_query(postgres_stack):
    token = postgres_stack.appstore.token("management")

    assert get(postgres_stack, "/api/v1/stream", access_token=token)[0] == 200
    assert get(postgres_stack, ENDPOINTS[0], access_token=token)[0] == 401
    user_token = postgres_stack.appstore.token("user")
    assert get(postgres_stack, "/api/v1/stream", access_token=user_token)[0] == 403


def test_reads_are_503_while_the_appstore_keys_cannot_be_fetched(make_stack, token_appstore):
    stack = make_stack("postgres", "memory", appstore_url=NOWHERE)

    status, body = get(stack, ENDPOINTS[0], stack.headers("admin"))

    assert status == 503
    assert "keys" in json.loads(body)["message"]


def test_signing_in_through_the_dashboard_gives_a_token_it_accepts(postgres_stack):
    credentials = {"username": "management_account", "password": postgres_stack.appstore.password}
    answer = postgres_stack.client.post(TOKEN, json=credentials)

    assert answer.status_code == 200, answer.get_data(True)
    assert answer.json["token_type"] == "Bearer"
    assert answer.json["expires_in"] > 0
    assert answer.headers["Cache-Control"] == "no-store"
    bearer = {"Authorization": f"Bearer {answer.json['access_token']}"}
    assert get(postgres_stack, ENDPOINTS[0], bearer)[0] == 200


def test_a_user_can_sign_in_but_not_read(postgres_stack):
    credentials = {"username": "user_account", "password": postgres_stack.appstore.password}
    answer = postgres_stack.client.post(TOKEN, json=credentials)

    assert answer.status_code == 200
    bearer = {"Authorization": f"Bearer {answer.json['access_token']}"}
    assert get(postgres_stack, ENDPOINTS[0], bearer)[0] == 403


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "management_account", "password": "wrong password"},
        {"username": "nobody_at_all", "password": "a long enough password"},
    ],
)
def test_bad_credentials_are_the_appstores_401(postgres_stack, credentials):
    answer = postgres_stack.client.post(TOKEN, json=credentials)

    assert answer.status_code == 401
    assert answer.json["code"] == 401


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (json.dumps({"username": "x"}), "application/json", 422),
        (json.dumps({"username": 5, "password": []}), "application/json", 422),
        (json.dumps(["username", "password"]), "application/json", 422),
        ("{not json", "application/json", 400),
        ("[" * 100_000 + "]" * 100_000, "application/json", 413),
        ("1" * 5000, "application/json", 400),
        ("username=x&password=y", "text/plain", 422),
    ],
)
def test_a_malformed_sign_in_is_4xx(postgres_stack, body, content_type, status):
    answer = postgres_stack.client.post(TOKEN, data=body, content_type=content_type)

    assert answer.status_code == status, answer.get_data(True)


def test_signing_in_while_the_appstore_is_unreachable_is_503(make_stack):
    stack = make_stack("postgres", "memory", appstore_url=NOWHERE)

    answer = stack.client.post(TOKEN, json={"username": "management_account", "password": "x"})

    assert answer.status_code == 503
    assert answer.json["message"] == "The Appstore is unreachable."

"""TokenVerifier: which Appstore tokens are trusted and what they say."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from dashboard.auth import InvalidToken, KeySourceUnavailable, Principal, UnknownSigningKey


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _hs256_token(header: dict, payload: dict, secret: bytes) -> str:
    # Built by hand because PyJWT rightly refuses to use a PEM as an HMAC secret.
    signing_input = (
        f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(payload).encode())}"
    )
    signature = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def test_valid_token_gives_principal(verifier, issue_token):
    token = issue_token(sub="42", username="maria", role="management")

    assert verifier.verify(token) == Principal(user_id="42", username="maria", role="management")


def test_expired_token_is_invalid(verifier, issue_token):
    now = int(time.time())
    token = issue_token(iat=now - 3600, exp=now - 60)

    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(token)


def test_token_issued_in_the_future_is_invalid(verifier, issue_token):
    now = int(time.time())
    token = issue_token(iat=now + 3600, exp=now + 7200)

    with pytest.raises(InvalidToken):
        verifier.verify(token)


def test_wrong_issuer_is_invalid(verifier, issue_token):
    with pytest.raises(InvalidToken, match="issuer"):
        verifier.verify(issue_token(iss="someone-else"))


@pytest.mark.parametrize("claim", ["role", "sub", "exp", "iat", "iss"])
def test_missing_required_claim_is_invalid(verifier, issue_token, claim):
    with pytest.raises(InvalidToken, match=claim):
        verifier.verify(issue_token(**{claim: None}))


@pytest.mark.parametrize(
    ("claim", "value"),
    [("sub", 42), ("sub", ""), ("role", ["admin"]), ("role", ""), ("username", 7)],
)
def test_claim_of_wrong_type_is_invalid(verifier, issue_token, claim, value):
    with pytest.raises(InvalidToken):
        verifier.verify(issue_token(**{claim: value}))


def test_missing_username_gives_empty_username(verifier, issue_token):
    assert verifier.verify(issue_token(username=None)).username == ""


def test_alg_none_is_rejected(verifier, claims, current_key, jwks_endpoint):
    token = jwt.encode(claims(), None, algorithm="none", headers={"kid": current_key.kid})

    with pytest.raises(InvalidToken, match="algorithm"):
        verifier.verify(token)
    assert jwks_endpoint.calls == 0


def test_hs256_signed_with_public_key_pem_is_rejected(verifier, claims, current_key):
    public_pem = current_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    token = _hs256_token(
        {"alg": "HS256", "typ": "JWT", "kid": current_key.kid}, claims(), public_pem
    )

    with pytest.raises(InvalidToken, match="algorithm"):
        verifier.verify(token)


@pytest.mark.parametrize("alg", ["RS512", "PS256"])
def test_other_asymmetric_algorithms_are_rejected(verifier, claims, current_key, alg):
    token = jwt.encode(
        claims(), current_key.private_key, algorithm=alg, headers={"kid": current_key.kid}
    )

    with pytest.raises(InvalidToken, match="algorithm"):
        verifier.verify(token)


def test_signature_by_unpublished_key_is_invalid(verifier, issue_token, stranger_key):
    with pytest.raises(InvalidToken, match="Signature"):
        verifier.verify(issue_token(key=stranger_key))


def test_tampered_payload_is_invalid(verifier, issue_token, claims):
    header, _payload, signature = issue_token(role="user").split(".")
    forged_payload = _b64url(json.dumps(claims(role="admin")).encode())

    with pytest.raises(InvalidToken):
        verifier.verify(f"{header}.{forged_payload}.{signature}")


def test_token_without_kid_is_invalid(verifier, claims, current_key):
    token = jwt.encode(claims(), current_key.private_key, algorithm="RS256")

    with pytest.raises(InvalidToken, match="key id"):
        verifier.verify(token)


def test_unknown_kid_is_invalid(verifier, issue_token, next_key):
    with pytest.raises(UnknownSigningKey):
        verifier.verify(issue_token(key=next_key))


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "x" * 10_000, None, b"bytes"])
def test_garbage_is_invalid(verifier, token):
    with pytest.raises(InvalidToken):
        verifier.verify(token)


def test_unreachable_appstore_is_not_an_invalid_token(verifier, issue_token, jwks_endpoint):
    jwks_endpoint.down = True

    with pytest.raises(KeySourceUnavailable) as raised:
        verifier.verify(issue_token())
    assert not isinstance(raised.value, InvalidToken)

"""Rotating the signing key with an overlap: the old key's tokens work until they expire.

The Appstore restarted with a new ``APPSTORE_JWT_PRIVATE_KEY_FILE`` and the old key's public
half in ``APPSTORE_JWT_PREVIOUS_PUBLIC_KEY_FILE`` signs with the new key, accepts tokens of
both, and lists both in its JWKS, where other services (the Dashboard) find either by kid.
"""

from __future__ import annotations

import dataclasses

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from appstore.app import create_app
from appstore.bootstrap import bootstrap
from appstore.config import Settings
from appstore.security.keys import load_signing_key, write_private_key

from ..conftest import PASSWORD, auth

JWKS = "/.well-known/jwks.json"
ME = "/api/v1/users/me"


def write_public_half(private_path, path) -> None:
    private = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
    path.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


@pytest.fixture
def restarted(components):
    """Build the Appstore again, on the same database, with other key settings."""
    built = []

    def restart(**keys):
        parts = bootstrap(dataclasses.replace(components.settings, **keys))
        built.append(parts)
        return create_app(components=parts).test_client()

    yield restart
    for parts in built:
        parts.db.dispose()


def verify_with_jwks(client, token: str) -> dict:
    """What another service does: find the token's kid in the JWKS, check the signature."""
    keys = {jwk["kid"]: jwk for jwk in client.get(JWKS).get_json()["keys"]}
    kid = jwt.get_unverified_header(token)["kid"]
    return jwt.decode(token, jwt.PyJWK(keys[kid]).key, algorithms=["RS256"], issuer="appstore")


def test_tokens_of_the_old_key_stay_valid_while_it_is_listed_as_previous(api, restarted, tmp_path):
    old_key, new_key, old_public = (tmp_path / n for n in ("old.pem", "new.pem", "old.pub.pem"))
    write_private_key(old_key)
    write_private_key(new_key)
    write_public_half(old_key, old_public)
    before = restarted(jwt_private_key_file=old_key)
    user = api.user()
    old_token = before.post(
        "/api/v1/auth/token", json={"username": user["username"], "password": PASSWORD}
    ).get_json()["access_token"]
    old_kid = jwt.get_unverified_header(old_token)["kid"]

    during = restarted(jwt_private_key_file=new_key, jwt_previous_public_key_file=old_public)
    new_token = during.post(
        "/api/v1/auth/token", json={"username": user["username"], "password": PASSWORD}
    ).get_json()["access_token"]
    new_kid = jwt.get_unverified_header(new_token)["kid"]

    assert new_kid != old_kid
    assert [k["kid"] for k in during.get(JWKS).get_json()["keys"]] == [new_kid, old_kid]
    assert all("d" not in k for k in during.get(JWKS).get_json()["keys"])
    for token in (old_token, new_token):
        assert during.get(ME, headers=auth(token)).status_code == 200
        assert verify_with_jwks(during, token)["sub"] == str(user["id"])

    after = restarted(jwt_private_key_file=new_key)
    assert [k["kid"] for k in after.get(JWKS).get_json()["keys"]] == [new_kid]
    assert after.get(ME, headers=auth(old_token)).status_code == 401
    assert after.get(ME, headers=auth(new_token)).status_code == 200


def test_the_previous_key_may_be_given_as_the_old_private_key_file(tmp_path):
    old_key = tmp_path / "old.pem"
    write_private_key(old_key)
    settings = Settings.from_env(
        {
            "APPSTORE_DATA_DIR": str(tmp_path / "data"),
            "APPSTORE_JWT_PREVIOUS_PUBLIC_KEY_FILE": str(old_key),
        }
    )
    parts = bootstrap(settings)
    try:
        kids = [k["kid"] for k in parts.tokens.jwks()["keys"]]
    finally:
        parts.db.dispose()
    assert len(kids) == 2
    assert kids[1] == load_signing_key(old_key, tmp_path).kid

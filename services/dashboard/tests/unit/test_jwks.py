"""JwksKeySource: caching, rotation and protection of the Appstore from refetch floods."""

from __future__ import annotations

import pytest

from dashboard.auth import JwksKeySource, KeySourceUnavailable, UnknownSigningKey
from dashboard.auth.jwks import parse_jwks


def test_keys_are_fetched_once_and_cached(
    verifier, issue_token, jwks_endpoint, clock, cache_seconds
):
    for _ in range(3):
        verifier.verify(issue_token())
        clock.advance(cache_seconds / 10)

    assert jwks_endpoint.calls == 1
    assert jwks_endpoint.requested_urls == ["http://appstore.test/.well-known/jwks.json"]


def test_unknown_kid_refetches_once_and_verifies_after_rotation(
    verifier, issue_token, jwks_endpoint, current_key, next_key
):
    verifier.verify(issue_token())
    jwks_endpoint.keys = [current_key, next_key]

    principal = verifier.verify(issue_token(key=next_key))

    assert principal.user_id == "42"
    assert jwks_endpoint.calls == 2


def test_bogus_kids_within_window_do_not_refetch_again(
    key_source, jwks_endpoint, clock, current_key, min_refetch_seconds
):
    key_source.get_key(current_key.kid)
    with pytest.raises(UnknownSigningKey):
        key_source.get_key("bogus-0")
    assert jwks_endpoint.calls == 2

    for n in range(1, 50):
        clock.advance(min_refetch_seconds / 100)
        with pytest.raises(UnknownSigningKey):
            key_source.get_key(f"bogus-{n}")

    assert jwks_endpoint.calls == 2


def test_unknown_kid_refetches_again_after_window(
    key_source, jwks_endpoint, clock, current_key, min_refetch_seconds
):
    key_source.get_key(current_key.kid)
    with pytest.raises(UnknownSigningKey):
        key_source.get_key("bogus-1")
    clock.advance(min_refetch_seconds)
    with pytest.raises(UnknownSigningKey):
        key_source.get_key("bogus-2")

    assert jwks_endpoint.calls == 3


def test_cache_expiry_refetches(key_source, jwks_endpoint, clock, current_key, cache_seconds):
    key_source.get_key(current_key.kid)
    clock.advance(cache_seconds - 1)
    key_source.get_key(current_key.kid)
    assert jwks_endpoint.calls == 1

    clock.advance(1)
    key_source.get_key(current_key.kid)

    assert jwks_endpoint.calls == 2


def test_key_removed_from_jwks_stops_verifying_after_expiry(
    key_source, jwks_endpoint, clock, current_key, next_key, cache_seconds
):
    key_source.get_key(current_key.kid)
    jwks_endpoint.keys = [next_key]
    clock.advance(cache_seconds)

    with pytest.raises(UnknownSigningKey):
        key_source.get_key(current_key.kid)


def test_no_keys_at_all_is_unavailable_and_retries_are_spaced(
    key_source, jwks_endpoint, clock, min_refetch_seconds
):
    jwks_endpoint.down = True
    for _ in range(10):
        with pytest.raises(KeySourceUnavailable):
            key_source.get_key("key-1")
    assert jwks_endpoint.calls == 1

    jwks_endpoint.down = False
    clock.advance(min_refetch_seconds)

    assert key_source.get_key("key-1").key_id == "key-1"
    assert jwks_endpoint.calls == 2


def test_stale_keys_are_kept_while_appstore_is_down(
    key_source, jwks_endpoint, clock, current_key, cache_seconds
):
    key_source.get_key(current_key.kid)
    jwks_endpoint.down = True
    clock.advance(cache_seconds)

    assert key_source.get_key(current_key.kid).key_id == current_key.kid
    with pytest.raises(UnknownSigningKey):
        key_source.get_key("bogus")
    assert jwks_endpoint.calls == 2


def test_for_appstore_builds_jwks_url(jwks_endpoint, current_key):
    source = JwksKeySource.for_appstore("http://appstore.test:8000/", fetch=jwks_endpoint)

    source.get_key(current_key.kid)

    assert jwks_endpoint.requested_urls == ["http://appstore.test:8000/.well-known/jwks.json"]


def test_parse_jwks_keeps_only_rs256_signing_keys(current_key, next_key, stranger_key):
    private_jwk = {**stranger_key.public_jwk(), "kid": "leaked", "d": "AQAB"}
    document = {
        "keys": [
            current_key.public_jwk(),
            {**next_key.public_jwk(), "use": "enc"},
            {**next_key.public_jwk(), "kid": "rs512", "alg": "RS512"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {**next_key.public_jwk(), "kid": ""},
            {**next_key.public_jwk(), "kid": "broken", "n": "!!!"},
            private_jwk,
            "not-a-key",
        ]
    }

    assert list(parse_jwks(document)) == [current_key.kid]


@pytest.mark.parametrize("document", [None, [], {}, {"keys": "x"}, {"keys": []}])
def test_parse_jwks_rejects_documents_without_usable_keys(document):
    with pytest.raises(ValueError, match="JWKS"):
        parse_jwks(document)

"""Signing keys, a fake JWKS endpoint and a manual clock for the auth tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from dashboard.auth import JwksKeySource, TokenVerifier


@dataclass
class SigningKey:
    """An RSA key pair as the Appstore would hold it, with its key id."""

    kid: str
    private_key: rsa.RSAPrivateKey

    def public_jwk(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}


@dataclass
class FakeJwksEndpoint:
    """Serves whatever keys it currently holds and counts how often it was asked."""

    keys: list[SigningKey]
    down: bool = False
    requested_urls: list[str] = field(default_factory=list)

    def __call__(self, url: str) -> dict[str, Any]:
        self.requested_urls.append(url)
        if self.down:
            raise ConnectionError("appstore unreachable")
        return {"keys": [key.public_jwk() for key in self.keys]}

    @property
    def calls(self) -> int:
        return len(self.requested_urls)


@dataclass
class ManualClock:
    """A monotonic clock that only moves when told to."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def rsa_keys() -> list[rsa.RSAPrivateKey]:
    # Key generation is slow; three keys serve every test.
    return [_new_rsa_key() for _ in range(3)]


@pytest.fixture
def current_key(rsa_keys) -> SigningKey:
    return SigningKey("key-1", rsa_keys[0])


@pytest.fixture
def next_key(rsa_keys) -> SigningKey:
    return SigningKey("key-2", rsa_keys[1])


@pytest.fixture
def stranger_key(rsa_keys) -> SigningKey:
    """A key the Appstore never published."""
    return SigningKey("key-1", rsa_keys[2])


@pytest.fixture
def jwks_endpoint(current_key) -> FakeJwksEndpoint:
    return FakeJwksEndpoint(keys=[current_key])


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def cache_seconds() -> float:
    return 300


@pytest.fixture
def min_refetch_seconds() -> float:
    return 5.0


@pytest.fixture
def key_source(jwks_endpoint, clock, cache_seconds, min_refetch_seconds) -> JwksKeySource:
    return JwksKeySource(
        "http://appstore.test/.well-known/jwks.json",
        fetch=jwks_endpoint,
        cache_seconds=cache_seconds,
        min_refetch_seconds=min_refetch_seconds,
        clock=clock,
    )


@pytest.fixture
def verifier(key_source) -> TokenVerifier:
    return TokenVerifier(key_source)


@pytest.fixture
def claims() -> Callable[..., dict[str, Any]]:
    """Build Appstore-style claims; keyword arguments override or, as None, remove one."""

    def build(**overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        payload = {
            "sub": "42",
            "username": "maria",
            "role": "management",
            "iss": "appstore",
            "iat": now,
            "exp": now + 900,
        }
        payload.update(overrides)
        return {name: value for name, value in payload.items() if value is not None}

    return build


@pytest.fixture
def issue_token(current_key, claims) -> Callable[..., str]:
    """Sign claims with RS256 as the Appstore does, with ``current_key`` by default."""

    def issue(key: SigningKey | None = None, **overrides: Any) -> str:
        key = key or current_key
        return jwt.encode(
            claims(**overrides), key.private_key, algorithm="RS256", headers={"kid": key.kid}
        )

    return issue

"""Issuing and checking the RS256 access tokens both services accept."""

from __future__ import annotations

import functools
import time

import jwt

from appstore.errors import Unauthorized
from appstore.security.keys import SigningKey, VerifyingKey
from appstore.security.principal import Principal

VERIFIED_TOKENS_KEPT = 8192


class TokenService:
    """Signs tokens with the Appstore's key and verifies the ones it signed.

    During a key rotation, ``previous`` is the key that signed before: tokens it signed
    (named by their ``kid``) are still accepted until they expire, and the JWKS lists it
    beside the current key, so that other services accept them too.
    """

    def __init__(
        self,
        key: SigningKey,
        issuer: str,
        ttl_seconds: int,
        previous: VerifyingKey | None = None,
    ) -> None:
        self.key = key
        self.issuer = issuer
        self.ttl_seconds = ttl_seconds
        self._trusted = [key.public] + ([previous] if previous and previous.kid != key.kid else [])
        self._by_kid = {trusted.kid: trusted.public_key for trusted in self._trusted}
        # An RSA signature check costs more than the rest of a typical request's Python.
        # Clients send the same token many times, so a verified token is remembered with
        # its expiry; a failed check raises and is not remembered.
        self._verified = functools.lru_cache(maxsize=VERIFIED_TOKENS_KEPT)(self._decode)

    def issue(self, user_id: int, username: str, role: str) -> str:
        now = int(time.time())
        claims = {
            "sub": str(user_id),
            "username": username,
            "role": role,
            "iss": self.issuer,
            "iat": now,
            "exp": now + self.ttl_seconds,
        }
        return jwt.encode(claims, self.key.private_key, "RS256", headers={"kid": self.key.kid})

    def verify(self, token: str) -> Principal:
        """Return the caller a token names.

        Raises:
            Unauthorized: the token is malformed, signed by another key or algorithm,
                expired, or lacks a claim.
        """
        principal, expires = self._verified(token)
        if expires <= time.time():
            raise Unauthorized("Invalid token: Signature has expired")
        return principal

    def _decode(self, token: str) -> tuple[Principal, float]:
        try:
            # A token without a kid (or with one of neither key) is checked against the
            # current key, and fails there unless it signed it.
            kid = jwt.get_unverified_header(token).get("kid")
            claims = jwt.decode(
                token,
                self._by_kid.get(kid, self._trusted[0].public_key),
                algorithms=["RS256"],
                issuer=self.issuer,
                options={"require": ["sub", "role", "exp", "iat", "iss"]},
            )
            principal = Principal(
                int(claims["sub"]), str(claims.get("username", "")), claims["role"]
            )
            return principal, float(claims["exp"])
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            raise Unauthorized(f"Invalid token: {error}") from error

    def jwks(self) -> dict:
        return {"keys": [trusted.public_jwk() for trusted in self._trusted]}

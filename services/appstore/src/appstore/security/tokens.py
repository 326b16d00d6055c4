"""Issuing and checking the RS256 access tokens both services accept."""

from __future__ import annotations

import functools
import time

import jwt

from appstore.errors import Unauthorized
from appstore.security.keys import SigningKey
from appstore.security.principal import Principal

VERIFIED_TOKENS_KEPT = 8192


class TokenService:
    """Signs tokens with the Appstore's key and verifies the ones it signed."""

    def __init__(self, key: SigningKey, issuer: str, ttl_seconds: int) -> None:
        self.key = key
        self.issuer = issuer
        self.ttl_seconds = ttl_seconds
        self._public_key = key.private_key.public_key()
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
            claims = jwt.decode(
                token,
                self._public_key,
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
        return {"keys": [self.key.public_jwk()]}

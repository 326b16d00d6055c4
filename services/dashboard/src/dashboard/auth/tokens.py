"""Verification of the bearer tokens the Appstore issues."""

from __future__ import annotations

from typing import Any, Protocol

import jwt

from dashboard.auth.jwks import SIGNING_ALGORITHM
from dashboard.auth.principal import Principal
from dashboard.errors import InvalidToken

APPSTORE_ISSUER = "appstore"
REQUIRED_CLAIMS = ("exp", "iat", "iss", "sub", "role")
# Appstore tokens are a few hundred bytes; refusing giants early keeps parsing cheap.
MAX_TOKEN_LENGTH = 8192
DEFAULT_LEEWAY_SECONDS = 10


class KeySource(Protocol):
    """Anything that can look up a verification key by ``kid``, like ``JwksKeySource``."""

    def get_key(self, kid: str) -> jwt.PyJWK: ...


class TokenVerifier:
    """Checks Appstore JWTs and turns them into a ``Principal``.

    Only RS256 is accepted, whatever the token header claims, and only with a key the
    Appstore publishes under the token's ``kid``.

    Parameters:
        keys: where verification keys come from.
        issuer: the required ``iss`` claim.
        leeway_seconds: clock skew tolerated on ``exp`` and ``iat``.
    """

    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str = APPSTORE_ISSUER,
        leeway_seconds: float = DEFAULT_LEEWAY_SECONDS,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._leeway_seconds = leeway_seconds

    def verify(self, token: str) -> Principal:
        """Verify ``token`` and return the caller it identifies.

        Raises:
            InvalidToken: if the token is malformed, not RS256, signed with an unknown
                or wrong key, expired, issued in the future, from another issuer, or
                lacks ``exp``, ``iat``, ``sub`` or ``role``.
            KeySourceUnavailable: if no Appstore keys could be fetched to check it.
        """
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("token is empty, too long or not text")
        kid = self._trusted_kid(token)
        key = self._keys.get_key(kid)
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[SIGNING_ALGORITHM],
                issuer=self._issuer,
                leeway=self._leeway_seconds,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        return _principal_from_claims(claims)

    @staticmethod
    def _trusted_kid(token: str) -> str:
        # The header is unverified here; it only selects the key, and the algorithm is
        # pinned both here and in jwt.decode so it cannot choose how the key is used.
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"malformed token header: {exc}") from exc
        if header.get("alg") != SIGNING_ALGORITHM:
            raise InvalidToken(f"algorithm {header.get('alg')!r} is not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("token header has no key id")
        return kid


def _principal_from_claims(claims: dict[str, Any]) -> Principal:
    user_id, role = claims["sub"], claims["role"]
    username = claims.get("username", "")
    if not isinstance(user_id, str) or not user_id:
        raise InvalidToken("claim 'sub' must be a non-empty string")
    if not isinstance(role, str) or not role:
        raise InvalidToken("claim 'role' must be a non-empty string")
    if not isinstance(username, str):
        raise InvalidToken("claim 'username' must be a string")
    return Principal(user_id=user_id, username=username, role=role)

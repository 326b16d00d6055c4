"""The Appstore's public signing keys, fetched from its JWKS and cached by key id."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import jwt
import requests

from dashboard.errors import KeySourceUnavailable, UnknownSigningKey

log = logging.getLogger(__name__)

SIGNING_ALGORITHM = "RS256"
JWKS_PATH = "/.well-known/jwks.json"
# Short enough that a hung Appstore delays a request only briefly.
HTTP_TIMEOUT_SECONDS = (2.0, 3.0)
DEFAULT_MIN_REFETCH_SECONDS = 5.0

FetchJson = Callable[[str], Any]
Clock = Callable[[], float]


def fetch_json_over_http(url: str) -> Any:
    """GET ``url`` and return its decoded JSON body.

    Raises:
        requests.RequestException: on connection problems, timeouts or a non-2xx status.
        ValueError: if the body is not JSON.
    """
    response = requests.get(url, timeout=HTTP_TIMEOUT_SECONDS)
    response.raise_for_status()
    return response.json()


class JwksKeySource:
    """Signing keys by ``kid``, fetched from a JWKS URL and cached.

    Keys are fetched on first use and again once ``cache_seconds`` have passed. A token
    naming a ``kid`` the cache lacks triggers one immediate refetch, so a key rotation at
    the Appstore is picked up at once; such refetches happen at most once per
    ``min_refetch_seconds`` so that tokens with made-up ``kid`` values cannot turn every
    request into a call to the Appstore. Failed fetches are retried no more often either.
    When a fetch fails, the keys already held keep being used.

    Parameters:
        jwks_url: where the JWKS is served.
        fetch: callable taking a URL and returning the decoded JSON document.
        cache_seconds: how long fetched keys are trusted before a scheduled refetch.
        min_refetch_seconds: minimum spacing of unscheduled fetches.
        clock: monotonic time source, in seconds.
    """

    def __init__(
        self,
        jwks_url: str,
        *,
        fetch: FetchJson = fetch_json_over_http,
        cache_seconds: float = 300,
        min_refetch_seconds: float = DEFAULT_MIN_REFETCH_SECONDS,
        clock: Clock = time.monotonic,
    ) -> None:
        self.jwks_url = jwks_url
        self._fetch = fetch
        self._cache_seconds = cache_seconds
        self._min_refetch_seconds = min_refetch_seconds
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._failed_at: float | None = None
        self._unknown_kid_refetch_at: float | None = None
        # One lock for lookups and fetches: concurrent requests wait for a single fetch.
        self._lock = threading.Lock()

    @classmethod
    def for_appstore(
        cls,
        appstore_url: str,
        *,
        fetch: FetchJson = fetch_json_over_http,
        cache_seconds: float = 300,
    ) -> JwksKeySource:
        """Build a key source reading ``{appstore_url}/.well-known/jwks.json``."""
        return cls(appstore_url.rstrip("/") + JWKS_PATH, fetch=fetch, cache_seconds=cache_seconds)

    def get_key(self, kid: str) -> jwt.PyJWK:
        """Return the RS256 verification key with id ``kid``.

        Raises:
            UnknownSigningKey: if the JWKS, refetched when allowed, has no such key.
            KeySourceUnavailable: if no keys could be fetched at all.
        """
        with self._lock:
            now = self._clock()
            fetched_now = False
            if self._is_stale(now) and self._may_retry(now):
                self._refresh(now)
                fetched_now = True
            if not self._keys:
                raise KeySourceUnavailable(f"no signing keys available from {self.jwks_url}")
            if kid not in self._keys and not fetched_now and self._may_refetch_for_unknown(now):
                self._unknown_kid_refetch_at = now
                self._refresh(now)
            try:
                return self._keys[kid]
            except KeyError:
                raise UnknownSigningKey(f"no signing key with kid {kid!r}") from None

    def _is_stale(self, now: float) -> bool:
        return self._fetched_at is None or now - self._fetched_at >= self._cache_seconds

    def _may_retry(self, now: float) -> bool:
        return self._failed_at is None or now - self._failed_at >= self._min_refetch_seconds

    def _may_refetch_for_unknown(self, now: float) -> bool:
        last = self._unknown_kid_refetch_at
        return (last is None or now - last >= self._min_refetch_seconds) and self._may_retry(now)

    def _refresh(self, now: float) -> None:
        try:
            keys = parse_jwks(self._fetch(self.jwks_url))
        except Exception as exc:
            # Any failure of the injected fetch means the same thing here: keep what we have.
            self._failed_at = now
            log.warning("could not fetch signing keys from %s: %s", self.jwks_url, exc)
            return
        self._keys = keys
        self._fetched_at = now
        self._failed_at = None


def parse_jwks(document: Any) -> dict[str, jwt.PyJWK]:
    """Extract the RS256 signing keys of a JWKS document, by ``kid``.

    Entries without a ``kid``, of another key type or algorithm, meant for encryption,
    carrying private key material, or malformed are skipped.

    Raises:
        ValueError: if the document is not a JWKS or holds no usable key.
    """
    entries = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(entries, list):
        raise ValueError("not a JWKS document: no 'keys' list")
    keys: dict[str, jwt.PyJWK] = {}
    for entry in entries:
        if not _is_rs256_signing_entry(entry):
            continue
        try:
            keys[entry["kid"]] = jwt.PyJWK(entry, algorithm=SIGNING_ALGORITHM)
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            log.warning("skipping unusable JWKS entry %r: %s", entry.get("kid"), exc)
    if not keys:
        raise ValueError("JWKS holds no usable RS256 signing key")
    return keys


def _is_rs256_signing_entry(entry: Any) -> bool:
    return (
        isinstance(entry, Mapping)
        and isinstance(entry.get("kid"), str)
        and bool(entry["kid"])
        and entry.get("kty") == "RSA"
        and entry.get("use", "sig") == "sig"
        and entry.get("alg", SIGNING_ALGORITHM) == SIGNING_ALGORITHM
        # A private exponent in a published JWKS is a leak; never hold or use it.
        and "d" not in entry
    )

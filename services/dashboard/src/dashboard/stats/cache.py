"""The cache in front of the stats queries: Redis when configured, else in the process.

Answers are stored as the bytes sent to the client, under keys that hold the fold
``generation`` read at the start of the request. Every committed fold bumps the generation
in its own transaction, so after a fold no request can find an answer computed before it,
in this process or any other: the cache is never staler than the last folded batch, and
nothing has to be deleted. Entries of past generations simply expire.

A Redis that fails is treated as a miss (the answer is computed, logged, counted), so a
cache outage slows the Dashboard down but does not take it down; ``/readyz`` reports it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Protocol

import redis
from cachetools import TTLCache
from prometheus_client import Counter

log = logging.getLogger(__name__)

CACHE_REQUESTS = Counter(
    "dashboard_cache_requests", "Stats answers looked up in the cache.", ["result"]
)
CACHE_ERRORS = Counter(
    "dashboard_cache_errors", "Cache operations that failed (Redis unreachable or slow)."
)
#: Entries the in-process cache keeps per process, the least recently used dropped first.
MEMORY_ENTRIES = 512
REDIS_TIMEOUT_SECONDS = 0.5


class Store(Protocol):
    """Where cached answers live."""

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None: ...

    def ping(self) -> None: ...

    def close(self) -> None: ...


class MemoryStore:
    """Answers kept in this process, each for ``ttl_seconds``, thread-safe."""

    def __init__(self, ttl_seconds: int, max_entries: int = MEMORY_ENTRIES) -> None:
        self._entries: TTLCache[str, bytes] = TTLCache(max_entries, max(ttl_seconds, 1))
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._entries.get(key)

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        with self._lock:
            self._entries[key] = value

    def ping(self) -> None:
        """Always answers: the memory of this process is there."""

    def close(self) -> None:
        with self._lock:
            self._entries.clear()


class RedisStore:
    """Answers in Redis, shared by every process, each key under ``prefix``."""

    def __init__(self, url: str, prefix: str = "dashboard:") -> None:
        self._redis = redis.Redis.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            health_check_interval=30,
        )
        self._prefix = prefix

    def get(self, key: str) -> bytes | None:
        return self._redis.get(self._prefix + key)

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        self._redis.set(self._prefix + key, value, ex=ttl_seconds)

    def ping(self) -> None:
        self._redis.ping()

    def close(self) -> None:
        self._redis.close()


class AnswerCache:
    """Looks answers up by generation, endpoint and parameters; computes the misses.

    Parameters:
        store: where answers live.
        ttl_seconds: how long an answer is kept; 0 turns caching off.
    """

    def __init__(self, store: Store, ttl_seconds: int) -> None:
        self.store = store
        self._ttl_seconds = ttl_seconds

    def answer(
        self,
        generation: int,
        name: str,
        parameters: Mapping[str, object],
        compute: Callable[[], bytes],
    ) -> bytes:
        """Return the cached answer, or ``compute()`` it and keep it.

        Parameters:
            generation: the fold generation read at the start of the request.
            name: the endpoint.
            parameters: everything else the answer depends on, already normalised (aligned
                windows, not the raw query string), so that equal questions share a key.
            compute: makes the answer when it is not cached.
        """
        if self._ttl_seconds <= 0:
            CACHE_REQUESTS.labels("miss").inc()
            return compute()
        key = cache_key(generation, name, parameters)
        try:
            cached = self.store.get(key)
        except redis.RedisError as error:
            cached = None
            self._failed("get", error)
        if cached is not None:
            CACHE_REQUESTS.labels("hit").inc()
            return cached
        CACHE_REQUESTS.labels("miss").inc()
        value = compute()
        try:
            self.store.set(key, value, self._ttl_seconds)
        except redis.RedisError as error:
            self._failed("set", error)
        return value

    @staticmethod
    def _failed(operation: str, error: Exception) -> None:
        CACHE_ERRORS.inc()
        log.warning("cache %s failed, answering without the cache: %s", operation, error)


def cache_key(generation: int, name: str, parameters: Mapping[str, object]) -> str:
    """``stats:<generation>:<name>:<k=v&...>`` with the parameters in name order."""
    query = "&".join(f"{key}={parameters[key]}" for key in sorted(parameters))
    return f"stats:{generation}:{name}:{query}"

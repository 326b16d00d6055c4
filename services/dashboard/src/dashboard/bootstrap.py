"""The API's composition root: the parts a Dashboard API process needs, from its settings."""

from __future__ import annotations

from dataclasses import dataclass

import requests

from dashboard.appstore_client import AppstoreClient
from dashboard.auth import JwksKeySource, TokenVerifier
from dashboard.auth.jwks import FetchJson, fetch_json_over_http
from dashboard.config import Settings
from dashboard.freshness import HeadChecker
from dashboard.stats.cache import AnswerCache, MemoryStore, RedisStore, Store
from dashboard.stats.generation import GenerationWatcher
from dashboard.stats.progress import read_progress
from dashboard.stats.reading import Reader
from sqlstore import Database


@dataclass
class Components:
    """Everything the views use; one per process, shared by its threads.

    ``heartbeat_seconds`` spaces the comments that keep an idle event stream open.
    """

    settings: Settings
    db: Database
    reader: Reader
    tokens: TokenVerifier
    cache: AnswerCache
    watcher: GenerationWatcher
    appstore: requests.Session
    head_checker: HeadChecker
    heartbeat_seconds: float = 15.0

    def close(self) -> None:
        self.watcher.stop()
        self.head_checker.close()
        self.cache.store.close()
        self.appstore.close()
        self.reader.dispose()
        self.db.dispose()


def bootstrap(
    settings: Settings | None = None,
    *,
    fetch_jwks: FetchJson = fetch_json_over_http,
    cache_prefix: str = "dashboard:",
) -> Components:
    """Wire the database, token verifier, cache and generation watcher for ``settings``.

    Parameters:
        settings: configuration; read from the environment when omitted.
        fetch_jwks: how the Appstore's JWKS is fetched (HTTP by default).
        cache_prefix: the namespace of this deployment's keys in a shared Redis.
    """
    settings = settings or Settings.from_env()
    # The stats read through the reader's pool; the Database is for probes (and SQLite).
    db = Database(settings.database_url, pool_size=2)
    reader = Reader(db, settings.db_pool_size)
    keys = JwksKeySource.for_appstore(
        settings.appstore_url, fetch=fetch_jwks, cache_seconds=settings.jwks_cache_seconds
    )
    store: Store
    if settings.redis_url:
        store = RedisStore(settings.redis_url, cache_prefix)
    else:
        store = MemoryStore(settings.cache_ttl_seconds)
    return Components(
        settings=settings,
        db=db,
        reader=reader,
        tokens=TokenVerifier(keys),
        cache=AnswerCache(store, settings.cache_ttl_seconds),
        watcher=GenerationWatcher(lambda: read_progress(reader).generation),
        appstore=requests.Session(),
        head_checker=HeadChecker(db, _log_client(settings)),
    )


def _log_client(settings: Settings) -> AppstoreClient | None:
    """The Appstore's client for checking its log's head; ``None`` without an account."""
    if not (settings.service_username and settings.service_password):
        return None
    # Short: a request waits for this answer, and the head can be checked later instead.
    return AppstoreClient(
        settings.appstore_url, settings.service_username, settings.service_password, timeout=2.0
    )

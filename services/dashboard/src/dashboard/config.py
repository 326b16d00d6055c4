"""Dashboard settings, read once from environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

from dashboard.errors import ConfigError

EMBEDDED_BROKER_URL = "memory://"
DEFAULT_APPSTORE_URL = "http://127.0.0.1:8000"
DEFAULT_JWKS_CACHE_SECONDS = 300
# Answers are keyed by the fold generation, so the TTL only bounds what stale keys occupy.
DEFAULT_CACHE_TTL_SECONDS = 60
DEFAULT_DB_POOL_SIZE = 10
DEFAULT_FOLD_BATCH_MAX = 1000
DEFAULT_WORKER_THREADS = 4
# At least every 30 s, so that the API's `behind` is never older than that while idle.
DEFAULT_SYNC_INTERVAL_SECONDS = 15.0
# Longer than a message normally takes from the Appstore's commit to the worker's fold.
DEFAULT_HEAL_AFTER_SECONDS = 30.0
DEFAULT_WORKER_METRICS_PORT = 9103
DEFAULT_SERVE_WORKERS = 2
DEFAULT_SERVE_THREADS = 32
MASK = "****"

Number = TypeVar("Number", int, float)


def default_database_url() -> str:
    """Return the embedded SQLite URL: ``./.data/dashboard.db`` under the working directory.

    The path is made absolute so that the URL keeps pointing at the same file if the
    process changes directory later. Nothing is created here.
    """
    path = (Path.cwd() / ".data" / "dashboard.db").absolute()
    return f"sqlite:///{path.as_posix()}"


@dataclass(frozen=True, slots=True)
class Settings:
    """Effective configuration of one dashboard process.

    ``broker_url`` ``memory://`` selects the embedded in-process broker; ``redis_url``
    ``None`` selects the in-process cache.

    The worker's: ``fold_batch_max`` bounds the events folded in one transaction (``1``,
    one transaction per event, exists as the benchmarks' baseline only); ``worker_threads``,
    the default of ``dashboard worker --threads``;
    ``sync_interval_seconds`` spaces the gap-healing syncs (``0``: none), which also check
    the head of the Appstore's log; ``heal_after_seconds``, how long an event must have been
    missing before a sync folds it from the log rather than wait for it from the queue;
    ``worker_metrics_port`` serves its metrics (``0``: none). ``dashboard serve``'s:
    ``serve_workers`` and ``serve_threads``, the defaults of its options; ``assets_dir``,
    another ``node_modules`` for the page's libraries (``None``: the one beside the package).
    """

    database_url: str
    broker_url: str = EMBEDDED_BROKER_URL
    redis_url: str | None = None
    appstore_url: str = DEFAULT_APPSTORE_URL
    service_username: str | None = None
    service_password: str | None = None
    jwks_cache_seconds: int = DEFAULT_JWKS_CACHE_SECONDS
    cache_ttl_seconds: int = DEFAULT_CACHE_TTL_SECONDS
    db_pool_size: int = DEFAULT_DB_POOL_SIZE
    # DASHBOARD_FOLD_BATCH_MAX=1 is the benchmarks' baseline (bench/pipeline.py), kept for
    # comparing batching against; nothing runs with it.
    fold_batch_max: int = DEFAULT_FOLD_BATCH_MAX
    worker_threads: int = DEFAULT_WORKER_THREADS
    sync_interval_seconds: float = DEFAULT_SYNC_INTERVAL_SECONDS
    heal_after_seconds: float = DEFAULT_HEAL_AFTER_SECONDS
    worker_metrics_port: int = DEFAULT_WORKER_METRICS_PORT
    serve_workers: int = DEFAULT_SERVE_WORKERS
    serve_threads: int = DEFAULT_SERVE_THREADS
    assets_dir: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Build settings from environment variables.

        Parameters:
            environ: the variables to read; the process environment by default.

        Returns:
            Settings with defaults applied where a variable is unset or empty.

        Raises:
            ConfigError: a number is out of its range or not a number: a negative or
                fractional ``DASHBOARD_JWKS_CACHE_SECONDS`` or ``DASHBOARD_CACHE_TTL_SECONDS``,
                a negative ``DASHBOARD_SYNC_INTERVAL_SECONDS`` or
                ``DASHBOARD_HEAL_AFTER_SECONDS``, a ``DASHBOARD_DB_POOL_SIZE``,
                ``DASHBOARD_FOLD_BATCH_MAX``, ``DASHBOARD_WORKER_THREADS``,
                ``DASHBOARD_WORKERS`` or ``DASHBOARD_THREADS`` below 1, or a
                ``DASHBOARD_WORKER_METRICS_PORT`` that is no port.
        """

        def read(name: str) -> str | None:
            # An exported-but-empty variable is treated as unset, as shells make that easy.
            value = environ.get(name, "").strip()
            return value or None

        return cls(
            database_url=read("DASHBOARD_DATABASE_URL") or default_database_url(),
            broker_url=read("BROKER_URL") or EMBEDDED_BROKER_URL,
            redis_url=read("REDIS_URL"),
            appstore_url=(read("APPSTORE_URL") or DEFAULT_APPSTORE_URL).rstrip("/"),
            service_username=read("DASHBOARD_SERVICE_USERNAME"),
            service_password=read("DASHBOARD_SERVICE_PASSWORD"),
            jwks_cache_seconds=_non_negative_int(
                "DASHBOARD_JWKS_CACHE_SECONDS",
                read("DASHBOARD_JWKS_CACHE_SECONDS"),
                DEFAULT_JWKS_CACHE_SECONDS,
            ),
            cache_ttl_seconds=_non_negative_int(
                "DASHBOARD_CACHE_TTL_SECONDS",
                read("DASHBOARD_CACHE_TTL_SECONDS"),
                DEFAULT_CACHE_TTL_SECONDS,
            ),
            db_pool_size=_positive_int(
                "DASHBOARD_DB_POOL_SIZE", read("DASHBOARD_DB_POOL_SIZE"), DEFAULT_DB_POOL_SIZE
            ),
            fold_batch_max=_positive_int(
                "DASHBOARD_FOLD_BATCH_MAX", read("DASHBOARD_FOLD_BATCH_MAX"), DEFAULT_FOLD_BATCH_MAX
            ),
            worker_threads=_positive_int(
                "DASHBOARD_WORKER_THREADS", read("DASHBOARD_WORKER_THREADS"), DEFAULT_WORKER_THREADS
            ),
            sync_interval_seconds=_number(
                "DASHBOARD_SYNC_INTERVAL_SECONDS",
                read("DASHBOARD_SYNC_INTERVAL_SECONDS"),
                DEFAULT_SYNC_INTERVAL_SECONDS,
                kind=float,
                minimum=0,
                expected="a number of seconds, 0 or more",
            ),
            heal_after_seconds=_number(
                "DASHBOARD_HEAL_AFTER_SECONDS",
                read("DASHBOARD_HEAL_AFTER_SECONDS"),
                DEFAULT_HEAL_AFTER_SECONDS,
                kind=float,
                minimum=0,
                expected="a number of seconds, 0 or more",
            ),
            worker_metrics_port=_number(
                "DASHBOARD_WORKER_METRICS_PORT",
                read("DASHBOARD_WORKER_METRICS_PORT"),
                DEFAULT_WORKER_METRICS_PORT,
                minimum=0,
                maximum=65535,
                expected="a port number or 0",
            ),
            serve_workers=_positive_int(
                "DASHBOARD_WORKERS", read("DASHBOARD_WORKERS"), DEFAULT_SERVE_WORKERS
            ),
            serve_threads=_positive_int(
                "DASHBOARD_THREADS", read("DASHBOARD_THREADS"), DEFAULT_SERVE_THREADS
            ),
            assets_dir=read("DASHBOARD_ASSETS_DIR"),
        )

    def masked(self) -> dict[str, Any]:
        """Return the settings as a dict that is safe to print or log.

        The service password is replaced by a fixed mask and passwords embedded in
        URLs (database, broker, Redis) are masked; everything else is shown as is.
        """
        shown = {field.name: getattr(self, field.name) for field in fields(self)}
        if self.service_password is not None:
            shown["service_password"] = MASK
        for name in ("database_url", "broker_url", "redis_url", "appstore_url"):
            if shown[name] is not None:
                shown[name] = mask_url_password(shown[name])
        return shown


def mask_url_password(url: str) -> str:
    """Replace the password part of ``scheme://user:password@host/...`` with a mask.

    Splitting at the last ``@`` rather than parsing the authority means a password
    with an unescaped ``/`` or ``@`` is still hidden; at worst some of the host is
    masked along with it. A list of URLs joined by ``;`` (a broker's nodes) is masked
    URL by URL.
    """
    if ";" in url:
        return ";".join(mask_url_password(part) for part in url.split(";"))
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    userinfo, at, host_and_path = rest.rpartition("@")
    if not at:
        return url
    user, colon, _password = userinfo.partition(":")
    if not colon:
        return url
    return f"{scheme}://{user}:{MASK}@{host_and_path}"


def _non_negative_int(name: str, raw: str | None, default: int) -> int:
    return _number(name, raw, default, minimum=0, expected="a whole number of seconds, 0 or more")


def _positive_int(name: str, raw: str | None, default: int) -> int:
    return _number(name, raw, default, minimum=1, expected="a positive integer")


def _number(
    name: str,
    raw: str | None,
    default: Number,
    *,
    kind: type[Number] = int,
    minimum: Number,
    maximum: Number | None = None,
    expected: str,
) -> Number:
    """The one parser of numeric settings: ``raw`` as ``kind``, within the bounds.

    Raises:
        ConfigError: naming the variable and what it ``expected``.
    """
    if raw is None:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {expected}, got {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        raise ConfigError(f"{name} must be {expected}, got {raw!r}")
    return value

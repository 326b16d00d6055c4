"""Dashboard settings, read once from environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

EMBEDDED_BROKER_URL = "memory://"
DEFAULT_APPSTORE_URL = "http://127.0.0.1:8000"
DEFAULT_JWKS_CACHE_SECONDS = 300
# Answers are keyed by the fold generation, so the TTL only bounds what stale keys occupy.
DEFAULT_CACHE_TTL_SECONDS = 60
DEFAULT_DB_POOL_SIZE = 10
MASK = "****"


from dashboard.errors import ConfigError  # noqa: E402


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

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Build settings from environment variables.

        Parameters:
            environ: the variables to read; the process environment by default.

        Returns:
            Settings with defaults applied where a variable is unset or empty.

        Raises:
            ConfigError: if ``DASHBOARD_JWKS_CACHE_SECONDS`` or
                ``DASHBOARD_CACHE_TTL_SECONDS`` is not a non-negative integer, or
                ``DASHBOARD_DB_POOL_SIZE`` not a positive one.
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
    masked along with it.
    """
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
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer number of seconds, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got {value}")
    return value


def _positive_int(name: str, raw: str | None, default: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 1:
        raise ConfigError(f"{name} must be at least 1, got {value}")
    return value

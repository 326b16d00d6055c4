"""Settings read from the environment; the one place that knows variable names and defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlstore import normalize_database_url


def _default_data_dir(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("APPSTORE_DATA_DIR", ".data")).resolve()


@dataclass(frozen=True)
class Settings:
    """Everything the Appstore can be configured with.

    The embedded default (no variables set) keeps its SQLite database and signing key
    under ``./.data/`` and uses an in-process broker.
    """

    database_url: str
    data_dir: Path
    broker_url: str = "memory://"
    jwt_private_key_file: Path | None = None
    # During a key rotation: the old key, whose tokens are still accepted until they expire.
    jwt_previous_public_key_file: Path | None = None
    jwt_issuer: str = "appstore"
    token_ttl_seconds: int = 3600
    # "cheapest" exists for test suites, which register hundreds of users; never use it live.
    password_profile: str = "rfc9106-low-memory"
    max_body_bytes: int = 1024 * 1024
    db_pool_size: int = 10
    #: Failed sign-ins per username, and per client address; registrations per address.
    signin_limit: str = "5/minute"
    signin_address_limit: str = "30/minute"
    register_limit: str = "30/minute"
    #: Where the throttling counts live, shared by every API process; unset: in memory.
    redis_url: str | None = None
    #: Origins whose pages may call the API from a browser (CORS); empty: none.
    cors_origins: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (the process environment by default)."""
        env = os.environ if environ is None else environ
        data_dir = _default_data_dir(env)
        key_file = env.get("APPSTORE_JWT_PRIVATE_KEY_FILE")
        previous_key_file = env.get("APPSTORE_JWT_PREVIOUS_PUBLIC_KEY_FILE")
        return cls(
            database_url=normalize_database_url(
                env.get("APPSTORE_DATABASE_URL") or f"sqlite:///{data_dir}/appstore.db"
            ),
            data_dir=data_dir,
            broker_url=env.get("BROKER_URL") or "memory://",
            jwt_private_key_file=Path(key_file) if key_file else None,
            jwt_previous_public_key_file=Path(previous_key_file) if previous_key_file else None,
            token_ttl_seconds=int(env.get("APPSTORE_TOKEN_TTL_SECONDS", "3600")),
            password_profile=env.get("APPSTORE_PASSWORD_PROFILE", "rfc9106-low-memory"),
            max_body_bytes=int(env.get("APPSTORE_MAX_BODY_BYTES", str(1024 * 1024))),
            db_pool_size=int(env.get("APPSTORE_DB_POOL_SIZE", "10")),
            signin_limit=_limit(env, "APPSTORE_SIGNIN_LIMIT", "5/minute"),
            signin_address_limit=_limit(env, "APPSTORE_SIGNIN_ADDRESS_LIMIT", "30/minute"),
            register_limit=_limit(env, "APPSTORE_REGISTER_LIMIT", "30/minute"),
            redis_url=(env.get("REDIS_URL") or "").strip() or None,
            cors_origins=tuple(
                origin.strip().rstrip("/")
                for origin in env.get("APPSTORE_CORS_ORIGINS", "").split(",")
                if origin.strip()
            ),
        )


def _limit(env: Mapping[str, str], name: str, default: str) -> str:
    from appstore.throttling import check_limit

    return check_limit(name, env.get(name) or default)

"""The composition root: builds the parts a process needs from its settings."""

from __future__ import annotations

from dataclasses import dataclass

from appstore.config import Settings
from appstore.security.keys import load_previous_key, load_signing_key
from appstore.security.passwords import Passwords
from appstore.security.tokens import TokenService
from sqlstore import Database


@dataclass
class Components:
    settings: Settings
    db: Database
    passwords: Passwords
    tokens: TokenService


def bootstrap(settings: Settings | None = None) -> Components:
    """Wire the database, password hasher and token service for ``settings``."""
    settings = settings or Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = load_signing_key(settings.jwt_private_key_file, settings.data_dir)
    previous_file = settings.jwt_previous_public_key_file
    previous = load_previous_key(previous_file) if previous_file else None
    return Components(
        settings=settings,
        db=Database(settings.database_url, settings.db_pool_size),
        passwords=Passwords(settings.password_profile),
        tokens=TokenService(key, settings.jwt_issuer, settings.token_ttl_seconds, previous),
    )

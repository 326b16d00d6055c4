"""Authentication of dashboard callers with tokens issued by the Appstore."""

from dashboard.auth.jwks import JwksKeySource
from dashboard.auth.principal import DASHBOARD_READER_ROLES, Principal, require_role
from dashboard.auth.tokens import TokenVerifier
from dashboard.errors import (
    AuthError,
    Forbidden,
    InvalidToken,
    KeySourceUnavailable,
    UnknownSigningKey,
)

__all__ = [
    "DASHBOARD_READER_ROLES",
    "AuthError",
    "Forbidden",
    "InvalidToken",
    "JwksKeySource",
    "KeySourceUnavailable",
    "Principal",
    "TokenVerifier",
    "UnknownSigningKey",
    "require_role",
]

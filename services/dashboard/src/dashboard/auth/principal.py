"""Who a verified token speaks for, and the role check applied to it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from dashboard.errors import Forbidden

DASHBOARD_READER_ROLES = frozenset({"management", "admin"})


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller identified by a verified Appstore token."""

    user_id: str
    username: str
    role: str


def require_role(principal: Principal, allowed: Collection[str]) -> Principal:
    """Check that the caller's role is one of ``allowed``.

    Parameters:
        principal: the caller, as returned by ``TokenVerifier.verify``.
        allowed: the roles that may proceed, e.g. ``DASHBOARD_READER_ROLES``.

    Returns:
        The same principal, so the check can be used inline.

    Raises:
        Forbidden: if the role is not in ``allowed``.
    """
    if principal.role not in allowed:
        raise Forbidden(f"role {principal.role!r} may not access this resource")
    return principal

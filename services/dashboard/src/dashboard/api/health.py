"""Liveness and readiness probes: ready when the database (and Redis, when configured)
answer."""

from __future__ import annotations

from dashboard.api.access import components
from servicekit.health import probes


def _checks():
    parts = components()
    checks = {"database": parts.db.ping}
    if parts.settings.redis_url:
        checks["redis"] = parts.cache.store.ping
    return checks


blp = probes(_checks)

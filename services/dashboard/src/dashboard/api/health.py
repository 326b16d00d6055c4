"""Liveness and readiness probes for orchestrators and load balancers."""

from __future__ import annotations

from flask import Blueprint, jsonify

from dashboard.api.access import components

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz():
    """200 when the database (and Redis, when configured) answer; else 503 naming which."""
    parts = components()
    checks = {"database": parts.db.ping}
    if parts.settings.redis_url:
        checks["redis"] = parts.cache.store.ping
    states = {}
    for name, check in checks.items():
        try:
            check()
            states[name] = "ok"
        except Exception as error:  # any failure means "not ready"; say which and why
            states[name] = f"down: {type(error).__name__}: {error}"
    ready = all(state == "ok" for state in states.values())
    return jsonify(status="ok" if ready else "unavailable", checks=states), 200 if ready else 503

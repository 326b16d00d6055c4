"""Liveness and readiness probes for orchestrators and load balancers."""

from __future__ import annotations

from flask import Blueprint, jsonify

from appstore.api.access import components
from appstore.broker import check_broker

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz():
    parts = components()
    checks = {}
    for name, check in (
        ("database", parts.db.ping),
        ("broker", lambda: check_broker(parts.settings.broker_url)),
    ):
        try:
            check()
            checks[name] = "ok"
        except Exception as error:  # any failure means "not ready"; say which and why
            checks[name] = f"down: {type(error).__name__}: {error}"
    ready = all(state == "ok" for state in checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), 200 if ready else 503

"""Liveness and readiness probes: ready when the database and the broker answer."""

from __future__ import annotations

from appstore.api.access import components
from appstore.broker import check_broker
from servicekit.health import probes


def _checks():
    parts = components()
    return {
        "database": parts.db.ping,
        "broker": lambda: check_broker(parts.settings.broker_url),
    }


blp = probes(_checks)

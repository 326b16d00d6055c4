"""Liveness and readiness probes for orchestrators and load balancers."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, jsonify

#: Named checks; each raises when its dependency does not answer.
Checks = dict[str, Callable[[], object]]


def probes(checks: Callable[[], Checks]) -> Blueprint:
    """``/healthz`` (the process answers: 200) and ``/readyz`` (200 when every check passes,
    else 503 naming what is down and why).

    Parameters:
        checks: gives the checks for this request (they may depend on configuration).
    """
    blp = Blueprint("health", __name__)

    @blp.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @blp.get("/readyz")
    def readyz():
        states = {}
        for name, check in checks().items():
            try:
                check()
                states[name] = "ok"
            except Exception as error:  # any failure means "not ready"; say which and why
                states[name] = f"down: {type(error).__name__}: {error}"
        ready = all(state == "ok" for state in states.values())
        body = jsonify(status="ok" if ready else "unavailable", checks=states)
        return body, 200 if ready else 503

    return blp

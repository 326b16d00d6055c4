"""Request ids and the access log of a Flask application."""

from __future__ import annotations

import logging
import os
import re
import time

from flask import Flask, g, request

from servicekit import logs

HEADER = "X-Request-ID"
ACCESS_VARIABLE = "LOG_ACCESS"
# A caller's id is kept only if it is short and plain: it ends up in every log line.
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:-]{1,128}")

access_log = logging.getLogger("access")


def init_app(app: Flask) -> None:
    """Give every request an id, put it on its log lines and its response, log the request.

    The id is the caller's ``X-Request-ID`` when it is acceptable (so a trace crosses
    services), else 32 random hex digits. ``LOG_ACCESS=false`` turns the access lines off.
    """
    log_access = os.environ.get(ACCESS_VARIABLE, "true").strip().lower() not in (
        "0",
        "false",
        "no",
        "off",
    )

    @app.before_request
    def _begin() -> None:
        given = request.headers.get(HEADER)
        # Random bits as hex, the shape of a UUID's hex without building one.
        request_id = given if given and _ACCEPTABLE.fullmatch(given) else os.urandom(16).hex()
        g.request_id = request_id
        g.request_began = time.perf_counter()
        # The teardown of the thread's previous request cleared its fields.
        logs.bind(request_id=request_id)

    @app.after_request
    def _finish(response):
        request_id = g.get("request_id")
        if request_id is not None:
            response.headers[HEADER] = request_id
            if log_access and access_log.isEnabledFor(logging.INFO):
                method, path, status = request.method, request.path, response.status_code
                access_log.info(
                    "%s %s %s",
                    method,
                    path,
                    status,
                    extra={
                        "method": method,
                        "path": path,
                        "status": status,
                        "duration_ms": round((time.perf_counter() - g.request_began) * 1000, 2),
                    },
                )
        return response

    @app.teardown_request
    def _forget(_error) -> None:
        logs.clear()

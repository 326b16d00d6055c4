"""Request ids and the access log of a Flask application."""

from __future__ import annotations

import logging
import os
import re
import time
import uuid

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
    services), else a new UUID. ``LOG_ACCESS=false`` turns the access lines off.
    """
    log_access = os.environ.get(ACCESS_VARIABLE, "true").strip().lower() not in (
        "0",
        "false",
        "no",
        "off",
    )

    @app.before_request
    def _begin() -> None:
        given = request.headers.get(HEADER, "")
        g.request_id = given if _ACCEPTABLE.fullmatch(given) else uuid.uuid4().hex
        g.request_began = time.perf_counter()
        logs.clear()
        logs.bind(request_id=g.request_id)

    @app.after_request
    def _finish(response):
        request_id = g.get("request_id")
        if request_id is not None:
            response.headers[HEADER] = request_id
            if log_access:
                access_log.info(
                    "%s %s %s",
                    request.method,
                    request.path,
                    response.status_code,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": round((time.perf_counter() - g.request_began) * 1000, 2),
                    },
                )
        return response

    @app.teardown_request
    def _forget(_error) -> None:
        logs.clear()

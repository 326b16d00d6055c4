"""Prometheus metrics of the HTTP API, correct under gunicorn's several worker processes."""

from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "appstore_http_requests_total", "HTTP requests answered.", ["method", "endpoint", "status"]
)
LATENCY = Histogram(
    "appstore_http_request_duration_seconds",
    "Time from request start to response, by endpoint and status.",
    ["method", "endpoint", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


def init_app(app: Flask) -> None:
    """Time every request and serve ``/metrics``."""

    @app.before_request
    def _start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.pop("request_started", None)
        if started is not None:
            # The URL rule, not the path, keeps the label set small (no ids in labels).
            endpoint = request.url_rule.rule if request.url_rule else "<unmatched>"
            labels = (request.method, endpoint, str(response.status_code))
            REQUESTS.labels(*labels).inc()
            LATENCY.labels(*labels).observe(time.perf_counter() - started)
        return response

    app.add_url_rule("/metrics", "metrics", _metrics)


def _metrics() -> Response:
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

"""Prometheus metrics of a Flask API, correct under gunicorn's several worker processes."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

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

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


@dataclass(frozen=True)
class _Instruments:
    requests: Counter
    latency: Histogram
    # The labelled children, looked up once per label set: ``labels()`` checks, converts
    # and locks on every call, which cost as much as counting.
    children: dict = field(default_factory=dict)

    def child(self, labels: tuple[str, str, int]) -> tuple[Counter, Histogram]:
        found = self.children.get(labels)
        if found is None:
            names = (labels[0], labels[1], str(labels[2]))
            found = (self.requests.labels(*names), self.latency.labels(*names))
            self.children[labels] = found
        return found


# One set per namespace: a metric may be registered once per process, and tests build
# many applications in one process.
_instruments: dict[str, _Instruments] = {}
_lock = threading.Lock()


def _for(namespace: str) -> _Instruments:
    with _lock:
        if namespace not in _instruments:
            labels = ["method", "endpoint", "status"]
            _instruments[namespace] = _Instruments(
                Counter(f"{namespace}_http_requests_total", "HTTP requests answered.", labels),
                Histogram(
                    f"{namespace}_http_request_duration_seconds",
                    "Time from request start to response, by endpoint and status.",
                    labels,
                    buckets=LATENCY_BUCKETS,
                ),
            )
        return _instruments[namespace]


def init_app(app: Flask, namespace: str) -> None:
    """Count and time every request as ``<namespace>_http_*`` and serve ``/metrics``."""
    instruments = _for(namespace)

    @app.before_request
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.pop("metrics_started", None)
        if started is not None:
            # The URL rule, not the path, keeps the label set small (no ids in labels).
            rule = request.url_rule
            endpoint = rule.rule if rule else "<unmatched>"
            count, latency = instruments.child((request.method, endpoint, response.status_code))
            count.inc()
            latency.observe(time.perf_counter() - started)
        return response

    app.add_url_rule("/metrics", "metrics", exposition)


def exposition() -> Response:
    """This process's metrics, or every worker's summed when multiprocess mode is on."""
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

"""The worker's Prometheus metrics, and the HTTP server that exposes them.

Dramatiq runs several worker processes; counters and histograms are written in
prometheus_client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, set by
``dashboard worker`` before anything imports prometheus_client) and one server, a
Dramatiq fork process, sums them on one port. The fold-progress gauges are not kept per
process at all: the server reads them from ``fold_progress`` at each scrape, so they are
right whichever process folded last, and after a restart.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from dashboard.config import Settings
from dashboard.models import EVENTS_PROGRESS, FoldProgress, ProcessedEvent
from sqlstore import Database

EVENTS_FOLDED = Counter(
    "dashboard_events_folded", "Events folded into the projections.", ["event_type"]
)
EVENTS_DUPLICATE = Counter(
    "dashboard_events_duplicate",
    "Events received again after they had been folded: from the queue (a redelivery, a "
    "replay, or an event healed from the log that arrived after all) or from the log "
    "(folded from the queue while the healer read it).",
    ["source"],
)
EVENTS_HEALED = Counter(
    "dashboard_events_healed",
    "Events folded from the Appstore's log because the queue had not brought them within "
    "DASHBOARD_HEAL_AFTER_SECONDS.",
)
DEAD_LETTERED = Counter(
    "dashboard_events_dead_lettered", "Messages sent to the dead-letter queue.", ["reason"]
)
DEAD_LETTER_STORE_FAILURES = Counter(
    "dashboard_dead_letter_store_failures",
    "Dead letters that could not be copied into the database (still in the .XQ).",
)
FOLD_BATCH_SIZE = Histogram(
    "dashboard_fold_batch_size",
    "Events per fold transaction.",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
)
FOLD_SECONDS = Histogram(
    "dashboard_fold_seconds",
    "Seconds to fold and commit one batch.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


def record_fold(size: int, result, seconds: float) -> None:
    """Count one committed batch (the batcher's ``on_folded``)."""
    FOLD_BATCH_SIZE.observe(size)
    FOLD_SECONDS.observe(seconds)
    for event_type, count in result.by_type.items():
        EVENTS_FOLDED.labels(event_type).inc(count)
    if result.duplicates:
        EVENTS_DUPLICATE.labels("queue").inc(result.duplicates)


class FoldProgressCollector:
    """Gauges read from ``fold_progress`` at scrape time.

    - ``dashboard_last_sequence``: the highest sequence folded.
    - ``dashboard_contiguous_through``: every sequence up to this one is folded.
    - ``dashboard_gap_count``: sequences missing between the two.
    - ``dashboard_lag_seconds``: now minus the latest ``occurred_at`` folded.
    """

    def __init__(self, database: Database) -> None:
        self._database = database

    def collect(self):
        try:
            progress = self._read()
        except Exception:
            # An unreachable database must not break the scrape of the counters.
            return
        if progress is None:
            return
        last_sequence, contiguous, last_event_at, folded_beyond = progress
        gaps = max(0, last_sequence - contiguous - folded_beyond)
        yield GaugeMetricFamily(
            "dashboard_last_sequence", "Highest event sequence folded.", value=last_sequence
        )
        yield GaugeMetricFamily(
            "dashboard_contiguous_through",
            "Every sequence up to this one is folded.",
            value=contiguous,
        )
        yield GaugeMetricFamily(
            "dashboard_gap_count", "Sequences missing below the last folded.", value=gaps
        )
        if last_event_at is not None:
            lag = (datetime.now(UTC) - last_event_at).total_seconds()
            yield GaugeMetricFamily(
                "dashboard_lag_seconds", "Now minus the latest occurred_at folded.", value=lag
            )

    def _read(self):
        with self._database.reading() as session:
            row = session.execute(
                select(
                    FoldProgress.last_sequence,
                    FoldProgress.contiguous_through,
                    FoldProgress.last_event_at,
                ).where(FoldProgress.name == EVENTS_PROGRESS)
            ).one_or_none()
            if row is None:
                return None
            folded_beyond = session.scalar(
                select(func.count()).where(
                    ProcessedEvent.sequence > row.contiguous_through,
                    ProcessedEvent.sequence <= row.last_sequence,
                )
            )
            return row.last_sequence, row.contiguous_through, row.last_event_at, folded_beyond


def metrics_registry(database: Database) -> CollectorRegistry:
    """The registry the server exposes: every process's counters plus the progress gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
    registry.register(FoldProgressCollector(database))
    return registry


def serve_metrics() -> None:
    """Serve the metrics on ``DASHBOARD_WORKER_METRICS_PORT`` until the process is stopped.

    Run by Dramatiq as a fork process (``--fork-function``) of ``dashboard worker``, and
    only when that port is not 0.
    """
    settings = Settings.from_env()
    database = Database(settings.database_url, pool_size=1)
    start_http_server(settings.worker_metrics_port, registry=metrics_registry(database))
    while True:
        time.sleep(3600)

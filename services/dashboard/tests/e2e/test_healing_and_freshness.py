"""The healer heals what was lost and only that; the summary tells how far behind it is.

Every part real: the Appstore and its relay, RabbitMQ, ``dashboard worker`` (its healing
process checking the log every second), and the Dashboard's API in this process against
the same databases, asking the real Appstore for its log's head.
"""

from __future__ import annotations

import re
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from dashboard.app import create_app
from dashboard.config import Settings
from servicekit.testing import free_port

from .pipeline import PASSWORD
from .test_pipeline import lose_events_of_a_stopped_worker, wait_for

HEALED = re.compile(r"healed (\d+) events missing from the queue")
#: The acceptance's bound on how stale `behind` may be.
FRESH_SECONDS = 30


def healed(worker) -> int:
    return sum(int(found) for found in HEALED.findall(worker.log()))


def checked_head(pipeline) -> int | None:
    with pipeline.dashboard_engine.connect() as connection:
        return connection.scalar(text("SELECT sequence FROM log_head WHERE name = 'events'"))


def restart_worker(pipeline, **env: str):
    pipeline.stop_worker()
    return pipeline.start_worker(DASHBOARD_SYNC_INTERVAL_SECONDS="1", **env)


def scrape(port: int) -> dict[tuple, float]:
    """The worker's counters: ``{(name, labels...): value}``."""
    body = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return {
        (sample.name, *sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def healed_and_duplicates(port: int) -> tuple[float, float, float]:
    """``dashboard_events_healed_total`` and the duplicates from the log and the queue."""
    found = scrape(port)
    return (
        found.get(("dashboard_events_healed_total",), 0.0),
        found.get(("dashboard_events_duplicate_total", ("source", "log")), 0.0),
        found.get(("dashboard_events_duplicate_total", ("source", "queue")), 0.0),
    )


@pytest.fixture
def summary(pipeline, workload):
    """``GET /api/v1/stats/summary`` of a Dashboard API on the pipeline's database."""
    settings = Settings(
        database_url=pipeline.dashboard_db_url,
        appstore_url=pipeline.appstore_url,
        service_username="service",
        service_password=PASSWORD,
    )
    app = create_app(settings)
    client = app.test_client()
    token = workload.api.token("admin")

    def ask() -> dict:
        answer = client.get("/api/v1/stats/summary", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()

    yield ask
    app.extensions["dashboard"].close()


def test_under_steady_load_with_nothing_lost_nothing_is_healed(pipeline, workload):
    port = free_port()
    worker = restart_worker(
        pipeline, DASHBOARD_HEAL_AFTER_SECONDS="10", DASHBOARD_WORKER_METRICS_PORT=str(port)
    )
    store = workload.set_up("s", developers=4, rich=40, poor=5)
    workload.purchase(store, workload.plan(store, per_rich=10, per_poor=2, repeats=10), threads=8)
    pipeline.wait_converged()
    # Two more checks after the last event: each read the log and found nothing to heal.
    head = pipeline.outbox_size()
    wait_for(pipeline, lambda: checked_head(pipeline) == head, "the healer to check the log")
    time.sleep(2.5)

    assert healed(worker) == 0, worker.log()
    assert "from the queue meanwhile" not in worker.log()
    assert healed_and_duplicates(port) == (0, 0, 0)


def test_a_purged_queue_heals_exactly_the_purged_events(pipeline, workload):
    missing = lose_events_of_a_stopped_worker(pipeline, workload)

    port = free_port()
    worker = pipeline.start_worker(
        DASHBOARD_SYNC_INTERVAL_SECONDS="1",
        DASHBOARD_HEAL_AFTER_SECONDS="2",
        DASHBOARD_WORKER_METRICS_PORT=str(port),
    )
    pipeline.wait_converged()

    assert healed(worker) == missing, worker.log()
    assert healed_and_duplicates(port) == (missing, 0, 0)
    assert pipeline.processed() == pipeline.outbox_size()


def test_idle_means_caught_up_and_a_stopped_worker_is_seen_behind(pipeline, workload, summary):
    restart_worker(pipeline)
    store = workload.set_up("f", developers=1, rich=3, poor=1)
    pipeline.wait_converged()

    # Idle: every check finds the log's head folded, whatever the lag says.
    wait_for(pipeline, lambda: summary()["caught_up"] is True, "caught_up", FRESH_SECONDS)
    time.sleep(2)
    idle = summary()
    assert (idle["behind"], idle["caught_up"]) == (0, True)
    assert idle["lag_seconds"] >= 2  # still now minus the last event folded

    pipeline.stop_worker()
    before = pipeline.outbox_size()
    workload.purchase(store, workload.plan(store, per_rich=2, per_poor=1, repeats=1, seed=3))
    wait_for(pipeline, lambda: pipeline.outbox_size() > before, "the purchases to be logged")
    new = pipeline.outbox_size() - before
    started = time.monotonic()
    wait_for(pipeline, lambda: summary()["behind"] == new, f"behind == {new}", FRESH_SECONDS)
    seen_after = time.monotonic() - started
    behind = summary()
    assert behind["caught_up"] is False
    assert seen_after <= FRESH_SECONDS

    pipeline.start_worker(DASHBOARD_SYNC_INTERVAL_SECONDS="1")
    pipeline.wait_converged()
    wait_for(pipeline, lambda: summary()["behind"] == 0, "behind back to 0", FRESH_SECONDS)

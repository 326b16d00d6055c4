"""``dashboard worker`` against real RabbitMQ and PostgreSQL: exact totals, exactly once."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from dashboard.models import ProcessedEvent
from dashboard.worker.topology import DEAD_LETTER_QUEUE, DELAY_QUEUE, QUEUE

from .conftest import make_workload, read_apps, read_totals, wait_drained, wait_until


def folded_count(database) -> int:
    with database.reading() as session:
        return session.scalar(select(func.count()).select_from(ProcessedEvent))


def test_thousand_events_fold_to_ground_truth_and_a_second_delivery_changes_nothing(
    rabbit, workers, worker_db
):
    workload = make_workload(1000)
    workers.start(processes=1, threads=16)

    rabbit.publish_events(workload.envelopes)
    wait_until(lambda: folded_count(worker_db) == 1000, 60, "1,000 events folded")
    assert read_totals(worker_db) == workload.totals
    assert read_apps(worker_db) == workload.apps

    rabbit.publish_events(workload.envelopes)
    wait_drained(rabbit)
    # A graceful stop lets in-flight messages finish; empty queues then mean all were acked.
    workers.stop_all()
    assert [rabbit.depth(q) for q in (QUEUE, DELAY_QUEUE, DEAD_LETTER_QUEUE)] == [0, 0, 0]
    assert folded_count(worker_db) == 1000
    assert read_totals(worker_db) == workload.totals
    assert read_apps(worker_db) == workload.apps


def test_a_worker_killed_mid_stream_and_restarted_loses_and_repeats_nothing(
    rabbit, workers, worker_db
):
    workload = make_workload(3000, seed=11)
    worker = workers.start(processes=1, threads=16)

    def publish() -> None:
        own = type(rabbit)(rabbit.url)  # pika connections are not shared between threads
        try:
            own.publish_events(workload.envelopes)
        finally:
            own.close()

    publisher = threading.Thread(target=publish)
    publisher.start()
    wait_until(lambda: folded_count(worker_db) >= 500, 60, "some events folded")
    assert publisher.is_alive(), "the stream ended before the kill: not mid-stream"
    workers.kill(worker)
    publisher.join(60)
    assert folded_count(worker_db) < 3000

    workers.start(processes=1, threads=16)
    wait_until(lambda: folded_count(worker_db) == 3000, 60, "3,000 events folded")
    assert read_totals(worker_db) == workload.totals
    assert read_apps(worker_db) == workload.apps


def test_two_worker_processes_fold_exact_totals(rabbit, workers, worker_db):
    workload = make_workload(2000, seed=23)
    workers.start(processes=2, threads=16)

    rabbit.publish_events(workload.envelopes)
    wait_until(lambda: folded_count(worker_db) == 2000, 60, "2,000 events folded")
    assert read_totals(worker_db) == workload.totals
    assert read_apps(worker_db) == workload.apps

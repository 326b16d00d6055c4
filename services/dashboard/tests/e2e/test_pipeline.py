"""End-to-end acceptance of the event pipeline, every part real and in its own process.

Appstore (HTTP API, PostgreSQL) -> outbox -> ``appstore relay`` -> RabbitMQ ``appstore.events``
-> ``dashboard.events`` -> ``dashboard worker`` -> the Dashboard's PostgreSQL, checked against
ground truth read from the Appstore's database and with ``dashboard reconcile``.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from dashboard.worker.topology import QUEUE

STEP_SECONDS = 60


def wait_for(pipeline, condition, what: str, timeout: float = STEP_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pipeline.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def purge_once_queued(pipeline, missing: int) -> None:
    """Wait until the ``missing`` events are on the worker's queue, then purge it: lost."""
    wait_for(
        pipeline,
        lambda: pipeline.rabbit.depth(QUEUE) >= missing,
        f"the {missing} new events to reach {QUEUE}",
    )
    pipeline.rabbit.purge([QUEUE])


def lose_events_of_a_stopped_worker(pipeline, workload) -> int:
    """Fold a first store, stop the worker, then purge a second store's events from its
    queue: logged but lost. Returns how many were lost."""
    store = workload.set_up("a", developers=1, rich=4, poor=1)
    workload.purchase(store, workload.plan(store, per_rich=3, per_poor=1, repeats=2))
    pipeline.wait_converged()
    pipeline.stop_worker()
    before = pipeline.outbox_size()
    more = workload.set_up("b", developers=1, rich=4, poor=1, seed=5)
    workload.purchase(more, workload.plan(more, per_rich=3, per_poor=1, repeats=2, seed=6))
    missing = pipeline.outbox_size() - before
    purge_once_queued(pipeline, missing)
    return missing


def test_a_concurrent_workload_converges_to_ground_truth(pipeline, workload):
    # About a thousand purchases from 16 threads: 80 rich buyers x 12 distinct apps (201),
    # 40 of those pairs asked again (409), 20 poor buyers x 4 dear apps (one 201 at most).
    store = workload.set_up("w", developers=4, apps_each=5, rich=80, poor=20)
    attempts = workload.plan(store, per_rich=12, per_poor=4, repeats=40)
    assert len(attempts) == 80 * 12 + 40 + 20 * 4
    expected = workload.expected(store, attempts)

    outcome = workload.purchase(store, attempts, threads=16)
    workload.edit(store)

    truth = pipeline.truth()
    assert outcome.statuses == expected.statuses, (outcome.statuses, expected.statuses)
    assert outcome.statuses[409] == 40, outcome.statuses  # each repeated pair, once
    assert outcome.statuses[402] >= 20 * 3, outcome.statuses  # poor buyers: one purchase at most
    assert outcome.statuses[201] == truth["purchases"], (outcome.statuses, truth)
    assert outcome.spent == expected.spent == truth["credits_spent"], (outcome.spent, truth)
    assert truth["users"] == 2 + 4 + 80 + 20
    assert (truth["apps_created"], truth["apps_verified"]) == (20, 16)

    pipeline.wait_converged()

    assert pipeline.totals() == truth
    assert pipeline.processed() == pipeline.outbox_size()


def test_replaying_the_whole_log_twice_changes_nothing(pipeline, workload):
    store = workload.set_up("r", developers=2, rich=10, poor=4)
    workload.purchase(store, workload.plan(store, per_rich=6, per_poor=3, repeats=5))
    pipeline.wait_converged()
    before = pipeline.projections()
    logged = pipeline.outbox_size()

    for _ in range(2):
        replayed = pipeline.must(pipeline.appstore("events", "replay"), "appstore events replay")
        assert f"replayed {logged} events" in replayed.stdout, replayed.stdout
    pipeline.wait_quiet()

    after = pipeline.projections()
    changed = [table for table in before if before[table] != after[table]]
    assert not changed, f"the replays changed {changed}\n\n{pipeline.report()}"
    pipeline.assert_reconciled()

    # One more write, published after every replayed copy was on the queue: once it is
    # folded, the worker has been handed all of them, and they still changed nothing.
    workload.api.register("after_the_replays")
    pipeline.wait_converged()
    pipeline.wait_quiet()
    final = pipeline.projections()
    for table in ("app_stats", "developer_stats", "buyers"):
        assert final[table] == before[table], f"{table} changed\n\n{pipeline.report()}"
    expected = {**dict(before["totals"]), "users": dict(before["totals"])["users"] + 1}
    assert dict(final["totals"]) == expected == pipeline.truth()
    assert len(final["processed_events"]) == logged + 1 == pipeline.outbox_size()


def test_a_purged_queue_is_healed_by_sync(pipeline, workload):
    store = workload.set_up("a", developers=2, rich=8, poor=2)
    workload.purchase(store, workload.plan(store, per_rich=4, per_poor=2, repeats=4))
    pipeline.wait_converged()
    pipeline.stop_worker()
    before = pipeline.outbox_size()

    more = workload.set_up("b", developers=1, rich=6, poor=2, seed=5)
    workload.purchase(more, workload.plan(more, per_rich=3, per_poor=2, repeats=3, seed=6))
    workload.edit(more)
    missing = pipeline.outbox_size() - before
    purge_once_queued(pipeline, missing)
    assert pipeline.rabbit.depth(QUEUE) == 0

    drifting = pipeline.dashboard("reconcile")
    assert drifting.returncode == 1, f"reconcile saw no drift before sync:\n{pipeline.report()}"
    synced = pipeline.must(pipeline.dashboard("sync"), "dashboard sync")
    assert f"{missing} folded" in synced.stdout, synced.stdout

    pipeline.assert_reconciled()
    assert pipeline.totals() == pipeline.truth()
    assert pipeline.apps() == pipeline.app_truth()


def test_a_restarted_worker_heals_a_purged_queue_by_itself(pipeline, workload):
    lose_events_of_a_stopped_worker(pipeline, workload)
    assert pipeline.dashboard("reconcile").returncode == 1

    # No `dashboard sync` here: the worker's own healing process syncs at start-up.
    pipeline.start_worker(DASHBOARD_SYNC_INTERVAL_SECONDS="30")

    pipeline.wait_converged()
    pipeline.assert_reconciled()


def test_a_worker_killed_mid_stream_loses_nothing_after_restart(pipeline, workload):
    store = workload.set_up("k")
    attempts = workload.plan(store)
    with ThreadPoolExecutor(1) as background:
        outcome = workload.new_outcome()
        running = background.submit(workload.purchase, store, attempts, 8, outcome)
        wait_for(pipeline, lambda: outcome.attempts >= 60 or running.done(), "purchases to flow")
        pipeline.kill_worker()
        answered_at_kill = outcome.attempts
        pipeline.start_worker(processes=2)
        running.result(timeout=STEP_SECONDS)

    assert answered_at_kill < len(attempts), "the purchases ended before the worker was killed"
    pipeline.wait_converged()
    assert pipeline.totals() == pipeline.truth()
    assert pipeline.processed() == pipeline.outbox_size()

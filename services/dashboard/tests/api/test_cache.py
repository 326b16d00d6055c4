"""The cache: hits, misses, never staler than the last fold, in every process, and a Redis
that fails does not fail the answers."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY

from dashboard.fold import fold
from sqlstore import Database

SUMMARY = "/api/v1/stats/summary"
AT = datetime(2026, 10, 25, 10, 0, tzinfo=UTC)


def cache_count(result: str) -> float:
    return REGISTRY.get_sample_value("dashboard_cache_requests_total", {"result": result}) or 0


@pytest.fixture(params=["redis", "memory"])
def cached_stack(request, make_stack):
    return make_stack("postgres", request.param)


def test_a_repeated_question_is_a_hit_until_the_next_fold(cached_stack, log):
    cached_stack.fold([log.purchased(1, 5, 9, 2, 30, AT)])
    hits, misses = cache_count("hit"), cache_count("miss")

    first = cached_stack.ok(SUMMARY).json
    second = cached_stack.ok(SUMMARY).json
    assert (cache_count("hit") - hits, cache_count("miss") - misses) == (1, 1)
    assert first["purchases"] == second["purchases"] == 1

    cached_stack.fold([log.purchased(2, 5, 10, 2, 30, AT)])
    third = cached_stack.ok(SUMMARY).json
    assert third["purchases"] == 2
    assert (cache_count("hit") - hits, cache_count("miss") - misses) == (1, 2)


def test_every_endpoint_answers_fresh_after_a_fold_by_another_process(cached_stack, log):
    paths = {
        SUMMARY: {"from": "2026-10-25T00:00:00Z", "to": "2026-10-26T00:00:00Z"},
        "/api/v1/stats/timeseries": {"from": "2026-10-25T00:00:00Z", "to": "2026-10-26T00:00:00Z"},
        "/api/v1/stats/top-apps": {},
        "/api/v1/stats/top-developers": {"from": "2026-10-25T00:00:00Z"},
        "/api/v1/stats/export.csv": {"from": "2026-10-25T00:00:00Z", "to": "2026-10-26T00:00:00Z"},
    }

    def answers() -> dict[str, bytes]:
        found = {path: cached_stack.ok(path, **params).get_data() for path, params in paths.items()}
        found[SUMMARY] = found[SUMMARY].split(b',"lag_seconds"')[0]  # moves with the clock
        return found

    cached_stack.fold([log.purchased(1, 5, 9, 2, 30, AT)])
    before = answers()
    assert before == answers()

    # The worker is another process with its own connections.
    worker = Database(cached_stack.settings.database_url)
    try:
        with worker.transaction() as session:
            fold(session, [log.purchased(2, 6, 9, 2, 40, AT)])
    finally:
        worker.dispose()

    after = answers()
    assert all(after[path] != before[path] for path in paths), after


def test_processes_sharing_redis_share_answers(make_stack, log):
    stack = make_stack("postgres", "redis")
    stack.fold([log.purchased(1, 5, 9, 2, 30, AT)])
    stack.ok(SUMMARY)
    other_app, other_parts = stack.another_app()
    hits = cache_count("hit")

    try:
        answer = other_app.test_client().get(SUMMARY, headers=stack.headers())
    finally:
        other_parts.close()

    assert answer.status_code == 200
    assert cache_count("hit") - hits == 1


def test_windows_that_align_alike_share_an_answer(cached_stack, log):
    cached_stack.fold([log.purchased(1, 5, 9, 2, 30, AT)])
    cached_stack.ok(SUMMARY, **{"from": "2026-10-25T09:00:10Z", "to": "2026-10-25T10:00:30Z"})
    hits = cache_count("hit")

    answer = cached_stack.ok(
        SUMMARY, **{"from": "2026-10-25T09:00:50Z", "to": "2026-10-25T10:00:59Z"}
    )

    assert cache_count("hit") - hits == 1
    assert answer.json["purchases"] == 1


def test_the_lag_is_never_cached(cached_stack, log):
    cached_stack.fold([log.purchased(1, 5, 9, 2, 30, AT)])

    first = cached_stack.ok(SUMMARY).json["lag_seconds"]
    time.sleep(0.01)  # the lag is given to the millisecond: let the clock move past one
    second = cached_stack.ok(SUMMARY).json["lag_seconds"]

    assert second > first


def test_a_failing_redis_slows_answers_but_does_not_fail_them(make_stack, log):
    stack = make_stack("postgres", "redis", redis_at="redis://127.0.0.1:9/5")
    stack.fold([log.purchased(1, 5, 9, 2, 30, AT)])
    errors = REGISTRY.get_sample_value("dashboard_cache_errors_total") or 0

    answers = [stack.ok(SUMMARY).json["purchases"] for _ in range(2)]
    ready = stack.client.get("/readyz")

    assert answers == [1, 1]
    assert REGISTRY.get_sample_value("dashboard_cache_errors_total") - errors == 4  # get, set
    assert ready.status_code == 503
    assert ready.json["checks"]["database"] == "ok"
    assert ready.json["checks"]["redis"].startswith("down: ")

"""``behind`` and ``caught_up``: the events logged but not folded, as last checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dashboard.api import stream as stream_module
from dashboard.appstore_client import AppstoreClient
from dashboard.freshness import HEAD_MAX_AGE, HeadChecker, record_head
from dashboard.models import LogHead

from .conftest import PASSWORD
from .test_stream import Events

SUMMARY = "/api/v1/stats/summary"
AT = datetime(2026, 10, 25, 10, 0, tzinfo=UTC)


def registered(log, count: int):
    return [log.registered(100 + n, f"user{n}", AT) for n in range(count)]


def head_is(stack, sequence: int) -> None:
    with stack.db.transaction() as session:
        record_head(session, sequence)


def test_never_checked_is_null_both(stack, log):
    stack.fold(registered(log, 2))
    answer = stack.ok(SUMMARY).json

    assert (answer["behind"], answer["caught_up"]) == (None, None)


def test_behind_counts_every_logged_event_not_folded_holes_included(stack, log):
    events = registered(log, 7)
    stack.fold([events[n] for n in (0, 1, 3)])  # 3 is missing, and 5 to 7
    head_is(stack, 7)

    answer = stack.ok(SUMMARY).json
    assert (answer["contiguous_through"], answer["last_sequence"]) == (2, 4)
    assert (answer["behind"], answer["caught_up"]) == (4, False)

    stack.fold(events[2:6])  # the worker folds on: the answer drops without a new check
    assert (stack.ok(SUMMARY).json["behind"], stack.ok(SUMMARY).json["caught_up"]) == (1, False)

    stack.fold(events[6:])
    caught_up = stack.ok(SUMMARY).json
    assert (caught_up["behind"], caught_up["caught_up"]) == (0, True)
    windowed = stack.ok(SUMMARY, **{"from": "2026-10-25T00:00:00Z", "to": "2026-10-26T00:00:00Z"})
    assert (windowed.json["behind"], windowed.json["caught_up"]) == (0, True)


def test_the_openapi_document_describes_both(postgres_stack):
    spec = postgres_stack.client.get("/api/openapi.json").json
    fields = spec["components"]["schemas"]["Summary"]["properties"]

    assert fields["behind"]["type"] == "integer"
    assert "last checked" in fields["behind"]["description"]
    assert fields["caught_up"]["type"] == "boolean"


def test_the_api_checks_the_head_itself_once_it_is_stale(postgres_stack, token_appstore):
    client = AppstoreClient(token_appstore.url, "service_account", PASSWORD)
    checker = HeadChecker(postgres_stack.db, client)
    head_is(postgres_stack, 42)  # a check that the Appstore (an empty log) now contradicts
    now = datetime.now(UTC)

    assert checker.refresh_if_stale(now) is False  # checked just now: nothing to do
    later = now + HEAD_MAX_AGE + timedelta(seconds=1)
    assert checker.refresh_if_stale(later) is True
    assert checker.refresh_if_stale(later) is False  # one check per period, whoever asks
    with postgres_stack.db.reading() as session:
        row = session.get(LogHead, "events")
    assert (row.sequence, row.checked_at) == (0, later)
    checker.close()


def test_the_stream_pushes_a_summary_when_behind_changes(postgres_stack, log, monkeypatch):
    monkeypatch.setattr(stream_module, "FRESHNESS_SECONDS", 0.2)
    postgres_stack.fold(registered(log, 2))
    head_is(postgres_stack, 2)
    stream = Events(postgres_stack, access_token=postgres_stack.appstore.token("management"))
    try:
        assert stream.next_summary()["caught_up"] is True

        head_is(postgres_stack, 5)  # no fold: only the log's head moved
        pushed = stream.next_summary()
        assert (pushed["behind"], pushed["caught_up"]) == (3, False)
    finally:
        stream.close()


def test_without_a_row_the_first_checker_makes_it(postgres_stack, token_appstore):
    with postgres_stack.db.transaction() as session:
        session.query(LogHead).delete()
    checker = HeadChecker(
        postgres_stack.db, AppstoreClient(token_appstore.url, "service_account", PASSWORD)
    )

    assert checker.refresh_if_stale() is True
    assert postgres_stack.ok(SUMMARY).json["behind"] == 0
    checker.close()

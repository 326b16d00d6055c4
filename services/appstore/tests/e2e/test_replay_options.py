"""``appstore events replay`` narrowed to a time window and event types, into one queue only,
as a dry run, and with a JSON summary, run as a process against PostgreSQL and RabbitMQ.

No relay runs here: the tests number the log themselves, so whatever reaches a queue was
published by the replay.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from appstore import outbox
from appstore.models import OutboxEvent

from .relay_fixtures import (  # noqa: F401  (the fixtures are used by name)
    EventConsumer,
    consumer_fixture,
    run_appstore,
)
from .test_relay import PERSISTENT, admin_principal, grant_many, receive, sequences

KNOWN_TYPES = (
    "UserRegistered, CreditGranted, AppCreated, AppUpdated, AppVerified, AppDeleted, AppPurchased"
)


@pytest.fixture
def bystander(broker_url, components):
    """A second queue bound to ``appstore.events`` with ``#``, as every other consumer's is."""
    queue = EventConsumer(broker_url, components)
    try:
        yield queue
    finally:
        queue.close()


def number_the_log(components) -> int:
    with components.db.engine.begin() as connection:
        outbox.assign_sequences(connection)
    with components.db.reading() as session:
        return outbox.last_sequence(session)


def logged(components) -> list[tuple[int, str, str]]:
    """``(sequence, event_type, event_id)`` of every numbered event, in order."""
    with components.db.reading() as session:
        rows = session.execute(
            select(OutboxEvent.sequence, OutboxEvent.event_type, OutboxEvent.event_id)
            .where(OutboxEvent.sequence.is_not(None))
            .order_by(OutboxEvent.sequence)
        )
        return [tuple(row) for row in rows]


def a_mixed_log(api, components) -> list[tuple[int, str, str]]:
    """Users, grants, apps and verifications, interleaved; numbered."""
    admin = admin_principal(api)
    for round_ in range(3):
        owner = api.user("user", credit=2)
        grant_many(components, admin, owner["id"], 2)
        api.app(owner, title=f"App {round_}")
    number_the_log(components)
    return logged(components)


def summary_of(events: list[tuple[int, str, str]], dry_run: bool) -> dict:
    by_type: dict[str, int] = {}
    for _sequence, event_type, _event_id in events:
        by_type[event_type] = by_type.get(event_type, 0) + 1
    return {
        "events": len(events),
        "first_sequence": events[0][0] if events else None,
        "last_sequence": events[-1][0] if events else None,
        "by_type": dict(sorted(by_type.items())),
        "dry_run": dry_run,
    }


def test_into_one_queue_by_type_and_range_exactly_those_in_order_and_nowhere_else(
    api, components, consumer, bystander, broker_url
):
    log = a_mixed_log(api, components)
    after, until = 3, len(log) - 2
    types = {"CreditGranted", "AppCreated"}
    expected = [e for e in log if after < e[0] <= until and e[1] in types]
    assert {e[1] for e in expected} == types  # the log is as meant
    assert len(expected) >= 6
    selection = ["--after", str(after), "--until", str(until)]
    selection += ["--type", "CreditGranted", "--type", "appcreated", "--queue", consumer.queue]

    dry = run_appstore(
        components, broker_url, "events", "replay", *selection, "--dry-run", "--json"
    )
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout) == summary_of(expected, dry_run=True)
    assert consumer.drain(0, timeout=0, linger=1.0) == []
    assert bystander.drain(0, timeout=0, linger=0) == []

    done = run_appstore(components, broker_url, "events", "replay", *selection, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == summary_of(expected, dry_run=False)
    received = receive(consumer, [e[0] for e in expected], timeout=15)
    assert sequences(received) == [e[0] for e in expected]
    assert [m.properties.message_id for m in received] == [e[2] for e in expected]
    assert [json.loads(m.body)["event_type"] for m in received] == [e[1] for e in expected]
    assert {m.routing_key for m in received} == {consumer.queue}
    assert all(m.properties.delivery_mode == PERSISTENT for m in received)
    assert bystander.drain(0, timeout=0, linger=1.0) == []
    assert bystander.foreign == 0


def test_a_time_window_selects_by_occurred_at(api, components, consumer, broker_url):
    admin = admin_principal(api)
    grant_many(components, admin, admin.user_id, 3)
    time.sleep(0.01)
    since = datetime.now(UTC)
    grant_many(components, admin, admin.user_id, 4)
    time.sleep(0.01)
    before = datetime.now(UTC)
    grant_many(components, admin, admin.user_id, 2)
    number_the_log(components)
    inside = logged(components)[4:8]  # the admin's registration, 3 grants, then the window's

    # No zone means UTC; another zone is converted.
    naive_since = since.replace(tzinfo=None).isoformat()
    zoned_before = before.astimezone(timezone(timedelta(hours=2))).isoformat()
    result = run_appstore(
        components,
        broker_url,
        *("events", "replay", "--since", naive_since, "--before", zoned_before),
        *("--queue", consumer.queue),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "by type: CreditGranted 4",
        f"replayed 4 events (sequence 5..8) into queue {consumer.queue}",
    ]
    received = receive(consumer, [5, 6, 7, 8], timeout=15)
    assert [json.loads(m.body)["event_id"] for m in received] == [e[2] for e in inside]


def test_a_dry_run_lists_what_it_would_publish_and_publishes_nothing(
    api, components, consumer, broker_url
):
    admin = admin_principal(api)
    grant_many(components, admin, admin.user_id, 3)
    number_the_log(components)
    log = logged(components)

    result = run_appstore(components, broker_url, "events", "replay", "--after", "1", "--dry-run")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split("\t")[0::2] for line in lines[:3]] == [
        [str(sequence), event_type] for sequence, event_type, _id in log[1:]
    ]
    assert [line.split("\t")[3] for line in lines[:3]] == [e[2] for e in log[1:]]
    assert lines[3:] == ["by type: CreditGranted 3", "would replay 3 events (sequence 2..4)"]
    assert consumer.drain(0, timeout=0, linger=1.0) == []


def test_an_unknown_type_is_a_usage_error_listing_the_known_ones(components, broker_url):
    result = run_appstore(
        components, broker_url, "events", "replay", "--type", "AppPurchased", "--type", "AppSold"
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"unknown event type 'AppSold'; the known types are {KNOWN_TYPES}" in result.stderr
    assert result.stdout == ""


def test_a_queue_that_does_not_exist_is_an_error_and_nothing_is_published(
    api, components, consumer, broker_url
):
    admin_principal(api)
    number_the_log(components)
    result = run_appstore(
        components, broker_url, "events", "replay", "--queue", f"{consumer.queue}-typo"
    )
    assert result.returncode == 1
    assert result.stderr == (
        f"no queue named '{consumer.queue}-typo' on the broker: "
        "replay fills an existing queue only\n"
    )
    assert consumer.drain(0, timeout=0, linger=1.0) == []

"""The outbox relay as a process against RabbitMQ: one envelope per write, in sequence order,
nothing from rolled-back writes, nothing lost to broker outages, crashes or a second relay;
plus ``appstore events replay`` and the event log API.

Needs PostgreSQL (see ``sqlstore.testing``) and RabbitMQ at ``TEST_BROKER_URL`` (default
``amqp://guest:guest@127.0.0.1:5672/``). Each test binds its queue and starts its relays
itself, after the previous test emptied the tables, and stops them before it ends.
"""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

import appstore_events
from appstore import outbox
from appstore.models import OutboxEvent, Purchase
from appstore.security.principal import Principal
from appstore.services import users

from .relay_fixtures import (  # noqa: F401  (the fixtures are used by name)
    APPSTORE,
    Received,
    appstore_env,
    broker_proxy_fixture,
    consumer_fixture,
    start_relay_fixture,
)

# The routing keys of the contract's table, written out rather than taken from the code.
CONTRACT_ROUTING_KEYS = {
    "UserRegistered": "user.registered",
    "CreditGranted": "credit.granted",
    "AppCreated": "app.created",
    "AppUpdated": "app.updated",
    "AppVerified": "app.verified",
    "AppDeleted": "app.deleted",
    "AppPurchased": "app.purchased",
}
PERSISTENT = 2


def sequences(messages: list[Received]) -> list[int]:
    return [json.loads(message.body)["sequence"] for message in messages]


def first_copies(messages: list[Received]) -> list[Received]:
    """Each event once, at the place its first copy arrived."""
    seen: set[str] = set()
    firsts = []
    for message in messages:
        event_id = json.loads(message.body)["event_id"]
        if event_id not in seen:
            seen.add(event_id)
            firsts.append(message)
    return firsts


def decoded(messages: list[Received]) -> list[appstore_events.Envelope]:
    return [appstore_events.decode(message.body) for message in messages]


def admin_principal(api) -> Principal:
    admin = api.user("admin")
    return Principal(admin["id"], admin["username"], "admin")


def grant_many(components, admin: Principal, user_id: int, count: int) -> None:
    for _ in range(count):
        users.grant_credit(components.db, admin, user_id, 1)


def outbox_count(components) -> int:
    with components.db.reading() as session:
        return session.scalar(select(func.count()).select_from(OutboxEvent))


def wait_published_through(components, sequence: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with components.db.reading() as session:
            position = outbox.published_through(session)
        if position == sequence:
            return
        assert time.monotonic() < deadline, (
            f"the relay's progress is {position}, not {sequence}, after {timeout}s"
        )
        time.sleep(0.05)


def receive(consumer, expected: list[int], timeout: float, linger: float = 1.0) -> list[Received]:
    """Drain until every sequence of ``expected`` arrived (or ``timeout``), then ``linger``."""
    received: list[Received] = []
    missing = set(expected)
    deadline = time.monotonic() + timeout
    while missing and time.monotonic() < deadline:
        batch = consumer.drain(len(missing), timeout=deadline - time.monotonic())
        received += batch
        missing -= set(sequences(batch))
    return received + consumer.drain(0, timeout=0, linger=linger)


def ranges(numbers: list[int]) -> str:
    """``[1, 2, 3, 7, 8]`` as ``"1..3, 7..8"``: readable even for thousands of sequences."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    shown = [f"{a}..{b}" if a != b else str(a) for a, b in runs[:30]]
    if len(runs) > 30:
        shown.append(f"... ({len(runs) - 30} more runs, last {runs[-1][1]})")
    return ", ".join(shown) or "nothing"


def assert_in_order_once(messages: list[Received], expected: list[int], relays) -> None:
    """The sequences arrived as ``expected``: in order, none missing, each once.

    Copies are allowed only where delivery is at-least-once by design: after the relay
    lost the broker (it then publishes the unconfirmed batch again). Even then the first
    copy of each event must arrive in order.
    """
    got = sequences(messages)
    if got == expected:
        return
    firsts = list(dict.fromkeys(got))
    assert firsts == expected, (
        f"expected {ranges(expected)}, arrived {ranges(got)}: missing or out of order"
    )
    assert any(relay.had_broker_trouble for relay in relays), (
        f"copies arrived although the broker never failed: {ranges(got)}"
    )


def test_each_write_type_publishes_exactly_one_envelope(
    api, client, components, consumer, start_relay
):
    relay = start_relay()

    admin = api.user("admin")  # UserRegistered
    registered = client.post(
        "/api/v1/auth/register",
        json={"username": "buyer", "email": "buyer@example.com", "password": "long password 1"},
    )  # UserRegistered
    assert registered.status_code == 201, registered.get_json()
    buyer_id = registered.get_json()["id"]
    buyer_token = components.tokens.issue(buyer_id, "buyer", "user")
    owner = api.user()  # UserRegistered
    granted = client.post(
        f"/api/v1/users/{buyer_id}/credit", json={"amount": 50}, headers=admin["headers"]
    )  # CreditGranted
    assert granted.status_code == 200, granted.get_json()
    app = api.app(owner, price=30, verified=False, title="Tracker")  # AppCreated
    updated = client.patch(
        f"/api/v1/apps/{app['id']}",
        json={"title": "Tracker Pro", "price": 40, "access_link": "https://secret.example.com/x"},
        headers=owner["headers"],
    )  # AppUpdated
    assert updated.status_code == 200, updated.get_json()
    verified = client.post(f"/api/v1/apps/{app['id']}/verify", headers=admin["headers"])
    assert verified.status_code == 200, verified.get_json()  # AppVerified
    bought = client.post(
        f"/api/v1/apps/{app['id']}/purchase", headers={"Authorization": f"Bearer {buyer_token}"}
    )
    assert bought.status_code == 201, bought.get_json()  # AppPurchased
    deleted = client.delete(f"/api/v1/apps/{app['id']}", headers=owner["headers"])
    assert deleted.status_code == 204  # AppDeleted

    app_id, owner_id = app["id"], owner["id"]
    expected = [
        (
            "UserRegistered",
            {"user_id": admin["id"], "username": admin["username"], "role": "admin"},
        ),
        ("UserRegistered", {"user_id": buyer_id, "username": "buyer", "role": "user"}),
        ("UserRegistered", {"user_id": owner_id, "username": owner["username"], "role": "user"}),
        ("CreditGranted", {"user_id": buyer_id, "amount": 50, "granted_by": admin["id"]}),
        ("AppCreated", {"app_id": app_id, "owner_id": owner_id, "title": "Tracker", "price": 30}),
        ("AppUpdated", {"app_id": app_id, "changes": {"title": "Tracker Pro", "price": 40}}),
        ("AppVerified", {"app_id": app_id, "verified_by": admin["id"]}),
        (
            "AppPurchased",
            {
                "purchase_id": bought.get_json()["id"],
                "app_id": app_id,
                "buyer_id": buyer_id,
                "owner_id": owner_id,
                "price": 40,
            },
        ),
        ("AppDeleted", {"app_id": app_id, "deleted_by": owner_id}),
    ]
    numbers = list(range(1, len(expected) + 1))
    messages = receive(consumer, numbers, timeout=15)

    assert_in_order_once(messages, numbers, [relay])
    messages = first_copies(messages)
    envelopes = decoded(messages)
    assert [e.sequence for e in envelopes] == numbers
    for message, envelope, (event_type, data) in zip(messages, envelopes, expected, strict=True):
        assert envelope.event_type == event_type
        assert message.routing_key == CONTRACT_ROUTING_KEYS[event_type], event_type
        assert message.properties.message_id == envelope.event_id, event_type
        assert message.properties.delivery_mode == PERSISTENT, event_type
        assert message.properties.content_type == "application/json", event_type
        assert envelope.source == "appstore"
        assert envelope.event_version == 1
        assert {key: envelope.data[key] for key in data} == data, event_type
    assert envelopes[5].data["changes"] == {"title": "Tracker Pro", "price": 40}
    assert b"secret.example.com" not in messages[5].body
    assert {e.event_type for e in envelopes} == set(CONTRACT_ROUTING_KEYS)
    assert len({e.event_id for e in envelopes}) == len(envelopes)


def test_a_refused_purchase_publishes_nothing_and_leaves_no_gap(
    api, client, components, consumer, start_relay
):
    owner = api.user()
    buyer = api.user(credit=5)
    pricey = api.app(owner, price=10)
    cheap = api.app(owner, price=5)
    first = client.post(f"/api/v1/apps/{cheap['id']}/purchase", headers=buyer["headers"])
    assert first.status_code == 201, first.get_json()
    written = outbox_count(components)
    assert written == 10  # 2 users + credit + 2 x (app, admin, verification) + purchase

    relay = start_relay()
    messages = receive(consumer, list(range(1, written + 1)), timeout=15, linger=0)
    assert_in_order_once(messages, list(range(1, written + 1)), [relay])

    broke = client.post(f"/api/v1/apps/{pricey['id']}/purchase", headers=buyer["headers"])
    assert broke.status_code == 402, broke.get_json()
    again = client.post(f"/api/v1/apps/{cheap['id']}/purchase", headers=buyer["headers"])
    assert again.status_code == 409, again.get_json()
    assert outbox_count(components) == written
    with components.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Purchase)) == 1
    messages += consumer.drain(1, timeout=1.5)
    assert max(sequences(messages)) == written, "a refused purchase was published"

    admin = api.user("admin")  # the next successful write
    messages += receive(consumer, [written + 1], timeout=10)

    assert_in_order_once(messages, list(range(1, written + 2)), [relay])
    last = decoded(first_copies(messages))[-1]
    assert (last.event_type, last.data["user_id"]) == ("UserRegistered", admin["id"])
    purchases = {e.event_id for e in decoded(messages) if e.event_type == "AppPurchased"}
    assert len(purchases) == 1
    assert outbox_count(components) == written + 1


def test_events_written_while_the_broker_is_unreachable_all_arrive_in_order(
    api, components, consumer, start_relay, broker_proxy, broker_url
):
    admin = admin_principal(api)  # 1 event
    relay = start_relay(broker_proxy.url(broker_url))
    grant_many(components, admin, admin.user_id, 2)
    assert_in_order_once(receive(consumer, [1, 2, 3], timeout=15, linger=0), [1, 2, 3], [relay])
    wait_published_through(components, 3)

    broker_proxy.stop()
    grant_many(components, admin, admin.user_id, 500)
    nothing = consumer.drain(1, timeout=2.0)
    assert nothing == [], f"{ranges(sequences(nothing))} arrived while the broker was cut off"
    with components.db.reading() as session:
        assert outbox.published_through(session) == 3
    assert relay.had_broker_trouble, f"the relay did not notice the outage:\n{relay.log()}"
    assert relay.alive, relay.log()

    broker_proxy.start()
    messages = receive(consumer, list(range(4, 504)), timeout=30)

    assert_in_order_once(messages, list(range(4, 504)), [relay])
    assert {m.routing_key for m in messages} == {"credit.granted"}
    wait_published_through(components, 503)


def test_relay_killed_mid_batch_and_restarted_loses_nothing(components, consumer, start_relay):
    total = 5000
    granted_at = datetime.now(UTC)
    for start in range(0, total, 1000):
        with components.db.transaction() as session:
            for amount in range(start + 1, start + 1001):
                data = {"user_id": 1, "amount": amount, "granted_by": 1, "granted_at": granted_at}
                outbox.record(session, "CreditGranted", data)

    first = start_relay(wait_leading=False)
    # Killed as soon as its first message is seen, while the rest of the batch goes out.
    before_kill = consumer.drain(1, timeout=20)
    first.kill()
    assert before_kill, f"the relay published nothing in 20s:\n{first.log()}"
    before_kill += consumer.drain(0, timeout=0, linger=1.0)
    assert len(set(sequences(before_kill))) < total, (
        f"all {total} events were out before the relay was killed: not mid-stream"
    )
    with components.db.reading() as session:
        progress_at_kill = outbox.published_through(session)
    assert progress_at_kill < total

    second = start_relay()
    missing = sorted(set(range(1, total + 1)) - set(sequences(before_kill)))
    after_restart = receive(consumer, missing, timeout=30)

    got = sequences(before_kill + after_restart)
    never = sorted(set(range(1, total + 1)) - set(got))
    assert not never, f"{len(never)} sequences never arrived: {ranges(never)}"
    assert max(got) == total
    assert_in_order_once(after_restart, list(range(progress_at_kill + 1, total + 1)), [second])
    assert all(
        json.loads(m.body)["data"]["amount"] == sequence
        for m, sequence in zip(before_kill + after_restart, got, strict=True)
    ), "a sequence was published with another event's body"
    wait_published_through(components, total)


def test_two_relays_publish_each_event_once_and_the_other_takes_over(
    api, components, consumer, start_relay
):
    admin = admin_principal(api)  # 1 event
    relays = [start_relay(wait_leading=False), start_relay(wait_leading=False)]
    deadline = time.monotonic() + 20
    while not any(relay.leading for relay in relays):
        assert all(relay.alive for relay in relays), [r.describe() for r in relays]
        assert time.monotonic() < deadline, [r.describe() for r in relays]
        time.sleep(0.05)

    grant_many(components, admin, admin.user_id, 999)
    assert all(relay.alive for relay in relays), [r.describe() for r in relays]
    messages = receive(consumer, list(range(1, 1001)), timeout=30)

    assert_in_order_once(messages, list(range(1, 1001)), relays)
    leaders = [relay for relay in relays if relay.leading]
    assert len(leaders) == 1, [r.describe() for r in relays]
    leader, standby = leaders[0], next(r for r in relays if r is not leaders[0])
    wait_published_through(components, 1000)

    leader.kill()
    grant_many(components, admin, admin.user_id, 200)
    standby.wait_for_log("leading")
    messages = receive(consumer, list(range(1001, 1201)), timeout=30)

    assert_in_order_once(messages, list(range(1001, 1201)), [standby])
    wait_published_through(components, 1200)


def test_replay_republishes_exactly_the_range_while_the_relay_runs(
    api, components, consumer, start_relay, broker_url
):
    admin = admin_principal(api)  # 1 event
    grant_many(components, admin, admin.user_id, 11)
    relay = start_relay()
    first_pass = receive(consumer, list(range(1, 13)), timeout=15, linger=0)
    assert_in_order_once(first_pass, list(range(1, 13)), [relay])
    event_ids = {json.loads(m.body)["sequence"]: m.properties.message_id for m in first_pass}

    replay = subprocess.Popen(
        [str(APPSTORE), "events", "replay", "--after", "3", "--until", "10"],
        env=appstore_env(components, broker_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        grant_many(components, admin, admin.user_id, 5)  # the relay publishes 13..17 meanwhile
        stdout, stderr = replay.communicate(timeout=60)
    finally:
        if replay.poll() is None:
            replay.kill()
            replay.wait()
    assert replay.returncode == 0, stderr
    assert stdout.strip().splitlines()[-1] == "replayed 7 events (sequence 4..10)", stdout
    messages = receive(consumer, [*range(4, 11), *range(13, 18)], timeout=20)

    replayed = [m for m in messages if json.loads(m.body)["sequence"] <= 12]
    assert sequences(replayed) == list(range(4, 11))
    assert [m.properties.message_id for m in replayed] == [event_ids[s] for s in range(4, 11)]
    assert all(m.properties.delivery_mode == PERSISTENT for m in replayed)
    assert all(appstore_events.decode(m.body).sequence for m in replayed)
    assert_in_order_once(
        [m for m in messages if json.loads(m.body)["sequence"] > 12], list(range(13, 18)), [relay]
    )
    wait_published_through(components, 17)


def test_event_log_api_serves_envelopes_in_order_to_admin_and_service(api, client, components):
    admin = api.user("admin")
    service = api.user("service")
    user = api.user("user", credit=3)
    manager = api.user("management")
    api.app(user, price=2)
    with components.db.engine.begin() as connection:
        total = outbox.assign_sequences(connection)
    assert total == 8  # 4 users, credit, app, verifying admin, verification
    with components.db.reading() as session:
        stored = {e.sequence: e.body() for e in outbox.read(session, 0, 1000)}

    for caller in (admin, service):
        everything = client.get("/api/v1/events/", headers=caller["headers"])
        assert everything.status_code == 200, everything.get_json()
        assert [e["sequence"] for e in everything.get_json()] == list(range(1, total + 1))
        assert everything.get_json() == [stored[s] for s in range(1, total + 1)]
        for envelope in everything.get_json():
            assert appstore_events.decode(envelope).sequence == envelope["sequence"]

        page = client.get(
            "/api/v1/events/", query_string={"after": 2, "limit": 3}, headers=caller["headers"]
        )
        assert page.status_code == 200
        assert [e["sequence"] for e in page.get_json()] == [3, 4, 5]
        assert page.headers["X-Log-Head"] == str(total)
        rest = client.get(
            "/api/v1/events/", query_string={"after": 5, "limit": 1000}, headers=caller["headers"]
        )
        assert [e["sequence"] for e in rest.get_json()] == [6, 7, 8]
        past_end = client.get(
            "/api/v1/events/", query_string={"after": total}, headers=caller["headers"]
        )
        assert past_end.status_code == 200
        assert past_end.get_json() == []
        assert past_end.headers["X-Log-Head"] == str(total)

    for caller in (user, manager):
        assert client.get("/api/v1/events/", headers=caller["headers"]).status_code == 403
    assert client.get("/api/v1/events/").status_code == 401
    for bad in ({"limit": 0}, {"limit": 1001}, {"after": -1}, {"after": "x"}):
        answer = client.get("/api/v1/events/", query_string=bad, headers=admin["headers"])
        assert answer.status_code == 422, (bad, answer.get_json())


@pytest.mark.parametrize("role", ["admin", "service"])
def test_event_log_api_hides_events_not_yet_numbered(api, client, components, role):
    caller = api.user(role)
    answer = client.get("/api/v1/events/", headers=caller["headers"])
    assert answer.status_code == 200
    assert answer.get_json() == []
    assert answer.headers["X-Log-Head"] == "0"

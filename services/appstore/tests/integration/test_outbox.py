"""The outbox on both backends: one event per write, none for a rollback, relayed in order."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from appstore import outbox
from appstore.errors import InsufficientCredit
from appstore.models import OutboxEvent
from appstore.relay.memory_publisher import MemoryPublisher
from appstore.relay.relay import Relay
from appstore.security.principal import Principal
from appstore.services import apps, purchases, users
from appstore_events import decode


@pytest.fixture(scope="session", params=["postgres", "sqlite"])
def backend_url(request):
    return request.getfixturevalue(f"{request.param}_url")


def _events(components) -> list[OutboxEvent]:
    with components.db.reading() as session:
        return list(session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))


def _relay(components, publisher) -> tuple[Relay, int]:
    relay = Relay(components.db.engine, publisher, components.settings.data_dir, batch_size=3)
    published = 0
    with components.db.engine.connect() as connection:
        while count := relay.publish_once(connection, lambda: False):
            published += count
    return relay, published


def _write_one_of_each(components) -> list[str]:
    db, hasher = components.db, components.passwords
    admin = users.register(db, hasher, "root", "r@example.com", "password1", "admin")
    dev = users.register(db, hasher, "dev", "d@example.com", "password1")
    buyer = users.register(db, hasher, "buyer", "b@example.com", "password1")
    as_admin = Principal(admin.id, "root", "admin")
    as_dev, as_buyer = Principal(dev.id, "dev", "user"), Principal(buyer.id, "buyer", "user")
    users.grant_credit(db, as_admin, buyer.id, 50)
    app = apps.create_app(
        db,
        as_dev,
        {"title": "T", "description": "D", "price": 20, "access_link": "https://x.example"},
    )
    apps.update_app(db, as_dev, app.id, {"title": "T2", "access_link": "https://y.example"})
    apps.verify_app(db, as_admin, app.id)
    purchases.purchase(db, as_buyer, app.id)
    apps.delete_app(db, as_dev, app.id)
    return ["UserRegistered"] * 3 + [
        "CreditGranted",
        "AppCreated",
        "AppUpdated",
        "AppVerified",
        "AppPurchased",
        "AppDeleted",
    ]


def test_each_write_records_exactly_one_event(components):
    expected = _write_one_of_each(components)

    rows = _events(components)

    assert [row.event_type for row in rows] == expected
    assert all(row.sequence is None for row in rows)  # numbered by the relay, not the writer
    updated = json.loads(rows[5].envelope)["data"]
    assert updated["changes"] == {"title": "T2"}  # the access link stays private
    bought = json.loads(rows[7].envelope)["data"]
    assert (bought["price"], bought["purchase_id"]) == (20, 1)


def test_a_refused_purchase_records_nothing(components, api):
    owner, buyer = api.user(), api.user(credit=5)
    app = api.app(owner, price=10)
    before = len(_events(components))

    with pytest.raises(InsufficientCredit):
        purchases.purchase(components.db, Principal(buyer["id"], "b", "user"), app["id"])

    assert len(_events(components)) == before


def test_relay_publishes_every_event_once_in_sequence_order(components):
    expected = _write_one_of_each(components)
    publisher = MemoryPublisher()

    _, published = _relay(components, publisher)

    envelopes = [decode(message.body) for message in publisher.published]
    assert published == len(expected)
    assert [e.event_type for e in envelopes] == expected
    assert [e.sequence for e in envelopes] == list(range(1, len(expected) + 1))
    assert [m.message_id for m in publisher.published] == [e.event_id for e in envelopes]
    assert publisher.published[0].routing_key == "user.registered"
    with components.db.reading() as session:
        assert outbox.published_through(session) == len(expected)


def test_an_unconfirmed_batch_is_published_again_and_nothing_is_skipped(components):
    expected = _write_one_of_each(components)
    publisher = MemoryPublisher()
    publisher.fail_next(2)

    _relay(components, publisher)

    sequences = [decode(message.body).sequence for message in publisher.published]
    assert sequences == list(range(1, len(expected) + 1))


def test_events_written_after_a_pass_get_higher_numbers(components):
    _write_one_of_each(components)
    publisher = MemoryPublisher()
    _relay(components, publisher)
    users.register(components.db, components.passwords, "late", "l@example.com", "password1")

    _relay(components, publisher)

    last = decode(publisher.published[-1].body)
    assert (last.event_type, last.sequence) == ("UserRegistered", 10)
    with components.db.reading() as session:
        assert session.scalar(select(func.count()).where(OutboxEvent.sequence.is_(None))) == 0

"""The fold's pure half: a batch of envelopes summed into per-row deltas, no database."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import datetime

import pytest

from appstore_events import new_envelope
from dashboard.fold import AppDelta, BuyerDelta, DeveloperDelta, UnfoldableEvent, plan

from ..conftest import moment


def utc(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-26T{text}+00:00")


def purchased(sequence, app_id, buyer_id, owner_id, price, at):
    data = {
        "purchase_id": sequence,
        "app_id": app_id,
        "buyer_id": buyer_id,
        "owner_id": owner_id,
        "price": price,
        "purchased_at": utc(at),
    }
    return new_envelope("AppPurchased", data).with_sequence(sequence)


def created(sequence, app_id, owner_id, title, at):
    data = {
        "app_id": app_id,
        "owner_id": owner_id,
        "title": title,
        "price": 10,
        "created_at": utc(at),
    }
    return new_envelope("AppCreated", data).with_sequence(sequence)


def updated(sequence, app_id, **changes):
    return new_envelope("AppUpdated", {"app_id": app_id, "changes": changes}).with_sequence(
        sequence
    )


def registered(sequence, user_id, at):
    data = {"user_id": user_id, "username": f"u{user_id}", "role": "user", "registered_at": at}
    return new_envelope("UserRegistered", data).with_sequence(sequence)


def granted(sequence, user_id, amount):
    data = {"user_id": user_id, "amount": amount, "granted_by": 1, "granted_at": utc("09:00:00")}
    return new_envelope("CreditGranted", data).with_sequence(sequence)


def verified(sequence, app_id):
    data = {"app_id": app_id, "verified_by": 1, "verified_at": utc("09:00:00")}
    return new_envelope("AppVerified", data).with_sequence(sequence)


def deleted(sequence, app_id):
    data = {"app_id": app_id, "deleted_by": 1, "deleted_at": utc("09:00:00")}
    return new_envelope("AppDeleted", data).with_sequence(sequence)


def test_purchases_add_to_totals_app_developer_and_buyer():
    deltas = plan(
        [
            purchased(1, app_id=5, buyer_id=9, owner_id=2, price=30, at="18:00:01"),
            purchased(2, app_id=5, buyer_id=8, owner_id=2, price=20, at="18:00:02"),
            purchased(3, app_id=6, buyer_id=9, owner_id=3, price=7, at="17:59:00"),
        ]
    )

    assert deltas.totals == Counter(purchases=3, credits_spent=57)
    assert deltas.apps == {
        5: AppDelta(owner_id=2, purchases=2, revenue=50),
        6: AppDelta(owner_id=3, purchases=1, revenue=7),
    }
    assert deltas.developers == {
        2: DeveloperDelta(purchases=2, revenue=50),
        3: DeveloperDelta(purchases=1, revenue=7),
    }
    assert deltas.buyers == {
        9: BuyerDelta(first_purchase_at=utc("17:59:00"), purchases=2),
        8: BuyerDelta(first_purchase_at=utc("18:00:02"), purchases=1),
    }


def test_the_other_event_types_land_in_their_totals_and_rows():
    deltas = plan(
        [
            registered(1, user_id=1, at=utc("09:00:00")),
            granted(2, user_id=1, amount=500),
            granted(3, user_id=1, amount=25),
            created(4, app_id=5, owner_id=1, title="Notes", at="09:10:00"),
            verified(5, app_id=5),
            deleted(6, app_id=7),
        ]
    )

    assert deltas.totals == Counter(users=1, credits_granted=525, apps_created=1, apps_verified=1)
    assert deltas.known_users[1].username == "u1"
    assert deltas.apps == {
        5: AppDelta(
            owner_id=1,
            title="Notes",
            title_sequence=4,
            created_at=utc("09:10:00"),
            verified=True,
        ),
        7: AppDelta(deleted=True),
    }
    assert deltas.developers == {1: DeveloperDelta(apps=1)}
    assert "buyers" not in deltas.totals


@pytest.mark.parametrize(
    ("moment", "minute", "quarter_hour"),
    [
        ("18:07:59.999999", "18:07:00", "18:00:00"),
        ("18:15:00", "18:15:00", "18:15:00"),
        ("18:14:59", "18:14:00", "18:00:00"),
        ("18:59:30", "18:59:00", "18:45:00"),
    ],
)
def test_series_land_in_the_utc_minute_and_quarter_hour_of_the_event(moment, minute, quarter_hour):
    deltas = plan([purchased(1, app_id=5, buyer_id=9, owner_id=2, price=30, at=moment)])

    assert deltas.series_minute == {
        ("purchases", utc(minute)): 1,
        ("credits_spent", utc(minute)): 30,
    }
    assert deltas.series_quarter_hour == {
        ("purchases", utc(quarter_hour)): 1,
        ("credits_spent", utc(quarter_hour)): 30,
    }


def test_buckets_come_from_the_domain_time_not_the_arrival_time():
    event = purchased(1, app_id=5, buyer_id=9, owner_id=2, price=30, at="18:07:59")
    late = dataclasses.replace(event, occurred_at=utc("23:00:00"))

    deltas = plan([late])

    assert set(deltas.series_minute) == {
        ("purchases", utc("18:07:00")),
        ("credits_spent", utc("18:07:00")),
    }


def test_each_series_metric_takes_its_own_event_time():
    deltas = plan(
        [
            registered(1, user_id=1, at=utc("08:01:10")),
            created(2, app_id=5, owner_id=1, title="Notes", at="08:31:00"),
            purchased(3, app_id=5, buyer_id=9, owner_id=1, price=0, at="08:46:00"),
        ]
    )

    # A free purchase counts as a purchase but spends nothing, so adds no credits_spent row.
    assert deltas.series_quarter_hour == {
        ("users", utc("08:00:00")): 1,
        ("apps_created", utc("08:30:00")): 1,
        ("purchases", utc("08:45:00")): 1,
    }


def test_bucket_keys_are_utc_whatever_zone_the_time_was_given_in():
    deltas = plan([registered(1, user_id=1, at="2026-11-26T23:50:00+05:45")])

    assert set(deltas.series_minute) == {("users", utc("18:05:00"))}
    assert set(deltas.series_quarter_hour) == {("users", utc("18:00:00"))}


def test_a_repeated_event_in_the_batch_counts_once():
    purchase = purchased(1, app_id=5, buyer_id=9, owner_id=2, price=30, at="18:00:00")

    deltas = plan([purchase, purchase, purchase])

    assert deltas.totals == Counter(purchases=1, credits_spent=30)
    assert deltas.apps[5].purchases == 1
    assert deltas.series_minute[("purchases", utc("18:00:00"))] == 1


def test_the_title_with_the_highest_sequence_wins_whatever_the_order():
    deltas = plan(
        [
            updated(9, app_id=5, title="Third"),
            created(2, app_id=5, owner_id=1, title="First", at="09:00:00"),
            updated(5, app_id=5, title="Second"),
            updated(11, app_id=5, price=99),
        ]
    )

    assert (deltas.apps[5].title, deltas.apps[5].title_sequence) == ("Third", 9)


def test_an_update_without_a_title_touches_no_app_row():
    assert plan([updated(3, app_id=5, description="Longer")]).apps == {}


def test_an_unknown_type_or_version_is_refused():
    event = registered(1, user_id=1, at=utc("09:00:00"))

    with pytest.raises(UnfoldableEvent, match="UserRenamed"):
        plan([dataclasses.replace(event, event_type="UserRenamed")])
    with pytest.raises(UnfoldableEvent, match="version 2"):
        plan([dataclasses.replace(event, event_version=2)])


def test_prices_come_from_creation_and_updates_that_change_the_price(log):
    created = log.created(5, 2, "Sky Watch", "09:00:00", price=30)
    renamed = log.updated(5, "09:10:00", title="Sky Watch 2")
    repriced = log.updated(5, "09:20:00", price=12)

    deltas = plan([created, renamed, repriced])

    assert sorted(
        (change.changed_at, change.sequence, change.price) for change in deltas.app_prices.values()
    ) == [
        (created.occurred_at, created.sequence, 30),
        (repriced.occurred_at, repriced.sequence, 12),
    ]


def test_a_purchase_counts_in_its_apps_and_developers_minute_and_quarter_hour(log):
    deltas = plan(
        [
            log.purchased(1, 5, 9, 2, 30, "10:14:59"),
            log.purchased(2, 5, 8, 2, 20, "10:14:01"),
            log.purchased(3, 6, 9, 2, 5, "10:15:00"),
            log.granted(9, 100, "10:16:30"),
        ]
    )

    sales = {key: (s.purchases, s.revenue) for key, s in deltas.sales_series.items()}
    assert sales == {
        ("minute", "app", 5, moment("10:14:00")): (2, 50),
        ("minute", "owner", 2, moment("10:14:00")): (2, 50),
        ("quarter", "app", 5, moment("10:00:00")): (2, 50),
        ("quarter", "owner", 2, moment("10:00:00")): (2, 50),
        ("minute", "app", 6, moment("10:15:00")): (1, 5),
        ("minute", "owner", 2, moment("10:15:00")): (1, 5),
        ("quarter", "app", 6, moment("10:15:00")): (1, 5),
        ("quarter", "owner", 2, moment("10:15:00")): (1, 5),
    }
    assert deltas.series_minute["credits_granted", moment("10:16:00")] == 100
    assert deltas.series_quarter_hour["credits_granted", moment("10:15:00")] == 100

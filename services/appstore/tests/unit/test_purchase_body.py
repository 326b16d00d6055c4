"""The purchase endpoint's answer, built without marshmallow, is what its schema documents."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from appstore.api.schemas.purchases import PurchaseSchema, purchase_body
from appstore.models import Purchase
from appstore.services.purchase_statement import Bought


def _purchase(created_at: datetime, link: str | None, key: str | None) -> Purchase:
    bought = Purchase(id=7, app_id=3, buyer_id=2, price=0, created_at=created_at)
    bought.access_link, bought.access_key = link, key
    return bought


def _bought(created_at: datetime, link: str | None, key: str | None) -> Bought:
    return Bought(7, 3, 2, 0, created_at, link, key)


@pytest.mark.parametrize(
    "created_at",
    [
        datetime(2026, 12, 6, 9, 30, 1, 250),  # naive, as SQLite returns it: UTC
        datetime(2026, 12, 6, 9, 30, tzinfo=UTC),
        datetime(2026, 12, 6, 10, 30, tzinfo=timezone(timedelta(hours=1))),
    ],
)
@pytest.mark.parametrize(
    ("link", "key"), [("https://apps.example.com/x", "k-1"), ("https://a.example/", None)]
)
@pytest.mark.parametrize("make", [_purchase, _bought], ids=["row", "record"])
def test_the_answer_equals_the_schemas_dump(make, created_at, link, key):
    bought = make(created_at, link, key)
    assert purchase_body(bought) == PurchaseSchema().dump(bought)


def test_absent_access_fields_are_left_out_as_the_schema_does():
    body = purchase_body(_purchase(datetime(2026, 1, 1, tzinfo=UTC), None, None))
    assert set(body) == {"id", "app_id", "buyer_id", "price", "created_at"}
    assert body["created_at"] == "2026-01-01T00:00:00.000000Z"

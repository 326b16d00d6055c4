"""A delivery's AMQP properties as kept with its message: always a JSON object."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace

from dashboard.worker.properties import delivery_properties


def _properties(headers):
    method = SimpleNamespace(routing_key="app.purchased")
    return delivery_properties(method, SimpleNamespace(headers=headers, content_type="json"))


def test_plain_headers_are_kept_as_they_are_and_copied():
    headers = {"x-origin": "appstore", "x-attempt": 2}
    kept = _properties(headers)

    assert kept == {
        "routing_key": "app.purchased",
        "headers": {"x-origin": "appstore", "x-attempt": 2},
        "content_type": "json",
    }
    assert kept["headers"] is not headers


def test_headers_json_cannot_hold_are_kept_as_text():
    kept = _properties(
        {
            "raw": b"bytes",
            "when": datetime(2026, 1, 2, 3, 4, 5),
            "amount": Decimal("1.5"),
            "nested": {"inner": b"x", "flag": True},
        }
    )["headers"]

    assert kept == {
        "raw": "bytes",
        "when": "2026-01-02 03:04:05",
        "amount": "1.5",
        "nested": {"inner": "x", "flag": True},
    }
    assert json.loads(json.dumps(kept)) == kept


def test_no_headers_are_an_empty_object():
    assert _properties(None)["headers"] == {}

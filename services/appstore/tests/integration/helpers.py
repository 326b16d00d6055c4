"""Small assertions and shortcuts shared by the API tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from werkzeug.http import HTTP_STATUS_CODES

JSON_ERROR_KEYS = {"code", "status", "message", "errors"}


def assert_error(response, code: int, message: str | None = None) -> dict:
    """Check ``response`` is the flask-smorest error shape with status ``code``; return its body."""
    assert response.status_code == code, response.get_data(as_text=True)[:1000]
    body = response.get_json()
    assert isinstance(body, dict), response.get_data(as_text=True)[:1000]
    assert body["code"] == code
    assert body["status"] == HTTP_STATUS_CODES[code]
    assert set(body) <= JSON_ERROR_KEYS
    if message is not None:
        assert body["message"] == message
    return body


def assert_client_error(response) -> dict:
    """Any 4xx in the error shape: the answer to malformed input."""
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:1000]
    return assert_error(response, response.status_code)


def pagination(response) -> dict:
    return json.loads(response.headers["X-Pagination"])


def parse_timestamp(value: str) -> datetime:
    """Parse an API timestamp, checking it is UTC with a ``Z`` suffix."""
    assert value.endswith("Z"), value
    parsed = datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
    return parsed


def assert_recent(value: str, seconds: float = 60) -> datetime:
    parsed = parse_timestamp(value)
    assert abs(datetime.now(UTC) - parsed) < timedelta(seconds=seconds), value
    return parsed


def ids(response) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()]


def grant(client, admin: dict, user: dict, amount: int):
    return client.post(
        f"/api/v1/users/{user['id']}/credit", json={"amount": amount}, headers=admin["headers"]
    )


def buy(client, buyer: dict, app: dict, key: str | None = None):
    headers = dict(buyer["headers"])
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(f"/api/v1/apps/{app['id']}/purchase", headers=headers)

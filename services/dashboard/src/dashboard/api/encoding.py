"""Answers as bytes: what the cache keeps and the views send as they are."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask import Response


def utc_text(moment: datetime) -> str:
    """ISO-8601 in UTC with a ``Z``; microseconds only when there are any."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat()[:-6] + "Z"  # "+00:00" off


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc_text(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def to_json(value: Any) -> bytes:
    return json.dumps(value, default=_default, separators=(",", ":")).encode()


def json_response(body: bytes, status: int = 200) -> Response:
    # A Response passes through flask-smorest's @response untouched: the cached bytes are
    # sent without being decoded and dumped again.
    return Response(body, status=status, mimetype="application/json")

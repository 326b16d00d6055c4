"""Answers as bytes: what the cache keeps, and what the API sends as it is."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any


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
    """``value`` as compact JSON, datetimes as :func:`utc_text`."""
    return json.dumps(value, default=_default, separators=(",", ":")).encode()

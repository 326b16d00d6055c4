"""Marshmallow fields for the wire format: strict integers, UTC timestamps, UUID strings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from marshmallow import fields, validate

# Every integer on the wire must fit a signed 64-bit database column on both sides.
INT64_MAX = 2**63 - 1


def format_timestamp(moment: datetime) -> str:
    """Render an aware datetime the contract's way: UTC, microseconds, ``Z`` suffix.

    Parameters:
        moment: An aware datetime, in any zone.

    Returns:
        str: For example ``2026-11-26T18:00:00.123456Z``.

    Raises:
        ValueError: If ``moment`` is naive.
    """
    if moment.tzinfo is UTC:
        # Already in UTC, as every moment the producer stamps: its "+00:00" becomes the "Z".
        return moment.isoformat(timespec="microseconds")[:-6] + "Z"
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamp must be timezone-aware")
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "Z"


def parse_timestamp(text: str) -> datetime:
    """Parse an ISO-8601 timestamp that carries an offset (``Z`` or ``+hh:mm``).

    Parameters:
        text: The timestamp as found on the wire.

    Returns:
        datetime: The same instant as an aware datetime in UTC.

    Raises:
        ValueError:
            If ``text`` is not ISO-8601, has no offset, or falls outside datetime's range in UTC.
    """
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamp has no UTC offset")
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("timestamp is out of range") from exc


class UtcTimestamp(fields.Field):
    """Loads an aware ISO-8601 string (or aware datetime) to a UTC datetime; dumps with ``Z``."""

    default_error_messages = {"invalid": "Not an ISO-8601 timestamp with a UTC offset: {reason}."}

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else format_timestamp(value)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime:
        if isinstance(value, datetime):
            value = value.isoformat()
        if not isinstance(value, str):
            raise self.make_error("invalid", reason="not a string")
        try:
            return parse_timestamp(value)
        except ValueError as exc:
            raise self.make_error("invalid", reason=str(exc)) from exc


class StrictInteger(fields.Integer):
    """An integer in ``minimum .. INT64_MAX`` that refuses floats, strings and booleans."""

    def __init__(self, *, minimum: int = 0, **kwargs: Any) -> None:
        # marshmallow's numbers already refuse booleans; `strict` refuses floats and strings.
        super().__init__(strict=True, validate=validate.Range(min=minimum, max=INT64_MAX), **kwargs)


class UuidString(fields.String):
    """A UUID given as a string, loaded to its canonical lower-case form."""

    default_error_messages = {"invalid_uuid": "Not a valid UUID string."}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return str(uuid.UUID(text))
        except ValueError as exc:
            raise self.make_error("invalid_uuid") from exc

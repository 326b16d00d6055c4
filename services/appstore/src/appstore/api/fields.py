"""Marshmallow fields shared by every schema of the API."""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import ValidationError, fields, validate

MAX_ID = 2**31 - 1


class UtcDateTime(fields.DateTime):
    """ISO-8601 in UTC with a ``Z`` suffix; naive values (SQLite keeps no zone) are UTC."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        try:
            return parsed.astimezone(UTC)
        except OverflowError as error:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
            raise ValidationError("Out of the range of dates.") from error


class Text(fields.String):
    """A string that PostgreSQL can store: NUL characters are refused up front."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("Must not contain NUL characters.")
        return text


def Id(**kwargs) -> fields.Integer:
    """A database id: positive and within PostgreSQL's integer range."""
    return fields.Integer(validate=validate.Range(1, MAX_ID), **kwargs)


def Credits(minimum: int, maximum: int, **kwargs) -> fields.Integer:
    """A whole number of credits; strict, so 1.5, "10" and true are refused."""
    return fields.Integer(strict=True, validate=validate.Range(minimum, maximum), **kwargs)


def HttpUrl(**kwargs) -> fields.Url:
    return fields.Url(schemes={"http", "https"}, validate=validate.Length(max=2048), **kwargs)

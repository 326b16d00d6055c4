"""Marshmallow fields shared by every schema of the API."""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import ValidationError, fields, validate

MAX_ID = 2**31 - 1


def utc_text(value: datetime) -> str:
    """ISO-8601 in UTC with a ``Z`` suffix; a naive value (SQLite keeps no zone) is UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


class UtcDateTime(fields.DateTime):
    """ISO-8601 in UTC with a ``Z`` suffix; naive values (SQLite keeps no zone) are UTC."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else utc_text(value)

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        try:
            return parsed.astimezone(UTC)
        except OverflowError as error:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
            raise ValidationError("Out of the range of dates.") from error


def _storable(text: str) -> str:
    """Refuse what PostgreSQL and argon2 cannot take: NUL, and lone surrogates that JSON's
    \\ud800 escapes produce but UTF-8 cannot encode."""
    if "\x00" in text:
        raise ValidationError("Must not contain NUL characters.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValidationError("Must be valid Unicode text.") from error
    return text


class Text(fields.String):
    """A string the database can store."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        return _storable(super()._deserialize(value, attr, data, **kwargs))


class EmailAddress(fields.Email):
    def _deserialize(self, value, attr, data, **kwargs) -> str:
        return _storable(super()._deserialize(value, attr, data, **kwargs))


class _HttpUrl(fields.Url):
    def _deserialize(self, value, attr, data, **kwargs) -> str:
        return _storable(super()._deserialize(value, attr, data, **kwargs))


def Id(**kwargs) -> fields.Integer:
    """A database id: positive and within PostgreSQL's integer range."""
    return fields.Integer(validate=validate.Range(1, MAX_ID), **kwargs)


def Credits(minimum: int, maximum: int, **kwargs) -> fields.Integer:
    """A whole number of credits; strict, so 1.5, "10" and true are refused."""
    return fields.Integer(strict=True, validate=validate.Range(minimum, maximum), **kwargs)


def HttpUrl(**kwargs) -> fields.Url:
    return _HttpUrl(schemes={"http", "https"}, validate=validate.Length(max=2048), **kwargs)

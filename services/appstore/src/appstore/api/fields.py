"""Marshmallow fields shared by every schema of the API."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from marshmallow import ValidationError, fields, validate

MAX_ID = 2**31 - 1
#: No NUL character, as a JSON Schema (ECMA-262) pattern: what the document says of text.
NO_NUL = r"^[^\u0000]*$"
# http(s), a host (a name with a top-level domain, localhost or an IPv4 address), an optional
# port, then visible ASCII: what browsers and clients send unencoded.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = rf"(?:{_LABEL}\.)+[A-Za-z]{{2,63}}|localhost|(?:[0-9]{{1,3}}\.){{3}}[0-9]{{1,3}}"
HTTP_URL = rf"https?://(?:{_HOST})(?::[0-9]{{1,5}})?(?:[/?#][!-~]*)?"


class Matches(validate.Regexp):
    """The whole value matches ``body``; the document shows it as ``^(?:body)$``, which a
    JSON Schema validator (ECMA-262) reads the same way: no ``$`` before a trailing newline.
    """

    def __init__(self, body: str, error: str) -> None:
        super().__init__(rf"^(?:{body})$", error=error)
        self._whole = re.compile(body)

    def __call__(self, value: str) -> str:
        if self._whole.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


def utc_text(value: datetime) -> str:
    """ISO-8601 in UTC with a ``Z`` suffix; a naive value (SQLite keeps no zone) is UTC."""
    if value.tzinfo is UTC:  # as the store stamps every row: its "+00:00" becomes the "Z"
        return value.isoformat(timespec="microseconds")[:-6] + "Z"
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
    """A string the database can store; its document says so with a pattern."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.metadata.setdefault("pattern", NO_NUL)

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        return _storable(super()._deserialize(value, attr, data, **kwargs))


class EmailAddress(fields.Email):
    def _deserialize(self, value, attr, data, **kwargs) -> str:
        return _storable(super()._deserialize(value, attr, data, **kwargs))


def Id(**kwargs) -> fields.Integer:
    """A database id: positive and within PostgreSQL's integer range."""
    return fields.Integer(validate=validate.Range(1, MAX_ID), **kwargs)


def Credits(minimum: int, maximum: int, **kwargs) -> fields.Integer:
    """A whole number of credits; strict, so 1.5, "10" and true are refused."""
    return fields.Integer(strict=True, validate=validate.Range(minimum, maximum), **kwargs)


def HttpUrl(**kwargs) -> fields.String:
    """An http(s) URL of visible ASCII characters (2,048 at most)."""
    return fields.String(
        validate=[validate.Length(max=2048), Matches(HTTP_URL, "Not a valid http(s) URL.")],
        metadata={"description": "An http(s) URL: a host name, localhost or IPv4 address."},
        **kwargs,
    )

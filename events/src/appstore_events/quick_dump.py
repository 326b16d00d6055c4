"""A quick path through the contract's marshmallow schemas for dumping plainly loaded payloads.

marshmallow's ``dump`` costs about as much as the rest of recording an event. The producer
dumps every payload it has just loaded, whose values are already of the few plain types the
contract uses (integers, strings, aware datetimes, dicts with string keys, nested payloads).
:func:`quick_dumper` turns a schema, once, into a function that renders exactly such values
as marshmallow does, and raises :class:`~.quick_load.NotQuick` for anything else, which
the caller then hands to marshmallow. The schemas stay the one definition of the wire format.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from marshmallow import Schema, fields

from .quick_load import NotQuick, per_schema, plain_fields
from .wire_fields import StrictInteger, UtcTimestamp, UuidString, format_timestamp

#: Dumps one value (or a whole payload); raises NotQuick to leave it to marshmallow.
Dumper = Callable[[Any], Any]

_ABSENT = object()


@per_schema
def quick_dumper(schema: Schema) -> Dumper | None:
    """Return the quick dumper of ``schema``, or None when its fields are not all known here
    (compiled on first use and kept: see :func:`~.quick_load.per_schema`)."""
    plain = plain_fields(schema, "dump")
    if plain is None:
        return None
    specs = []
    for name, field in plain:
        dumper = _field_dumper(field)
        if dumper is None:
            return None
        specs.append((name, dumper))

    def dump(data: Any) -> dict[str, Any]:
        if type(data) is not dict:
            raise NotQuick
        dumped = {}
        for name, dumper in specs:
            value = data.get(name, _ABSENT)
            if value is not _ABSENT:
                dumped[name] = None if value is None else dumper(value)
        return dumped

    return dump


def _field_dumper(field: fields.Field) -> Dumper | None:
    kind = type(field)
    if kind is StrictInteger:
        return _integer
    if kind in (fields.String, UuidString):
        return _string
    if kind is UtcTimestamp:
        return _timestamp
    if kind is fields.Dict and field.value_field is None:
        keys = field.key_field
        return _dict_of_str_keys if keys is None or type(keys) is fields.String else None
    if kind is fields.Nested and not field.many:
        plain = field.only is None and not field.exclude
        return quick_dumper(field.schema) if plain else None
    return None


def _integer(value: Any) -> int:
    if type(value) is not int:
        raise NotQuick
    return value


def _string(value: Any) -> str:
    if type(value) is not str:
        raise NotQuick
    return value


def _timestamp(value: Any) -> str:
    if type(value) is not datetime or value.utcoffset() is None:
        raise NotQuick
    return format_timestamp(value)


def _dict_of_str_keys(value: Any) -> dict:
    if type(value) is not dict:
        raise NotQuick
    for key in value:
        if type(key) is not str:
            raise NotQuick
    return dict(value)

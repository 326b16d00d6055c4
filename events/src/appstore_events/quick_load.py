"""A quick path through the contract's marshmallow schemas for input that is plainly valid.

marshmallow's ``load`` costs tens of microseconds per event, most of the work of decoding one.
A dashboard rebuild reads the whole event log, so that cost is paid for every event ever
recorded. :func:`quick_loader` turns a schema, once, into plain checks for the few kinds of
field the contract uses (strict integers, strings with a minimum length or a set of choices,
UTC timestamps, as text or as the producer's aware datetimes, UUID strings, dicts, nested
schemas).

Input that passes every check loads to exactly what marshmallow gives. Anything else (a
value of an unusual type, a failed validation, a schema or field these checks do not know)
raises :class:`NotQuick`, and the caller hands the input to marshmallow, which accepts it or
raises its precise error. So the quick path is only ever narrower than the schema it mirrors,
never more lenient, and the schemas stay the one definition of the wire format.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from marshmallow import RAISE, Schema, fields, validate
from marshmallow.utils import missing

from .wire_fields import StrictInteger, UtcTimestamp, UuidString, parse_timestamp

#: Loads one value (or a whole payload); raises NotQuick to leave it to marshmallow.
Loader = Callable[[Any], Any]

# str(uuid.UUID(text)) is text itself exactly for this form, which is what producers send.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ABSENT = object()


class NotQuick(Exception):
    """This input needs marshmallow: it may be valid, but not plainly so."""


def per_schema(compile_schema: Callable[[Schema], Any]) -> Callable[[Schema], Any]:
    """Make ``compile_schema`` compile each schema on first use and keep what it made.

    A schema must not be changed once compiled (the contract's schemas never are).
    """
    compiled: dict[int, tuple[Schema, Any]] = {}

    @functools.wraps(compile_schema)
    def compiled_once(schema: Schema) -> Any:
        entry = compiled.get(id(schema))
        if entry is None or entry[0] is not schema:
            entry = (schema, compile_schema(schema))
            compiled[id(schema)] = entry
        return entry[1]

    return compiled_once


def plain_fields(schema: Schema, way: str) -> list[tuple[str, fields.Field]] | None:
    """The fields ``schema`` loads or dumps (``way``: "load" or "dump"), if it is plain that
    way: no hooks, one object, each field under its own name and without a default; else
    None."""
    hooks = getattr(schema, "_hooks", None)
    if hooks is None or any(hooks.values()) or schema.many:
        return None
    plain = []
    for name, field in getattr(schema, f"{way}_fields").items():
        if field.data_key not in (None, name) or field.attribute not in (None, name):
            return None
        if getattr(field, f"{way}_default") is not missing:
            return None
        plain.append((name, field))
    return plain


@per_schema
def quick_loader(schema: Schema) -> Loader | None:
    """Return the quick loader of ``schema``, or None when its fields are not all known here
    (compiled on first use and kept: see :func:`per_schema`)."""
    if schema.partial or schema.unknown != RAISE:
        return None
    plain = plain_fields(schema, "load")
    if plain is None:
        return None
    specs = []
    for name, field in plain:
        loader = _field_loader(field)
        if loader is None:
            return None
        specs.append((name, loader, field.required, field.allow_none))
    names = frozenset(name for name, *_ in specs)
    return _payload_loader(specs, names)


def _payload_loader(specs: list[tuple[str, Loader, bool, bool]], names: frozenset) -> Loader:
    def load(data: Any) -> dict[str, Any]:
        if type(data) is not dict or not names.issuperset(data):
            raise NotQuick
        loaded = {}
        for name, loader, required, allow_none in specs:
            value = data.get(name, _ABSENT)
            if value is _ABSENT:
                if required:
                    raise NotQuick
            elif value is None:
                if not allow_none:
                    raise NotQuick
                loaded[name] = None
            else:
                loaded[name] = loader(value)
        return loaded

    return load


def _field_loader(field: fields.Field) -> Loader | None:
    kind = type(field)
    if kind is StrictInteger:
        return _integer_loader(field)
    if kind is UuidString and not field.validators:
        return _uuid
    if kind is fields.String:
        return _string_loader(field)
    if kind is UtcTimestamp and not field.validators:
        return _timestamp
    if kind is fields.Dict and not field.validators and field.value_field is None:
        keys = field.key_field
        return _dict_of_str_keys if type(keys) is fields.String and not keys.validators else None
    if kind is fields.Nested and not field.validators and not field.many:
        plain = field.only is None and not field.exclude and field.unknown is None
        return quick_loader(field.schema) if plain else None
    return None


def _integer_loader(field: StrictInteger) -> Loader | None:
    if not field.strict or len(field.validators) != 1:
        return None
    (bounds,) = field.validators
    if type(bounds) is not validate.Range or not (bounds.min_inclusive and bounds.max_inclusive):
        return None
    low, high = bounds.min, bounds.max
    if type(low) is not int or type(high) is not int:
        return None

    def load(value: Any) -> int:
        if type(value) is not int or not low <= value <= high:
            raise NotQuick
        return value

    return load


def _string_loader(field: fields.String) -> Loader | None:
    shortest, choices = 0, None
    for rule in field.validators:
        if type(rule) is validate.Length and rule.equal is None and rule.max is None:
            shortest = max(shortest, rule.min or 0)
        elif type(rule) is validate.OneOf and choices is None:
            choices = frozenset(rule.choices)
            if not all(type(choice) is str for choice in choices):
                return None
        else:
            return None
    if choices is not None:
        allowed = frozenset(choice for choice in choices if len(choice) >= shortest)

        def load_choice(value: Any) -> str:
            if type(value) is not str or value not in allowed:
                raise NotQuick
            return value

        return load_choice

    def load(value: Any) -> str:
        if type(value) is not str or len(value) < shortest:
            raise NotQuick
        return value

    return load


def _uuid(value: Any) -> str:
    if type(value) is not str or _CANONICAL_UUID.fullmatch(value) is None:
        raise NotQuick
    return value


def _timestamp(value: Any) -> Any:
    if type(value) is datetime:
        # A producer's own moment: marshmallow renders it as ISO-8601 and parses that back,
        # which comes to the same instant in UTC.
        if value.utcoffset() is None:
            raise NotQuick
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise NotQuick from None
    if type(value) is not str:
        raise NotQuick
    try:
        return parse_timestamp(value)
    except ValueError:
        raise NotQuick from None


def _dict_of_str_keys(value: Any) -> dict:
    if type(value) is not dict:
        raise NotQuick
    for key in value:
        if type(key) is not str:
            raise NotQuick
    return dict(value)

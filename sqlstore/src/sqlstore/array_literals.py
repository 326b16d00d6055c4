"""PostgreSQL array literals (``{1,2,3}``) rendered from Python lists, for bulk inserts.

psycopg2 adapts a list parameter element by element: an adapter object and a quoted SQL
constant per element (``ARRAY['...'::timestamptz, ...]``), which the server then parses
one constant at a time. For the thousands of values of a batch that costs about a
microsecond per integer and two per timestamp on each side. Rendered here as one array
literal sent as a single text parameter and cast by the server, the same values cost a
tenth of that: integers go through ``str`` in C, strings are quoted once each, and each
distinct timestamp is rendered once.

Only values whose text form is unambiguous are rendered: ``int`` (not ``bool``), ``str``
without NUL, and aware UTC ``datetime``. Anything else (``None``, a naive datetime, a
``Decimal``, ...) makes :func:`array_literal` return None, and the caller binds the list as
before, with the column type's own bind processing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any


def array_literal(values: Sequence[Any]) -> str | None:
    """The PostgreSQL array literal of ``values``, or None if they are not all of one kind
    that renders unambiguously (see the module's docstring).

    Parameters:
        values: at least one value; all ``int``, all ``str`` or all aware UTC datetimes.
    """
    kind = type(values[0])
    if kind is int:
        if not all(type(value) is int for value in values):
            return None
        return "{" + ",".join(map(str, values)) + "}"
    if kind is str:
        return _strings(values)
    if kind is datetime:
        return _timestamps(values)
    return None


def _strings(values: Sequence[Any]) -> str | None:
    if not all(type(value) is str for value in values):
        return None
    # Inside double quotes only a double quote and a backslash need escaping.
    quoted = '","'.join([value.replace("\\", "\\\\").replace('"', '\\"') for value in values])
    if "\x00" in quoted:  # PostgreSQL text cannot hold NUL: let the driver refuse it
        return None
    return '{"' + quoted + '"}'


def _timestamps(values: Sequence[Any]) -> str | None:
    if not all(type(value) is datetime and value.tzinfo is UTC for value in values):
        return None
    # A batch's buckets repeat: each distinct instant is rendered once.
    rendered = {value: value.isoformat() for value in dict.fromkeys(values)}
    return "{" + ",".join(map(rendered.__getitem__, values)) + "}"

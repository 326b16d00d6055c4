"""Envelopes to JSON and back.

The wire body of a message is the plain JSON envelope, UTF-8 encoded, published with
``content_type`` ``application/json``; the outbox stores and the event log serves the same
JSON. A consumer whose framework wraps bodies in a format of its own maps this body
through its own decoder first, then calls :func:`decode`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from .envelope import Envelope, new_envelope
from .errors import MalformedEvent, UnsupportedEventVersion
from .quick_load import NotQuick, quick_loader
from .registry import EVENT_TYPES, get_event_type
from .upcasting import upcast
from .wire_fields import StrictInteger, UtcTimestamp, UuidString, format_timestamp

CONTENT_TYPE = "application/json"
Raw = bytes | bytearray | memoryview | str | Mapping[str, Any]


class EnvelopeSchema(Schema):
    event_id = UuidString(required=True)
    event_type = fields.String(required=True, validate=validate.Length(min=1))
    event_version = StrictInteger(minimum=1, required=True)
    sequence = StrictInteger(minimum=1, required=True, allow_none=True)
    source = fields.String(required=True, validate=validate.Length(min=1))
    occurred_at = UtcTimestamp(required=True)
    data = fields.Dict(keys=fields.String(), required=True)


_ENVELOPE = EnvelopeSchema()
_QUICK_ENVELOPE = quick_loader(_ENVELOPE)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _load_envelope(obj: Any) -> dict[str, Any]:
    if not isinstance(obj, Mapping):
        raise MalformedEvent(f"an envelope must be a JSON object, not {type(obj).__name__}")
    # Name the event in the error when we can, so a dead-lettered message is traceable.
    known = {key: obj.get(key) for key in ("event_id", "event_type")}
    context = {key: value for key, value in known.items() if isinstance(value, str)}
    try:
        return _ENVELOPE.load(obj)
    except ValidationError as exc:
        message = f"invalid envelope: {exc.messages}"
        raise MalformedEvent(message, details=exc.messages, **context) from exc


def decode(raw: Raw) -> Envelope:
    """Parse and validate an event, upcasting its data to the current version.

    Parameters:
        raw: The JSON envelope as bytes or str, or already parsed into a dict.

    Returns:
        Envelope: With ``data`` loaded (timestamps as aware UTC datetimes) at the current version.

    Raises:
        MalformedEvent, UnknownEventType, UnsupportedEventVersion, InvalidPayload:
            Never anything else for bad input.
    """
    obj: Any = raw
    if isinstance(raw, bytes | bytearray | memoryview | str):
        try:
            obj = json.loads(
                bytes(raw) if isinstance(raw, memoryview) else raw, parse_constant=_refuse_constant
            )
        except (ValueError, RecursionError) as exc:
            raise MalformedEvent(f"not valid JSON: {exc}") from exc
    try:
        return _decode_quickly(obj)
    except NotQuick:
        pass  # marshmallow decides, and names what is wrong if anything is
    envelope = _load_envelope(obj)
    event_id = envelope["event_id"]
    spec = get_event_type(envelope["event_type"], event_id=event_id)
    version, data = upcast(
        spec.name, envelope["event_version"], envelope["data"], event_id=event_id
    )
    return Envelope(
        **{**envelope, "event_version": version, "data": spec.load(data, event_id=event_id)}
    )


def _decode_quickly(obj: Any) -> Envelope:
    """:func:`decode` for an envelope at its type's current version whose every field is
    plainly valid (see :mod:`.quick_load`); raises NotQuick for anything else."""
    if _QUICK_ENVELOPE is None:
        raise NotQuick
    envelope = _QUICK_ENVELOPE(obj)
    spec = EVENT_TYPES.get(envelope["event_type"])
    if spec is None or envelope["event_version"] != spec.version:
        raise NotQuick
    load_data = quick_loader(spec.schema)
    if load_data is None:
        raise NotQuick
    envelope["data"] = load_data(envelope["data"])
    return Envelope(**envelope)


def encode_dict(envelope: Envelope) -> dict[str, Any]:
    """Validate an envelope and render it as JSON-ready values.

    Parameters:
        envelope: An envelope at its type's current version.

    Returns:
        dict: Plain JSON values only; timestamps as ``...123456Z`` strings.

    Raises:
        MalformedEvent, UnknownEventType, UnsupportedEventVersion, InvalidPayload:
            If the envelope would not decode on the other side.
    """
    fields_ = _load_envelope(
        {f.name: getattr(envelope, f.name) for f in dataclasses.fields(envelope)}
    )
    event_id = fields_["event_id"]
    spec = get_event_type(fields_["event_type"], event_id=event_id)
    if fields_["event_version"] != spec.version:
        raise UnsupportedEventVersion(
            f"only the current version {spec.version} can be encoded",
            event_version=fields_["event_version"],
            supported_version=spec.version,
            event_id=event_id,
            event_type=spec.name,
        )
    data = spec.dump(spec.load(fields_["data"], event_id=event_id))
    occurred_at = format_timestamp(fields_["occurred_at"])
    return {**fields_, "occurred_at": occurred_at, "data": data}


def new_encoded(
    event_type: str, data: dict[str, Any], *, occurred_at: datetime | None = None
) -> tuple[Envelope, dict[str, Any]]:
    """:func:`new_envelope` and :func:`encode_dict` of it, validating the payload once.

    The producer's path (the outbox records one event per write): :func:`new_envelope`
    validates ``data``, and the fields it fills in itself are valid by construction, so
    rendering needs no second validation. The result equals ``encode_dict(envelope)``.

    Raises:
        UnknownEventType, InvalidPayload: as :func:`new_envelope`.
    """
    envelope = new_envelope(event_type, data, occurred_at=occurred_at)
    wire = {f.name: getattr(envelope, f.name) for f in dataclasses.fields(envelope)}
    wire["occurred_at"] = format_timestamp(envelope.occurred_at)
    wire["data"] = EVENT_TYPES[envelope.event_type].dump(envelope.data)
    return envelope, wire


def encode(envelope: Envelope) -> bytes:
    """Validate an envelope and render the UTF-8 JSON body (see :func:`encode_dict`)."""
    # ASCII escapes keep any string, even a lone surrogate, encodable and round-trippable.
    return json.dumps(encode_dict(envelope), separators=(",", ":"), allow_nan=False).encode()

"""The event contract shared by the Appstore (producer) and the Dashboard (consumer).

Build an event with :func:`new_envelope`, put it on the wire with :func:`encode`, read it
back with :func:`decode`. Everything that can go wrong raises an :class:`EventError`.
"""

from .codec import CONTENT_TYPE, EnvelopeSchema, decode, encode, encode_dict, new_encoded
from .envelope import Envelope, new_envelope
from .errors import (
    EventError,
    InvalidPayload,
    MalformedEvent,
    UnknownEventType,
    UnsupportedEventVersion,
)
from .payloads import (
    ROLES,
    AppChangesSchema,
    AppCreatedSchema,
    AppDeletedSchema,
    AppPurchasedSchema,
    AppUpdatedSchema,
    AppVerifiedSchema,
    CreditGrantedSchema,
    UserRegisteredSchema,
)
from .registry import EVENT_TYPES, EXCHANGE, SOURCE, EventType, get_event_type, routing_key_for
from .upcasting import Upcaster, register_upcaster, unregister_upcaster, upcast
from .wire_fields import format_timestamp, parse_timestamp

__all__ = [
    "CONTENT_TYPE",
    "EVENT_TYPES",
    "EXCHANGE",
    "ROLES",
    "SOURCE",
    "AppChangesSchema",
    "AppCreatedSchema",
    "AppDeletedSchema",
    "AppPurchasedSchema",
    "AppUpdatedSchema",
    "AppVerifiedSchema",
    "CreditGrantedSchema",
    "Envelope",
    "EnvelopeSchema",
    "EventError",
    "EventType",
    "InvalidPayload",
    "MalformedEvent",
    "UnknownEventType",
    "UnsupportedEventVersion",
    "Upcaster",
    "UserRegisteredSchema",
    "decode",
    "encode",
    "encode_dict",
    "format_timestamp",
    "get_event_type",
    "new_encoded",
    "new_envelope",
    "parse_timestamp",
    "register_upcaster",
    "routing_key_for",
    "unregister_upcaster",
    "upcast",
]

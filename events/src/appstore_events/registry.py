"""The table of event types: routing key, current version and payload schema of each."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError

from .errors import InvalidPayload, UnknownEventType
from .payloads import (
    AppCreatedSchema,
    AppDeletedSchema,
    AppPurchasedSchema,
    AppUpdatedSchema,
    AppVerifiedSchema,
    CreditGrantedSchema,
    UserRegisteredSchema,
)
from .quick_dump import quick_dumper
from .quick_load import NotQuick, quick_loader

EXCHANGE = "appstore.events"
SOURCE = "appstore"


@dataclass(frozen=True)
class EventType:
    """One row of the table: what an event type is called, where it goes, how it looks."""

    name: str
    routing_key: str
    version: int
    schema: Schema

    def load(self, data: Any, *, event_id: str | None = None) -> dict[str, Any]:
        """Validate wire (or already loaded) ``data`` against the current schema.

        Parameters:
            data: The payload, as JSON values or as Python values (datetimes).
            event_id: Only used to make the error more useful.

        Returns:
            dict: The payload with Python values (timestamps are aware UTC datetimes).

        Raises:
            InvalidPayload: If ``data`` does not satisfy the schema.
        """
        load = quick_loader(self.schema)
        if load is not None:
            try:
                return load(data)
            except NotQuick:
                pass  # marshmallow decides, and names what is wrong if anything is
        try:
            return self.schema.load(data)
        except ValidationError as exc:
            raise InvalidPayload(
                f"{self.name} v{self.version} payload is invalid: {exc.messages}",
                event_id=event_id,
                event_type=self.name,
                details=exc.messages,
            ) from exc

    def dump(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Turn a loaded payload back into JSON values (see :meth:`load`)."""
        dump = quick_dumper(self.schema)
        if dump is not None:
            try:
                return dump(data)
            except NotQuick:
                pass
        return self.schema.dump(data)


EVENT_TYPES: dict[str, EventType] = {
    event_type.name: event_type
    for event_type in (
        EventType("UserRegistered", "user.registered", 1, UserRegisteredSchema()),
        EventType("CreditGranted", "credit.granted", 1, CreditGrantedSchema()),
        EventType("AppCreated", "app.created", 1, AppCreatedSchema()),
        EventType("AppUpdated", "app.updated", 1, AppUpdatedSchema()),
        EventType("AppVerified", "app.verified", 1, AppVerifiedSchema()),
        EventType("AppDeleted", "app.deleted", 1, AppDeletedSchema()),
        EventType("AppPurchased", "app.purchased", 1, AppPurchasedSchema()),
    )
}


def get_event_type(name: str, *, event_id: str | None = None) -> EventType:
    """Look up an event type by name.

    Parameters:
        name: The ``event_type`` of an envelope, e.g. ``"AppPurchased"``.
        event_id: Only used to make the error more useful.

    Returns:
        EventType

    Raises:
        UnknownEventType: If no such type is in :data:`EVENT_TYPES`.
    """
    try:
        return EVENT_TYPES[name]
    except (KeyError, TypeError):
        raise UnknownEventType(
            f"unknown event type {name!r}", event_id=event_id, event_type=str(name)
        ) from None


def routing_key_for(name: str) -> str:
    """Return the routing key an event type is published with on :data:`EXCHANGE`.

    Parameters:
        name: The ``event_type``, e.g. ``"AppPurchased"``.

    Returns:
        str: E.g. ``"app.purchased"``.

    Raises:
        UnknownEventType: If no such type is in :data:`EVENT_TYPES`.
    """
    return get_event_type(name).routing_key

"""One schema per event type: the ``data`` of the envelope, exactly as the contract lists it.

Loading turns wire values into Python ones (timestamps become aware UTC datetimes);
dumping does the reverse. Unknown fields are refused: a change of shape is a new
``event_version``, brought up to date on the consumer's side by an upcaster.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from .wire_fields import StrictInteger, UtcTimestamp

ROLES = ("user", "admin", "management", "service")


def _id() -> StrictInteger:
    return StrictInteger(minimum=1, required=True)


def _name() -> fields.String:
    return fields.String(required=True, validate=validate.Length(min=1))


class UserRegisteredSchema(Schema):
    user_id = _id()
    username = _name()
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    registered_at = UtcTimestamp(required=True)


class CreditGrantedSchema(Schema):
    user_id = _id()
    amount = StrictInteger(minimum=1, required=True)
    granted_by = _id()
    granted_at = UtcTimestamp(required=True)


class AppCreatedSchema(Schema):
    app_id = _id()
    owner_id = _id()
    title = _name()
    price = StrictInteger(minimum=0, required=True)
    created_at = UtcTimestamp(required=True)


class AppChangesSchema(Schema):
    """The public app fields an update may carry, each optional.

    ``access_link`` and ``access_key`` are deliberately absent: only owners, buyers and
    admins may see them, while the event stream is read by every consumer.
    """

    title = fields.String(validate=validate.Length(min=1))
    description = fields.String()
    price = StrictInteger(minimum=0)
    icon_url = fields.String(allow_none=True)


class AppUpdatedSchema(Schema):
    app_id = _id()
    changes = fields.Nested(AppChangesSchema, required=True)


class AppVerifiedSchema(Schema):
    app_id = _id()
    verified_by = _id()
    verified_at = UtcTimestamp(required=True)


class AppDeletedSchema(Schema):
    app_id = _id()
    deleted_by = _id()
    deleted_at = UtcTimestamp(required=True)


class AppPurchasedSchema(Schema):
    purchase_id = _id()
    app_id = _id()
    buyer_id = _id()
    owner_id = _id()
    price = StrictInteger(minimum=0, required=True)
    purchased_at = UtcTimestamp(required=True)

"""Schemas of purchases and their listing."""

from marshmallow import Schema, ValidationError, fields, post_dump, validate, validates_schema

from appstore.api.fields import Id, UtcDateTime, utc_text


class PurchaseSchema(Schema):
    id = fields.Integer()
    app_id = fields.Integer()
    buyer_id = fields.Integer()
    price = fields.Integer(metadata={"description": "Credits spent."})
    created_at = UtcDateTime()
    access_link = fields.String(metadata={"description": "Only for the buyer and admins."})
    access_key = fields.String(metadata={"description": "Only for the buyer and admins."})

    @post_dump
    def _hide_absent_access(self, data, **kwargs):
        return {k: v for k, v in data.items() if v is not None}


def purchase_body(bought) -> dict:
    """What :class:`PurchaseSchema` dumps for ``bought``, built directly: the answer of the
    busiest endpoint, where marshmallow's per-field work cost more than the rest of the
    answer (a test holds the two equal)."""
    body = {
        "id": bought.id,
        "app_id": bought.app_id,
        "buyer_id": bought.buyer_id,
        "price": bought.price,
        "created_at": utc_text(bought.created_at),
        "access_link": bought.access_link,
        "access_key": bought.access_key,
    }
    return {name: value for name, value in body.items() if value is not None}


class PurchaseQueryArgsSchema(Schema):
    app_id = Id()
    buyer_id = Id()
    since = UtcDateTime(metadata={"description": "Inclusive, ISO-8601."})
    until = UtcDateTime(metadata={"description": "Exclusive, ISO-8601."})

    @validates_schema
    def _ordered(self, data, **kwargs):
        if "since" in data and "until" in data and data["since"] > data["until"]:
            raise ValidationError("since must not be after until.", "until")


def _printable(value: str) -> None:
    # Validators must raise: marshmallow 4 ignores a False return value.
    if not value.isprintable():
        raise ValidationError("Use printable characters only.")


class IdempotencyHeaderSchema(Schema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=[validate.Length(1, 255), _printable],
        metadata={"description": "Retries with the same key get the first answer again."},
    )

"""Schemas of purchases and their listing."""

from marshmallow import Schema, fields, post_dump, validate

from appstore.api.fields import Id, Matches, UtcDateTime, utc_text


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
    until = UtcDateTime(
        metadata={"description": "Exclusive, ISO-8601. Not after `since`: nothing is listed."}
    )


class IdempotencyHeaderSchema(Schema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        # Visible ASCII, spaces only inside: HTTP strips a header's outer spaces.
        validate=[
            validate.Length(1, 255),
            Matches(r"[!-~](?:[ -~]*[!-~])?", "Use visible ASCII characters, spaces inside."),
        ],
        metadata={"description": "Retries with the same key get the first answer again."},
    )

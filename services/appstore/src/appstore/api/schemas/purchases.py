"""Schemas of purchases and their listing."""

from marshmallow import Schema, fields, post_dump, validate

from appstore.api.fields import Id, Matches, UtcDateTime


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

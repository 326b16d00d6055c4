"""Schemas of apps and the catalogue's query."""

from marshmallow import Schema, ValidationError, fields, post_dump, validate, validates_schema

from appstore.api.fields import Credits, HttpUrl, Text, UtcDateTime

PRICE = (0, 1_000_000)
ACCESS_FIELDS = ("access_link", "access_key")


class AppCreateSchema(Schema):
    title = Text(required=True, validate=validate.Length(1, 200))
    description = Text(required=True, validate=validate.Length(max=10_000))
    price = Credits(*PRICE, required=True)
    access_link = HttpUrl(required=True)
    icon_url = HttpUrl(allow_none=True)


class AppUpdateSchema(Schema):
    OPENAPI_KEYWORDS = {"minProperties": 1}

    title = Text(validate=validate.Length(1, 200))
    description = Text(validate=validate.Length(max=10_000))
    price = Credits(*PRICE)
    access_link = HttpUrl()
    icon_url = HttpUrl(allow_none=True)

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Send at least one field to change.")


class AppSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    description = fields.String()
    price = fields.Integer(metadata={"description": "Credits."})
    icon_url = fields.String(allow_none=True)
    owner_id = fields.Integer()
    verified = fields.Boolean()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    purchases_count = fields.Integer(
        metadata={
            "description": "Purchases of the app, exact at the moment of reading: the count "
            "the settler keeps on the app plus the purchases it has not settled yet "
            "(usually under a second's worth)."
        }
    )
    access_link = fields.String(metadata={"description": "Only for the owner, buyers and admins."})
    access_key = fields.String(metadata={"description": "Only for the owner, buyers and admins."})

    @post_dump(pass_original=True)
    def _hide_access(self, data, app, **kwargs):
        if not app.can_access:
            for name in ACCESS_FIELDS:
                data.pop(name, None)
        return data


class AppQueryArgsSchema(Schema):
    q = Text(
        validate=validate.Length(max=200),
        metadata={
            "description": (
                "Search: only apps whose title or description contains this text,"
                " case-insensitively (`PHOTO` finds `Photo Editor`), as written: spaces,"
                " `%` and `_` match themselves, there is no wildcard. Empty means no search."
            )
        },
    )
    verified = fields.Boolean(metadata={"description": "false: admins' review queue."})
    mine = fields.Boolean(load_default=False, metadata={"description": "Only the caller's apps."})

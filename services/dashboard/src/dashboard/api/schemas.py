"""Schemas of the API's answers and bodies, for validation and the OpenAPI document."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

WINDOW_NOTE = "Only with from/to."
ALL_TIME_NOTE = "All-time only: absent with from/to."


class WindowCountsSchema(Schema):
    users = fields.Integer(metadata={"description": "Users registered."})
    apps_created = fields.Integer()
    purchases = fields.Integer()
    credits_spent = fields.Integer()
    new_buyers = fields.Integer(metadata={"description": "Buyers whose first purchase it was."})
    from_ = fields.DateTime(data_key="from", metadata={"description": "Aligned start."})
    to = fields.DateTime(metadata={"description": "Aligned end, exclusive."})


class SummarySchema(Schema):
    users = fields.Integer()
    apps_created = fields.Integer()
    apps_verified = fields.Integer(metadata={"description": ALL_TIME_NOTE})
    purchases = fields.Integer()
    credits_spent = fields.Integer()
    credits_granted = fields.Integer(metadata={"description": ALL_TIME_NOTE})
    buyers = fields.Integer(metadata={"description": "Distinct buyers. " + ALL_TIME_NOTE})
    new_buyers = fields.Integer(
        metadata={"description": "Buyers whose first purchase falls in the window. " + WINDOW_NOTE}
    )
    last_sequence = fields.Integer(metadata={"description": "Highest sequence folded."})
    contiguous_through = fields.Integer(
        metadata={"description": "Every sequence up to this one is folded."}
    )
    last_event_at = fields.DateTime(
        allow_none=True, metadata={"description": "Latest occurred_at folded."}
    )
    lag_seconds = fields.Float(
        allow_none=True, metadata={"description": "Now minus last_event_at."}
    )
    from_ = fields.DateTime(data_key="from", metadata={"description": WINDOW_NOTE})
    to = fields.DateTime(metadata={"description": WINDOW_NOTE})
    previous = fields.Nested(
        WindowCountsSchema,
        metadata={"description": "The window of the same length just before. " + WINDOW_NOTE},
    )


class PointSchema(Schema):
    t = fields.DateTime(metadata={"description": "Start of the bucket, in UTC."})
    value = fields.Integer()


class TimeseriesSchema(Schema):
    metric = fields.String()
    bucket = fields.String()
    tz = fields.String()
    from_ = fields.DateTime(data_key="from", metadata={"description": "First bucket's start."})
    to = fields.DateTime(metadata={"description": "Last bucket's end."})
    points = fields.List(fields.Nested(PointSchema))


class TopAppSchema(Schema):
    app_id = fields.Integer()
    title = fields.String(allow_none=True)
    owner_id = fields.Integer(allow_none=True)
    purchases = fields.Integer()
    revenue = fields.Integer(metadata={"description": "Credits spent on the app."})


class TopDeveloperSchema(Schema):
    owner_id = fields.Integer()
    username = fields.String(allow_none=True)
    apps = fields.Integer(metadata={"description": "Apps created, all-time."})
    purchases = fields.Integer()
    revenue = fields.Integer(metadata={"description": "Credits earned."})


#: No NUL character (JSON Schema pattern); the Appstore refuses it in credentials.
NO_NUL = r"^[^\u0000]*$"


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("Must not contain NUL characters.")


class TokenRequestSchema(Schema):
    """What the Appstore's sign-in takes, so that the Dashboard refuses what it would."""

    username = fields.String(
        required=True, validate=[validate.Length(1, 40), _no_nul], metadata={"pattern": NO_NUL}
    )
    password = fields.String(
        required=True, validate=[validate.Length(1, 1024), _no_nul], metadata={"pattern": NO_NUL}
    )


class TokenSchema(Schema):
    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()

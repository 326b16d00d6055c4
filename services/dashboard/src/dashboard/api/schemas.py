"""Schemas of the API's answers and bodies, for validation and the OpenAPI document."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

WINDOW_NOTE = "Only with from/to."
ALL_TIME_NOTE = "All-time only: absent with from/to."
STORE_NOTE = "The whole store's: absent with app_id or owner_id."
SCOPE_NOTE = "The app or developer asked for; absent for the whole store."


class WindowCountsSchema(Schema):
    users = fields.Integer(metadata={"description": "Users registered. " + STORE_NOTE})
    apps_created = fields.Integer(metadata={"description": STORE_NOTE})
    purchases = fields.Integer()
    credits_spent = fields.Integer(
        metadata={
            "description": "Credits spent; of one app its revenue, of a developer their earnings."
        }
    )
    credits_granted = fields.Integer(
        metadata={"description": "Credits granted by admins. " + STORE_NOTE}
    )
    new_buyers = fields.Integer(
        metadata={"description": "Buyers whose first purchase it was. " + STORE_NOTE}
    )
    from_ = fields.DateTime(data_key="from", metadata={"description": "Aligned start."})
    to = fields.DateTime(metadata={"description": "Aligned end, exclusive."})


class SummarySchema(Schema):
    app_id = fields.Integer(metadata={"description": SCOPE_NOTE})
    owner_id = fields.Integer(metadata={"description": SCOPE_NOTE})
    users = fields.Integer(metadata={"description": STORE_NOTE})
    apps_created = fields.Integer(
        metadata={"description": "With owner_id, all-time: the developer's apps. " + STORE_NOTE}
    )
    apps_verified = fields.Integer(metadata={"description": ALL_TIME_NOTE + " " + STORE_NOTE})
    purchases = fields.Integer()
    credits_spent = fields.Integer(
        metadata={
            "description": "Credits spent; of one app its revenue, of a developer their earnings."
        }
    )
    credits_granted = fields.Integer(metadata={"description": STORE_NOTE})
    buyers = fields.Integer(
        metadata={"description": "Distinct buyers. " + ALL_TIME_NOTE + " " + STORE_NOTE}
    )
    new_buyers = fields.Integer(
        metadata={
            "description": "Buyers whose first purchase falls in the window. "
            + WINDOW_NOTE
            + " "
            + STORE_NOTE
        }
    )
    last_sequence = fields.Integer(metadata={"description": "Highest sequence folded."})
    contiguous_through = fields.Integer(
        metadata={"description": "Every sequence up to this one is folded."}
    )
    last_event_at = fields.DateTime(
        allow_none=True, metadata={"description": "Latest occurred_at folded."}
    )
    lag_seconds = fields.Float(
        allow_none=True,
        metadata={
            "description": "Now minus last_event_at: grows on an idle system that is caught "
            "up; see caught_up."
        },
    )
    behind = fields.Integer(
        allow_none=True,
        metadata={
            "description": "Events the Appstore had logged, when its log was last checked, "
            "that are not folded yet. The worker checks at each sync "
            "(DASHBOARD_SYNC_INTERVAL_SECONDS), the API when nobody has for 15 s. Null until "
            "the log is first checked."
        },
    )
    caught_up = fields.Boolean(
        allow_none=True,
        metadata={"description": "behind == 0: every logged event is folded. Null with behind."},
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
    app_id = fields.Integer(metadata={"description": SCOPE_NOTE})
    owner_id = fields.Integer(metadata={"description": SCOPE_NOTE})
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


class RankSchema(Schema):
    purchases = fields.Integer(
        allow_none=True,
        metadata={
            "description": "Place in the all-time top list by purchases; null without a sale."
        },
    )
    revenue = fields.Integer(
        allow_none=True,
        metadata={"description": "Place in the all-time top list by revenue; null without a sale."},
    )


class PriceSchema(Schema):
    from_ = fields.DateTime(data_key="from", metadata={"description": "When the price was set."})
    price = fields.Integer()


class AppLookupSchema(Schema):
    app_id = fields.Integer()
    title = fields.String(allow_none=True, metadata={"description": "The latest title."})
    owner_id = fields.Integer(allow_none=True)
    username = fields.String(allow_none=True, metadata={"description": "The owner's name."})
    created_at = fields.DateTime(allow_none=True)
    verified = fields.Boolean()
    deleted = fields.Boolean(metadata={"description": "Delisted."})
    price = fields.Integer(allow_none=True, metadata={"description": "The current price."})
    prices = fields.List(
        fields.Nested(PriceSchema),
        metadata={"description": "Price history: as created, then every change, oldest first."},
    )
    purchases = fields.Integer(metadata={"description": "All-time."})
    revenue = fields.Integer(metadata={"description": "All-time credits spent on the app."})
    rank = fields.Nested(RankSchema)


class DeveloperLookupSchema(Schema):
    owner_id = fields.Integer()
    username = fields.String(allow_none=True)
    apps = fields.Integer(metadata={"description": "Apps created, all-time."})
    purchases = fields.Integer(metadata={"description": "All-time purchases of their apps."})
    revenue = fields.Integer(metadata={"description": "All-time credits earned."})
    rank = fields.Nested(RankSchema)


class FoundAppSchema(Schema):
    app_id = fields.Integer()
    title = fields.String(allow_none=True)
    owner_id = fields.Integer(allow_none=True)
    username = fields.String(allow_none=True, metadata={"description": "The owner's name."})
    purchases = fields.Integer(metadata={"description": "All-time."})
    revenue = fields.Integer(metadata={"description": "All-time."})
    deleted = fields.Boolean(metadata={"description": "Delisted."})


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

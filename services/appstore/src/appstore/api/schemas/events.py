"""Schemas of the event log."""

from marshmallow import Schema, fields, validate

MAX_SEQUENCE = 2**63 - 1


class EventLogArgsSchema(Schema):
    after = fields.Integer(
        load_default=0,
        validate=validate.Range(0, MAX_SEQUENCE),
        metadata={"description": "Return events with a sequence strictly above this."},
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


class EnvelopeSchema(Schema):
    """The event envelope of the contract; ``data`` depends on ``event_type``."""

    event_id = fields.String()
    event_type = fields.String()
    event_version = fields.Integer()
    sequence = fields.Integer()
    source = fields.String()
    occurred_at = fields.String(metadata={"description": "ISO-8601 UTC with Z."})
    data = fields.Dict()

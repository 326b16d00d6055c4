"""Schemas of the ground-truth reports."""

from marshmallow import Schema, fields


class TotalsSchema(Schema):
    users = fields.Integer()
    apps_created = fields.Integer(metadata={"description": "Every app ever published."})
    apps_verified = fields.Integer()
    purchases = fields.Integer()
    credits_spent = fields.Integer()
    credits_granted = fields.Integer()
    buyers = fields.Integer(metadata={"description": "Users with at least one purchase."})


class AppFiguresSchema(Schema):
    app_id = fields.Integer()
    owner_id = fields.Integer()
    title = fields.String()
    purchases = fields.Integer()
    revenue = fields.Integer(metadata={"description": "Credits spent on the app."})

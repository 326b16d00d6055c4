"""Schemas of accounts, sign-in and credit."""

from marshmallow import Schema, fields, validate

from appstore.api.fields import Credits, EmailAddress, Matches, Text, UtcDateTime
from appstore.models import ROLES

# A list, not validate.And: the document shows each rule of a list as a keyword.
USERNAME = [
    validate.Length(3, 40),
    Matches(r"[A-Za-z0-9_.-]+", error="Use letters, digits, '_', '.' and '-' only."),
]
# The upper bound keeps a single request from making argon2 hash megabytes.
PASSWORD = validate.Length(8, 1024)


class RegisterSchema(Schema):
    username = fields.String(required=True, validate=USERNAME)
    email = EmailAddress(required=True, validate=validate.Length(max=320))
    password = Text(required=True, load_only=True, validate=PASSWORD)


class TokenRequestSchema(Schema):
    """JSON ``{username, password}`` or an OAuth2 password-grant form."""

    grant_type = fields.String(validate=validate.OneOf(["password"]))
    username = Text(required=True, validate=validate.Length(1, 40))
    password = Text(required=True, load_only=True, validate=validate.Length(1, 1024))
    # OAuth2 clients send these too; accepted and not used.
    scope = fields.String()
    client_id = fields.String()
    client_secret = fields.String(load_only=True)


class TokenSchema(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds."})


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    username = fields.String()
    email = fields.String()
    role = fields.String(metadata={"enum": list(ROLES)})
    credit = fields.Integer(
        metadata={
            "description": "Balance in credits, exact at the moment of reading: it includes "
            "earnings from the user's apps that the settler has not yet moved into the "
            "settled balance, and they can be spent at once."
        }
    )
    created_at = UtcDateTime()


class CreditGrantSchema(Schema):
    amount = Credits(1, 1_000_000, required=True)
    note = Text(validate=validate.Length(max=500))


class RoleChangeSchema(Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))

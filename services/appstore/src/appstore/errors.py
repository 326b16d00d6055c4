"""Every exception of the Appstore.

A request that ends on purpose raises an :class:`AppstoreError`; its ``outcome`` names what
happened ("not_found", "conflict"...) in the service's own words. Only ``appstore.api``
turns outcomes into HTTP answers, and the idempotency records keep outcome names, so the
services know nothing of HTTP.
"""

from __future__ import annotations


class AppstoreError(Exception):
    """Base of every error a request can end with on purpose.

    Parameters:
        message: what went wrong, for the caller to read.
        errors: per-field details, for validation-like refusals.
    """

    outcome = "refused"

    def __init__(self, message: str, errors: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


class Unauthorized(AppstoreError):
    """No valid credentials: a bad password or token, or a token's user is gone."""

    outcome = "unauthorized"


class Forbidden(AppstoreError):
    """The caller is known but may not do this."""

    outcome = "forbidden"


class NotFound(AppstoreError):
    """The thing asked for does not exist, or is hidden from the caller."""

    outcome = "not_found"


class Conflict(AppstoreError):
    """The change clashes with what exists: a taken username, an app already bought."""

    outcome = "conflict"


class InsufficientCredit(AppstoreError):
    """The buyer's credit is below the price."""

    outcome = "insufficient_credit"


class InvalidRequest(AppstoreError):
    """The request is well formed but cannot be carried out as asked."""

    outcome = "invalid"


class IdempotencyKeyTaken(Exception):
    """An idempotency key's row exists or is being written by a concurrent request.

    Never reaches a caller: the purchase catches it and replays the first answer.
    """


class PublishError(Exception):
    """The broker did not confirm every message of a publish.

    The publisher is closed when this is raised; reconnect before publishing again.
    """

"""Who may read: bearer tokens from the Appstore, checked against its JWKS, and the role."""

from __future__ import annotations

from functools import wraps

from flask import current_app, g, request
from flask_smorest import Blueprint

from dashboard.auth import DASHBOARD_READER_ROLES, InvalidToken, Principal, require_role
from dashboard.bootstrap import Components

READER_ROLES = ", ".join(sorted(DASHBOARD_READER_ROLES))


def components() -> Components:
    return current_app.extensions["dashboard"]


def requires_reader(blp: Blueprint, *, token_in_query: bool = False):
    """Decorate a view so that it needs a valid token with role management or admin.

    Authentication runs before the arguments are parsed, so an anonymous caller learns
    nothing about what a valid request looks like. The verified token is kept in
    ``g.token`` (an event stream checks it again while it stays open).

    Parameters:
        blp: the view's blueprint, for the OpenAPI entries (401, 403, bearer security).
        token_in_query: also take the token from ``?access_token=``, for clients that
            cannot set headers (a browser's EventSource).
    """

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            token = _bearer_token(token_in_query)
            g.principal = authorise(token)
            g.token = token
            return view(*args, **kwargs)

        wrapper = blp.doc(security=[{"bearerAuth": []}])(wrapper)
        wrapper = blp.alt_response(
            401, response="DEFAULT_ERROR", description="No token, or one that is not valid."
        )(wrapper)
        wrapper = blp.alt_response(
            403, response="DEFAULT_ERROR", description=f"A role other than {READER_ROLES}."
        )(wrapper)
        return blp.alt_response(
            503,
            response="DEFAULT_ERROR",
            description="The Appstore's keys or the database are unavailable.",
        )(wrapper)

    return decorator


def authorise(token: str) -> Principal:
    """Verify ``token`` and check its role.

    Raises:
        InvalidToken, Forbidden, KeySourceUnavailable: answered 401, 403 and 503.
    """
    return require_role(components().tokens.verify(token), DASHBOARD_READER_ROLES)


def _bearer_token(token_in_query: bool) -> str:
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidToken("Send 'Authorization: Bearer <token>'.")
        return token.strip()
    if token_in_query and request.args.get("access_token"):
        return request.args["access_token"]
    where = " or ?access_token=<token>" if token_in_query else ""
    raise InvalidToken(f"Send 'Authorization: Bearer <token>'{where}.")

"""Who may call what: bearer-token authentication and role checks for views."""

from __future__ import annotations

from functools import wraps

from flask import current_app, g, request
from flask_smorest import Blueprint

from appstore.bootstrap import Components
from appstore.errors import Forbidden, Unauthorized
from appstore.security.principal import Principal
from servicekit.api import documented


def components() -> Components:
    return current_app.extensions["appstore"]


def principal() -> Principal:
    """The caller of the current request, set by :func:`requires`."""
    return g.principal


def requires(blp: Blueprint, *roles: str):
    """Decorate a view so it needs a valid bearer token, and one of ``roles`` when given.

    Authentication runs before the body is parsed: an anonymous caller learns nothing
    about what a valid request would look like. The 401/403 answers and the bearer
    security requirement are added to the view's OpenAPI entry.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            g.principal = _authenticate()
            if roles and g.principal.role not in roles:
                raise Forbidden(f"This needs one of the roles: {', '.join(roles)}.")
            return view(*args, **kwargs)

        # For the OpenAPI entry only: each of flask-smorest's decorators would otherwise add
        # a wrapper that every request of every authenticated view passes through.
        docs = [
            blp.alt_response(401, response="DEFAULT_ERROR", description="No valid token."),
            blp.doc(security=[{"bearerAuth": []}]),
        ]
        if roles:
            denied = f"Role not in {', '.join(roles)}."
            docs.insert(0, blp.alt_response(403, response="DEFAULT_ERROR", description=denied))
        return documented(*docs)(wrapper)

    return decorator


def _authenticate() -> Principal:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send 'Authorization: Bearer <token>'.")
    return components().tokens.verify(token.strip())

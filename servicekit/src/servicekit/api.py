"""The HTTP API scaffolding both services share: flask-smorest set up the same way, a
sturdier JSON parser, and error bodies in flask-smorest's shape."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus

import flask_smorest
from flask import Flask, current_app, jsonify
from flask.json.provider import DefaultJSONProvider
from flask.sessions import NullSession, SessionInterface
from webargs.flaskparser import FlaskParser

from servicekit import api_docs


class _Parser(FlaskParser):
    """Answers 400 to every unparsable JSON body, not only to the errors webargs expects."""

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise
        except (RecursionError, ValueError) as error:
            # Nested too deeply, or an integer with more digits than Python converts.
            raise json.JSONDecodeError(str(error), "<request body>", 0) from error


class _NoSessions(SessionInterface):
    """No cookie sessions: the APIs authenticate every request by its bearer token. Flask's
    default interface would look for a signing key and build an empty session per request."""

    _none = NullSession()

    def open_session(self, app, request):
        return self._none

    def save_session(self, app, session, response) -> None:
        return None


class _JSONProvider(DefaultJSONProvider):
    """Flask's JSON, encoded by an encoder built once per set of options: ``json.dumps``
    with options (Flask passes compact separators for every answer) builds a new encoder on
    every call, which cost more than encoding a small answer."""

    _LAYOUT = frozenset({"indent", "separators"})

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self._encoders: dict[tuple, json.JSONEncoder] = {}

    def dumps(self, obj, **kwargs) -> str:
        if not self._LAYOUT.issuperset(kwargs):  # other options: Flask's own way
            return super().dumps(obj, **kwargs)
        # An app may change its settings at any time: they are part of the key.
        options = (
            self.ensure_ascii,
            self.sort_keys,
            kwargs.get("indent"),
            kwargs.get("separators"),
        )
        encoder = self._encoders.get(options)
        if encoder is None:
            ensure_ascii, sort_keys, indent, separators = options
            encoder = json.JSONEncoder(
                default=self.default,
                ensure_ascii=ensure_ascii,
                sort_keys=sort_keys,
                indent=indent,
                separators=separators,
            )
            self._encoders[options] = encoder
        return encoder.encode(obj)


def documented(*decorators: Callable) -> Callable:
    """Apply flask-smorest decorators to a view for its OpenAPI entry only.

    The view keeps the documentation (``_apidoc``) they add but not their wrappers, so a hot
    endpoint does its own parsing and answering: it must then behave as documented.
    """

    def decorate(view):
        wrapped = view
        for decorator in reversed(decorators):
            wrapped = decorator(wrapped)
        view._apidoc = wrapped._apidoc
        return view

    return decorate


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with the sturdier JSON parser; every API module uses it."""

    ARGUMENTS_PARSER = _Parser()


def create_api(
    app: Flask, *, title: str, description: str, max_body_bytes: int
) -> flask_smorest.Api:
    """Set ``app`` up for flask-smorest: OpenAPI at ``/api/openapi.json``, Swagger UI at
    ``/api/docs`` and ReDoc at ``/api/redoc`` (their bundles served by ``app`` itself, see
    :mod:`servicekit.api_docs`), bearer JWT auth, and a body size limit."""
    app.config.update(
        MAX_CONTENT_LENGTH=max_body_bytes,
        API_TITLE=title,
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={"info": {"description": description}},
        **api_docs.flask_smorest_config(),
    )
    app.session_interface = _NoSessions()
    app.json = _JSONProvider(app)
    api = flask_smorest.Api(app)
    app.register_blueprint(api_docs.blp)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    return api


def error_response(code: int, message: str, errors: dict | None = None, headers=None):
    """An error answer in flask-smorest's shape: ``{code, status, message, errors?}``."""
    body = {"code": code, "status": HTTPStatus(code).phrase, "message": message}
    if errors:
        body["errors"] = errors
    return jsonify(body), code, headers or {}


def database_unavailable(error: Exception):
    """The database is down or the connection broke: nothing was committed; try again."""
    current_app.logger.warning("database unavailable: %s", error)
    return error_response(503, "Database unavailable.", headers={"Retry-After": "1"})

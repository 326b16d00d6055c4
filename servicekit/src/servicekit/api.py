"""The HTTP API scaffolding both services share: flask-smorest set up the same way, a
sturdier JSON parser, and error bodies in flask-smorest's shape."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus

import flask_smorest
from apispec import BasePlugin
from flask import Flask, current_app, jsonify
from flask.json.provider import DefaultJSONProvider
from flask.sessions import NullSession, SessionInterface
from flask_smorest.error_handler import ErrorSchema
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import MethodNotAllowed

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


#: ``X-Pagination`` as it is sent: one JSON object, written as the header's text.
PAGINATION_HEADER = {
    "description": "The page as a JSON object: `total`, `total_pages`, `first_page`, "
    "`last_page`, `page`, and `previous_page`/`next_page` where there is one. Where an "
    "operation says its total may be a lower bound, `total_exact: false` marks one that is: "
    "at least `total` items, and the pages counted from it, exist.",
    "schema": {
        "type": "string",
        "example": '{"total": 42, "total_pages": 3, "first_page": 1, "last_page": 3, '
        '"page": 2, "previous_page": 1, "next_page": 3}',
    },
}
PAGINATION_HEADER_NAME = "PAGINATION_JSON"
#: A 429 of a throttled operation: the error body, and when to try again.
TOO_MANY_REQUESTS = {
    "schema": ErrorSchema,
    "description": "Too many attempts: wait `Retry-After` seconds.",
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}
#: Sent with every 405: the methods the path takes.
ALLOW_HEADER = {
    "description": "The methods this path answers.",
    "schema": {"type": "string", "example": "GET, HEAD, OPTIONS"},
}


class SchemaKeywords(BasePlugin):
    """Adds the JSON Schema keywords a marshmallow schema class names in its
    ``OPENAPI_KEYWORDS`` (rules about the object as a whole, e.g. ``minProperties``) to its
    component in the document."""

    def schema_helper(self, name, definition, **kwargs):
        schema = kwargs.get("schema")
        schema_class = schema if isinstance(schema, type) else type(schema)
        return dict(getattr(schema_class, "OPENAPI_KEYWORDS", {}))


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with the sturdier JSON parser, and ``X-Pagination``
    documented as the JSON text it is; every API module uses it."""

    ARGUMENTS_PARSER = _Parser()

    def _document_pagination_metadata(self, spec, resp_doc):
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = PAGINATION_HEADER_NAME

    def _set_pagination_metadata(self, page_params, result, headers):
        """flask-smorest's header, with ``total_exact: false`` when the view set
        ``page_params.total_exact = False`` (its ``item_count`` is then a lower bound)."""
        result, headers = super()._set_pagination_metadata(page_params, result, headers)
        if getattr(page_params, "total_exact", True) is False:
            metadata = json.loads(headers[self.PAGINATION_HEADER_NAME])
            headers[self.PAGINATION_HEADER_NAME] = json.dumps({**metadata, "total_exact": False})
        return result, headers


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
    api = flask_smorest.Api(app, spec_kwargs={"extra_plugins": [SchemaKeywords()]})
    app.register_blueprint(api_docs.blp)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    api.spec.components.header(PAGINATION_HEADER_NAME, PAGINATION_HEADER)
    app.register_error_handler(MethodNotAllowed, method_not_allowed)
    return api


def error_response(code: int, message: str, errors: dict | None = None, headers=None):
    """An error answer in flask-smorest's shape: ``{code, status, message, errors?}``."""
    body = {"code": code, "status": HTTPStatus(code).phrase, "message": message}
    if errors:
        body["errors"] = errors
    return jsonify(body), code, headers or {}


def method_not_allowed(error: MethodNotAllowed):
    """405 with ``Allow`` (RFC 9110): flask-smorest's own handler would drop the header."""
    allowed = ", ".join(sorted(error.valid_methods or ()))
    return error_response(405, "Method not allowed here.", headers={"Allow": allowed})


def database_unavailable(error: Exception):
    """The database is down or the connection broke: nothing was committed; try again."""
    current_app.logger.warning("database unavailable: %s", error)
    return error_response(503, "Database unavailable.", headers={"Retry-After": "1"})

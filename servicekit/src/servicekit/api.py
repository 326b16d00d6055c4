"""The HTTP API scaffolding both services share: flask-smorest set up the same way, a
sturdier JSON parser, and error bodies in flask-smorest's shape."""

from __future__ import annotations

import json
from http import HTTPStatus

import flask_smorest
from flask import Flask, current_app, jsonify
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

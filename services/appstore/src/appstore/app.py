"""``create_app``: the only way to get the Appstore's Flask application."""

from __future__ import annotations

from http import HTTPStatus

from flask import Flask, current_app, jsonify
from flask_smorest import Api
from sqlalchemy.exc import OperationalError

from appstore.api import apps, auth, events, health, purchases, reports, users
from appstore.bootstrap import Components, bootstrap
from appstore.config import Settings
from appstore.errors import AppstoreError
from servicekit import http_metrics, requests

API_DESCRIPTION = """Users, credit, apps and purchases. Money is whole credits.

Authenticate with `Authorization: Bearer <token>` from `POST /api/v1/auth/token`;
tokens are RS256 JWTs whose public keys are at `/.well-known/jwks.json`."""


def create_app(settings: Settings | None = None, components: Components | None = None) -> Flask:
    """Build the Appstore application.

    Parameters:
        settings: configuration; read from the environment when omitted.
        components: already-wired parts (tests share one across apps); built when omitted.
    """
    components = components or bootstrap(settings)
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=components.settings.max_body_bytes,
        API_TITLE="Appstore",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
        OPENAPI_REDOC_PATH="redoc",
        OPENAPI_REDOC_URL="https://cdn.jsdelivr.net/npm/redoc/bundles/redoc.standalone.js",
        API_SPEC_OPTIONS={"info": {"description": API_DESCRIPTION}},
    )
    app.extensions["appstore"] = components

    api = Api(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    for blueprint in (
        auth.blp,
        auth.keys,
        users.blp,
        apps.blp,
        purchases.blp,
        events.blp,
        reports.blp,
    ):
        api.register_blueprint(blueprint)
    app.register_blueprint(health.blp)
    requests.init_app(app)
    http_metrics.init_app(app, "appstore")
    app.register_error_handler(AppstoreError, _error_response)
    app.register_error_handler(OperationalError, _database_unavailable)
    return app


def _database_unavailable(error: OperationalError):
    """The database is down or the connection broke: nothing was committed; try again."""
    current_app.logger.warning("database unavailable: %s", error)
    body = {"code": 503, "status": "Service Unavailable", "message": "Database unavailable."}
    return jsonify(body), 503, {"Retry-After": "1"}


def _error_response(error: AppstoreError):
    """Answer a domain error in flask-smorest's error shape."""
    body = {
        "code": error.status_code,
        "status": HTTPStatus(error.status_code).phrase,
        "message": error.message,
    }
    if error.errors:
        body["errors"] = error.errors
    headers = {"WWW-Authenticate": "Bearer"} if error.status_code == 401 else {}
    return jsonify(body), error.status_code, headers

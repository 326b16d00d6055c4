"""``create_app``: the only way to get the Dashboard's Flask application."""

from __future__ import annotations

from flask import Flask, current_app, jsonify
from flask_smorest import Api
from sqlalchemy.exc import OperationalError

from dashboard import web
from dashboard.api import auth, health, stats, stream
from dashboard.auth import Forbidden, InvalidToken, KeySourceUnavailable
from dashboard.bootstrap import Components, bootstrap
from dashboard.config import Settings
from dashboard.stats.progress import NotMigrated
from servicekit import http_metrics
from servicekit import requests as request_ids

API_DESCRIPTION = """Figures folded from the Appstore's events, for management.

Authenticate with `Authorization: Bearer <token>`, a token the Appstore issued (get one
with `POST /api/v1/auth/token`); roles `management` and `admin` may read. Money is whole
credits; times are ISO-8601 in UTC with `Z`.

Every answer is computed from projections (counters and time buckets), never from the
events themselves, and cached until the next fold commits: an answer is never older than
the last folded batch. Windows (`from`, `to`; `to` exclusive, default now) are widened
to the buckets they are read from: whole minutes for the summary, whole UTC hours for the
top lists, whole buckets of the series; each answer says which window it covers."""
# Only the token request has a body; nothing larger is expected.
MAX_BODY_BYTES = 64 * 1024


def create_app(settings: Settings | None = None, components: Components | None = None) -> Flask:
    """Build the Dashboard application: the stats API, its event stream and the page.

    Parameters:
        settings: configuration; read from the environment when omitted.
        components: already-wired parts (tests share them across apps); built when omitted.
    """
    components = components or bootstrap(settings)
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        API_TITLE="Dashboard",
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
    app.extensions["dashboard"] = components

    api = Api(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    for blueprint in (auth.blp, stats.blp, stream.blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(health.blp)
    app.register_blueprint(web.blp)
    request_ids.init_app(app)
    http_metrics.init_app(app, namespace="dashboard")
    app.register_error_handler(InvalidToken, _unauthorized)
    app.register_error_handler(Forbidden, _forbidden)
    app.register_error_handler(KeySourceUnavailable, _keys_unavailable)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(NotMigrated, _database_unavailable)
    return app


def _error(code: int, status: str, message: str, headers: dict | None = None):
    body = {"code": code, "status": status, "message": message}
    return jsonify(body), code, headers or {}


def _unauthorized(error: InvalidToken):
    return _error(401, "Unauthorized", f"No valid token: {error}", {"WWW-Authenticate": "Bearer"})


def _forbidden(error: Forbidden):
    return _error(403, "Forbidden", "This needs the role management or admin.")


def _keys_unavailable(error: KeySourceUnavailable):
    current_app.logger.warning("cannot check tokens: %s", error)
    return _error(
        503,
        "Service Unavailable",
        "The Appstore's signing keys cannot be fetched; try again.",
        {"Retry-After": "5"},
    )


def _database_unavailable(error: Exception):
    """The database is down, the connection broke, or it is not migrated: try again."""
    current_app.logger.warning("database unavailable: %s", error)
    return _error(503, "Service Unavailable", "Database unavailable.", {"Retry-After": "1"})

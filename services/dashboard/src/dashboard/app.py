"""``create_app``: the only way to get the Dashboard's Flask application."""

from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy.exc import OperationalError

from dashboard import web
from dashboard.api import auth, health, lookups, stats, stream
from dashboard.auth import Forbidden, InvalidToken, KeySourceUnavailable
from dashboard.bootstrap import Components, bootstrap
from dashboard.config import Settings
from dashboard.errors import MissingProgressRow, UnknownScope
from servicekit import http_metrics
from servicekit import requests as request_ids
from servicekit.api import create_api, database_unavailable, error_response

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
    app.extensions["dashboard"] = components
    api = create_api(
        app, title="Dashboard", description=API_DESCRIPTION, max_body_bytes=MAX_BODY_BYTES
    )
    for blueprint in (auth.blp, stats.blp, lookups.blp, stream.blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(health.blp)
    app.register_blueprint(web.blp)
    request_ids.init_app(app)
    http_metrics.init_app(app, namespace="dashboard")
    app.register_error_handler(InvalidToken, _unauthorized)
    app.register_error_handler(Forbidden, _forbidden)
    app.register_error_handler(KeySourceUnavailable, _keys_unavailable)
    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(MissingProgressRow, database_unavailable)
    app.register_error_handler(UnknownScope, _unknown_scope)
    return app


def _unknown_scope(error: UnknownScope):
    return error_response(404, str(error))


def _unauthorized(error: InvalidToken):
    return error_response(401, f"No valid token: {error}", headers={"WWW-Authenticate": "Bearer"})


def _forbidden(error: Forbidden):
    return error_response(403, "This needs the role management or admin.")


def _keys_unavailable(error: KeySourceUnavailable):
    current_app.logger.warning("cannot check tokens: %s", error)
    return error_response(
        503,
        "The Appstore's signing keys cannot be fetched; try again.",
        headers={"Retry-After": "5"},
    )

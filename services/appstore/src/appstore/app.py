"""``create_app``: the only way to get the Appstore's Flask application."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.exc import OperationalError

from appstore import cors, throttling
from appstore.api import apps, auth, events, health, outcomes, purchases, reports, users
from appstore.bootstrap import Components, bootstrap
from appstore.config import Settings
from appstore.errors import AppstoreError
from servicekit import http_metrics, requests
from servicekit.api import create_api, database_unavailable

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
    app.extensions["appstore"] = components
    api = create_api(
        app,
        title="Appstore",
        description=API_DESCRIPTION,
        max_body_bytes=components.settings.max_body_bytes,
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
    settings = components.settings
    throttling.init_app(
        app,
        signin=settings.signin_limit,
        signin_address=settings.signin_address_limit,
        register=settings.register_limit,
        redis_url=settings.redis_url,
    )
    cors.init_app(app, settings.cors_origins)
    requests.init_app(app)
    http_metrics.init_app(app, "appstore")
    app.register_error_handler(AppstoreError, outcomes.answer_error)
    app.register_error_handler(OperationalError, database_unavailable)
    return app

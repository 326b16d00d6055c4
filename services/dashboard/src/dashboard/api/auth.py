"""``POST /api/v1/auth/token``: sign in through the Dashboard, for its page.

The page talks only to its own origin (no CORS), so the Dashboard passes the credentials
on to the Appstore, the identity provider, and hands back the Appstore's answer.
"""

from __future__ import annotations

import requests
from flask import Response
from flask.views import MethodView
from flask_smorest import abort

from dashboard.api.access import components
from dashboard.api.schemas import TokenRequestSchema, TokenSchema
from servicekit.api import TOO_MANY_REQUESTS, Blueprint

TOKEN_PATH = "/api/v1/auth/token"
TIMEOUT_SECONDS = (2.0, 10.0)

blp = Blueprint(
    "auth", __name__, url_prefix="/api/v1/auth", description="Sign in with Appstore credentials."
)


@blp.route("/token")
class Token(MethodView):
    @blp.doc(security=[])
    @blp.arguments(TokenRequestSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, response="DEFAULT_ERROR", description="Bad credentials.")
    @blp.alt_response(429, **TOO_MANY_REQUESTS)
    @blp.alt_response(503, response="DEFAULT_ERROR", description="The Appstore is unreachable.")
    def post(self, credentials):
        """A bearer token from the Appstore for `{username, password}`, as it answers."""
        parts = components()
        try:
            answer = parts.appstore.post(
                parts.settings.appstore_url + TOKEN_PATH, json=credentials, timeout=TIMEOUT_SECONDS
            )
            answer.json()
        except (requests.RequestException, ValueError):
            abort(503, message="The Appstore is unreachable.", headers={"Retry-After": "1"})
        if answer.status_code >= 500:
            abort(503, message="The Appstore cannot sign in now.", headers={"Retry-After": "1"})
        # The Appstore's throttling (429, Retry-After) reaches the page as it was answered.
        headers = {
            name: answer.headers[name]
            for name in ("WWW-Authenticate", "Retry-After")
            if name in answer.headers
        }
        return Response(
            answer.content,
            status=answer.status_code,
            mimetype="application/json",
            headers={**headers, "Cache-Control": "no-store"},
        )

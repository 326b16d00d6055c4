"""The event log: what the outbox holds, for consumers that fill gaps or rebuild."""

from flask import Response
from flask.views import MethodView

from appstore.api.access import components, requires
from appstore.api.schemas.events import EnvelopeSchema, EventLogArgsSchema
from appstore.security.principal import ADMIN, SERVICE
from appstore.services import events
from servicekit.api import Blueprint

blp = Blueprint("events", __name__, url_prefix="/api/v1/events", description="The event log.")


@blp.route("/")
class EventLog(MethodView):
    @requires(blp, ADMIN, SERVICE)
    @blp.arguments(EventLogArgsSchema, location="query")
    @blp.response(200, EnvelopeSchema(many=True))
    def get(self, args):
        """Envelopes in ``sequence`` order, strictly after ``after``; at most ``limit``."""
        # Already JSON: flask-smorest passes a Response through; the schema documents it.
        body = events.read_log(components().db, args["after"], args["limit"])
        return Response(body, mimetype="application/json")

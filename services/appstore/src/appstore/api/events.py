"""The event log: what the outbox holds, for consumers that fill gaps or rebuild."""

from flask import Response
from flask.views import MethodView

from appstore.api.access import components, requires
from appstore.api.schemas.events import EnvelopeSchema, EventLogArgsSchema
from appstore.security.principal import ADMIN, SERVICE
from appstore.services import events
from servicekit.api import Blueprint

#: The response header giving the highest sequence in the log.
LOG_HEAD_HEADER = "X-Log-Head"

blp = Blueprint("events", __name__, url_prefix="/api/v1/events", description="The event log.")


@blp.route("/")
class EventLog(MethodView):
    @requires(blp, ADMIN, SERVICE)
    @blp.arguments(EventLogArgsSchema, location="query")
    @blp.response(
        200,
        EnvelopeSchema(many=True),
        headers={
            LOG_HEAD_HEADER: {
                "description": "The log's head: the highest sequence given so far (0: none). "
                "With a high `after` and `limit=1`, a cheap way to ask how far the log goes.",
                "schema": {"type": "integer"},
            }
        },
    )
    def get(self, args):
        """Envelopes in ``sequence`` order, strictly after ``after``; at most ``limit``."""
        # Already JSON: flask-smorest passes a Response through; the schema documents it.
        body, head = events.read_log(components().db, args["after"], args["limit"])
        return Response(body, mimetype="application/json", headers={LOG_HEAD_HEADER: str(head)})

"""``GET /api/v1/stream``: Server-Sent Events carrying a fresh summary after each fold.

Each open stream holds one server thread (gunicorn's gthread workers), mostly asleep on
the process's :class:`~dashboard.stats.generation.GenerationWatcher`, which polls the fold
generation every 0.2 s for all streams of the process together. A stream ends when its
client goes (noticed at the next write, 15 s at most) or its token expires; a graceful
restart waits for open streams up to gunicorn's graceful timeout (10 s), as for any request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from flask import Response, g
from flask.views import MethodView
from sqlalchemy.exc import SQLAlchemyError

from dashboard.api.access import components, requires_reader
from dashboard.auth import DASHBOARD_READER_ROLES, AuthError, KeySourceUnavailable, require_role
from dashboard.bootstrap import Components
from dashboard.freshness import freshness
from dashboard.stats.answers import summary_at
from dashboard.stats.encoding import to_json
from dashboard.stats.progress import Progress, read_progress
from servicekit.api import Blueprint

log = logging.getLogger(__name__)

#: How long a browser waits before it reconnects a dropped stream.
RETRY_MILLISECONDS = 2000
#: How often an idle stream looks whether ``behind`` has changed.
FRESHNESS_SECONDS = 5.0

#: What the stream sends, for the OpenAPI document.
STREAM_DESCRIPTION = """A Server-Sent Events stream (`text/event-stream`), in this order:

- `retry: 2000`: how many milliseconds a browser waits before it reconnects.
- Events named `summary`, one on connect, one whenever a fold commits and one within 5 s of
  a change of `behind`: `id` is the fold generation; `data` is one line of JSON, the
  all-time summary exactly as `GET /api/v1/stats/summary` answers it without `from`/`to`
  (schema `Summary`).
- `: keep-alive` comment lines every 15 s while nothing changes; the token is checked again
  then.
- An event named `unauthorized` with `data: {}` once the token has expired or lost its role;
  the stream ends after it.

Each open stream holds one server thread (`dashboard serve --threads`)."""

blp = Blueprint(
    "stream", __name__, url_prefix="/api/v1", description="Live summary as Server-Sent Events."
)


@blp.route("/stream")
class Stream(MethodView):
    @requires_reader(blp, token_in_query=True)
    @blp.doc(
        parameters=[
            {
                "in": "query",
                "name": "access_token",
                "schema": {"type": "string"},
                "description": "The bearer token, for clients that cannot send headers "
                "(EventSource). The Authorization header wins when both are given.",
            }
        ]
    )
    @blp.response(
        200,
        {
            "type": "string",
            "description": "An endless text/event-stream (Server-Sent Events).",
            "example": 'retry: 2000\n\nid: 42\nevent: summary\ndata: {"users": 3, ...}\n\n'
            ": keep-alive\n\n",
        },
        content_type="text/event-stream",
        description=STREAM_DESCRIPTION,
    )
    def get(self):
        """A live summary: pushed within about 0.2 s of each fold."""
        parts = components()
        # Read here, not in the stream: a database that is down is a 503, not a dead stream.
        first = read_progress(parts.reader)
        return Response(
            summary_events(parts, g.token, first),
            mimetype="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )


def summary_events(parts: Components, token: str, first: Progress) -> Iterator[str]:
    """The stream's text: a summary now, one per generation change or change of
    ``behind``, heartbeats between."""
    yield f"retry: {RETRY_MILLISECONDS}\n\n"
    seen = first.generation
    behind = _behind(parts, first)
    yield _summary_event(parts, first)
    next_beat = time.monotonic() + parts.heartbeat_seconds
    next_look = time.monotonic() + FRESHNESS_SECONDS
    while True:
        wait = max(0.0, min(next_beat, next_look) - time.monotonic())
        changed = parts.watcher.wait_for_change(seen, wait) > seen
        if not changed and time.monotonic() >= next_look:
            # No fold, but the log may have grown (a stopped worker) or been checked again.
            next_look = time.monotonic() + FRESHNESS_SECONDS
            parts.head_checker.refresh_if_stale()
            changed = _behind(parts, None) != behind
        if changed:
            event = _fresh_summary(parts)
            if event is not None:
                seen, text, behind = event
                yield text
        if time.monotonic() >= next_beat:
            if not _still_valid(parts, token):
                yield "event: unauthorized\ndata: {}\n\n"
                return
            yield ": keep-alive\n\n"
            next_beat = time.monotonic() + parts.heartbeat_seconds


def _behind(parts: Components, progress: Progress | None) -> int | None:
    try:
        progress = progress or read_progress(parts.reader)
        with parts.reader.connect() as connection:
            return freshness(connection, progress.contiguous_through).behind
    except SQLAlchemyError:
        return None


def _fresh_summary(parts: Components) -> tuple[int, str, int | None] | None:
    try:
        progress = read_progress(parts.reader)
        return progress.generation, _summary_event(parts, progress), _behind(parts, progress)
    except SQLAlchemyError as error:
        # Keep the stream: the next change or heartbeat tries again.
        log.warning("stream: could not read the summary: %s", error)
        return None


def _summary_event(parts: Components, progress: Progress) -> str:
    body = to_json(summary_at(parts.reader, parts.cache, progress, None)).decode()
    return f"id: {progress.generation}\nevent: summary\ndata: {body}\n\n"


def _still_valid(parts: Components, token: str) -> bool:
    try:
        require_role(parts.tokens.verify(token), DASHBOARD_READER_ROLES)
    except KeySourceUnavailable:
        return True  # the Appstore's keys are unreachable; that is no fault of the token
    except AuthError:
        return False
    return True

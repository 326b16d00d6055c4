"""Reading the Appstore's plain JSON envelopes as Dramatiq messages."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from dramatiq.encoder import Encoder, MessageData

from dashboard.worker.topology import DELAY_QUEUE, FOLD_ACTOR, QUEUE

# The fields of a body Dramatiq wrote itself (a retry coming back from the delay queue).
_DRAMATIQ_FIELDS = frozenset(
    {"queue_name", "actor_name", "args", "kwargs", "options", "message_id", "message_timestamp"}
)
# Ids of bodies without a usable event_id are derived from the body, so that the same bad
# body dead-lettered twice is one dead_letters row with a count of two.
_BODY_NAMESPACE = uuid.UUID("6f0b8f7e-2b1a-4c55-9b53-5d0c2f4e9a10")


class EnvelopeEncoder(Encoder):
    """Decodes every body on the dashboard's queue into a message, never raising.

    - A body Dramatiq wrote for the folding actor (a retry) is decoded as usual.
    - Anything else becomes a message for the folding actor, with ``message_id`` the
      body's ``event_id`` when it has a string one. Its single argument is the parsed
      JSON object, or, when the body is not a JSON object, the body as text.

    So a malformed body does not fail here: Dramatiq 2.x would nack it to the ``.XQ``
    with a log line but no hook, leaving it uncounted and unrecorded. It reaches the
    actor instead, whose ``appstore_events.decode`` raises a typed
    :class:`~appstore_events.EventError` that is never retried, and the failure path
    (:mod:`dashboard.worker.dead_letters`) counts it, keeps a copy and nacks it.

    ``encode`` is JSON, as Dramatiq's default: what the worker publishes (retries) holds
    only JSON values.
    """

    def encode(self, data: MessageData) -> bytes:
        return json.dumps(data, separators=(",", ":")).encode("utf-8")

    def decode(self, data: bytes) -> MessageData:
        text = bytes(data).decode("utf-8", errors="replace")
        try:
            parsed: Any = json.loads(text)
        except (ValueError, RecursionError):
            return fold_message(text, message_id=body_id(text))
        if _is_dramatiq_body(parsed):
            return parsed
        if isinstance(parsed, dict):
            event_id = parsed.get("event_id")
            if isinstance(event_id, str) and 0 < len(event_id) <= 64:
                return fold_message(parsed, message_id=event_id)
            return fold_message(parsed, message_id=body_id(text))
        return fold_message(text, message_id=body_id(text))


def fold_message(argument: Any, *, message_id: str) -> MessageData:
    """Return the Dramatiq message data that hands ``argument`` to the folding actor."""
    return {
        "queue_name": QUEUE,
        "actor_name": FOLD_ACTOR,
        "args": [argument],
        "kwargs": {},
        "options": {},
        "message_id": message_id,
        "message_timestamp": int(time.time() * 1000),
    }


def body_id(text: str) -> str:
    """A message id derived from the body itself, for bodies with no event id."""
    return str(uuid.uuid5(_BODY_NAMESPACE, text))


def _is_dramatiq_body(parsed: Any) -> bool:
    # Only bodies for this queue's actor pass: a foreign or half-formed one would fail
    # in Message(**fields) or find no actor, and be dropped to the .XQ unrecorded.
    return (
        isinstance(parsed, dict)
        and parsed.keys() == _DRAMATIQ_FIELDS
        and parsed["actor_name"] == FOLD_ACTOR
        and parsed["queue_name"] in (QUEUE, DELAY_QUEUE)
        and isinstance(parsed["args"], list)
        and len(parsed["args"]) == 1
        and isinstance(parsed["kwargs"], dict)
        and isinstance(parsed["options"], dict)
        and isinstance(parsed["message_id"], str)
    )

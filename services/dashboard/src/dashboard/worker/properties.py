"""The AMQP properties of a delivery, carried with its Dramatiq message.

Dramatiq hands the actor only the decoded body; the routing key and headers a message was
published with are lost by then. An operator reading a dead letter needs them (who sent it,
with what key), so the consumer copies them into the message's ``options`` under
:data:`OPTION`, where the failure path (:mod:`dashboard.worker.dead_letters`) finds them.
A retry is published to the delay queue with its options, so the first delivery's
properties survive it; those of the retry's own delivery are not recorded over them.
"""

from __future__ import annotations

import json
from typing import Any

#: The key of the properties in a message's ``options``.
OPTION = "amqp"


def delivery_properties(method: Any, properties: Any) -> dict[str, Any]:
    """``{routing_key, headers, content_type}`` of a pika delivery, each ``None`` if unset.

    Header values AMQP allows but JSON does not (bytes, timestamps, decimals) are written
    as text, so what is kept is a JSON object.
    """
    headers = getattr(properties, "headers", None) or {}
    return {
        "routing_key": getattr(method, "routing_key", None),
        # Read for every delivery: most carry no headers, or only plain ones.
        "headers": dict(headers) if _plain(headers) else json_safe(headers),
        "content_type": getattr(properties, "content_type", None),
    }


def json_safe(value: Any) -> Any:
    """``value`` with everything JSON cannot hold turned into text."""
    return json.loads(json.dumps(value, default=_as_text))


def _plain(headers: dict) -> bool:
    # Strings and integers, under string keys, are the same JSON as they are.
    return all(
        type(key) is str and (type(value) is str or type(value) is int)
        for key, value in headers.items()
    )


def _as_text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def record(message: Any, method: Any, properties: Any) -> None:
    """Put the delivery's properties into ``message.options``, unless it has some already."""
    message.options.setdefault(OPTION, delivery_properties(method, properties))

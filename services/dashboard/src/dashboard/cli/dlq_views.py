"""What ``dashboard dlq list`` and ``show`` print of a kept dead letter, as text or JSON.

The ``dead_letters`` table keeps the body, not the event's id or sequence apart: they are
read from the body when it is a JSON object that has them, and are ``null`` otherwise.
The routing key, headers and content type it arrived with are kept since migration 0005;
letters kept before have none, and ``show`` says "(not kept)" rather than guessing.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dashboard.models import DeadLetter

NOT_KEPT = "(not kept)"
_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def iso(moment: datetime) -> str:
    """``moment`` in ISO-8601, UTC, with a ``Z``."""
    return moment.isoformat().replace("+00:00", "Z")


def parsed_body(body: str) -> Any | None:
    """The body as JSON, or ``None`` when it does not parse."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def summary(letter: DeadLetter) -> dict[str, Any]:
    """One entry of ``dlq list --json``."""
    parsed = parsed_body(letter.body)
    fields = parsed if isinstance(parsed, dict) else {}
    event_id = fields.get("event_id")
    sequence = fields.get("sequence")
    return {
        "id": letter.id,
        "reason": letter.reason,
        "event_type": letter.event_type,
        "event_id": event_id if isinstance(event_id, str) else None,
        # bool is an int to Python, not a sequence to anyone.
        "sequence": sequence if type(sequence) is int else None,
        "times_seen": letter.count,
        "first_seen": iso(letter.first_seen),
        "last_seen": iso(letter.last_seen),
        "error": letter.error,
    }


def details(letter: DeadLetter) -> dict[str, Any]:
    """Everything kept about one letter: ``dlq show --json``.

    ``body`` is the text as kept; ``body_json`` the same parsed, or ``null``.
    """
    return {
        **summary(letter),
        "message_id": letter.message_id,
        "routing_key": letter.routing_key,
        "headers": None if letter.headers is None else parsed_body(letter.headers),
        "content_type": letter.content_type,
        "body": letter.body,
        "body_json": parsed_body(letter.body),
    }


def details_text(letter: DeadLetter) -> str:
    """``dlq show`` for a reader: the fields, then the body, pretty JSON or escaped text."""
    shown = details(letter)
    # Every delivery has a routing key: without one, the letter predates their keeping.
    recorded = letter.routing_key is not None
    rows = [
        ("id", shown["id"]),
        ("reason", shown["reason"]),
        ("event type", shown["event_type"]),
        ("event id", shown["event_id"]),
        ("sequence", shown["sequence"]),
        ("message id", shown["message_id"]),
        ("times seen", shown["times_seen"]),
        ("first seen", shown["first_seen"]),
        ("last seen", shown["last_seen"]),
        ("routing key", _kept(shown["routing_key"], recorded)),
        ("content type", _kept(shown["content_type"], recorded)),
        ("headers", _kept(shown["headers"], recorded)),
        ("error", escaped(shown["error"])),
    ]
    lines = [f"{name + ':':<14}{'-' if value is None else value}" for name, value in rows]
    if shown["body_json"] is not None or letter.body.strip() == "null":
        lines.append("body (JSON):")
        body = json.dumps(shown["body_json"], indent=2, ensure_ascii=False)
    else:
        lines.append("body (not JSON, escaped):")
        body = escaped(letter.body)
    lines.extend("  " + line for line in body.splitlines() or [""])
    return "\n".join(lines)


def _kept(value: Any, recorded: bool) -> str | None:
    """A property as shown: ``-`` when unset, "(not kept)" on a letter kept before them."""
    if value is None:
        return None if recorded else NOT_KEPT
    if isinstance(value, dict):
        return escaped(json.dumps(value, sort_keys=True, ensure_ascii=False))
    return escaped(str(value))


def escaped(text: str) -> str:
    """``text`` on one line with every control or unprintable character written as an
    escape (``\\n``, ``\\x00``, ``\\u200b``...), and backslashes doubled, so what is
    printed is unambiguous and nothing in it moves the terminal's cursor."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif ord(char) <= 0xFF:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return "".join(out)

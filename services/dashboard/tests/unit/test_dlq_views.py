"""What ``dashboard dlq list`` and ``show`` make of a kept dead letter's body."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from dashboard.cli.dlq_views import details, details_text, escaped, summary
from dashboard.models import DeadLetter

SEEN = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def letter(body: str, **fields) -> DeadLetter:
    values = {
        "id": 1,
        "message_id": "m",
        "reason": "malformed",
        "event_type": None,
        "error": "bad",
        "first_seen": SEEN,
        "last_seen": SEEN,
        "count": 3,
    }
    return DeadLetter(body=body, **{**values, **fields})


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain ✓ text", "plain ✓ text"),
        ("a\nb\tc\r", "a\\nb\\tc\\r"),
        ("nul\x00 esc\x1b[2J", "nul\\x00 esc\\x1b[2J"),
        ("back\\slash", "back\\\\slash"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
    ],
)
def test_escaped_shows_every_control_character(text, shown):
    assert escaped(text) == shown


def test_summary_reads_event_id_and_sequence_from_a_json_body():
    body = json.dumps({"event_id": "e-1", "sequence": 42, "event_type": "X"})
    assert summary(letter(body, event_type="X")) == {
        "id": 1,
        "reason": "malformed",
        "event_type": "X",
        "event_id": "e-1",
        "sequence": 42,
        "times_seen": 3,
        "first_seen": "2026-11-26T12:00:00Z",
        "last_seen": "2026-11-26T12:00:00Z",
        "error": "bad",
    }


@pytest.mark.parametrize(
    "body",
    ["{not json", "[1, 2]", '{"event_id": 7, "sequence": true}', '{"sequence": "9"}', "null"],
)
def test_summary_has_null_where_the_body_has_no_usable_id_or_sequence(body):
    entry = summary(letter(body))
    assert (entry["event_id"], entry["sequence"]) == (None, None)


def test_details_keep_the_raw_body_and_its_parse():
    assert details(letter("{not json"))["body_json"] is None
    assert details(letter('{"a": 1}'))["body_json"] == {"a": 1}


def test_details_text_pretty_prints_json_and_escapes_text():
    assert '  {\n    "a": 1\n  }' in details_text(letter('{"a":1}'))
    text = details_text(letter("one\ntwo\x07"))
    assert "body (not JSON, escaped):\n  one\\ntwo\\x07" in text

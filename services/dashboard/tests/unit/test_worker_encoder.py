"""The encoder maps every body on the dashboard queue to a message, never raising."""

from __future__ import annotations

import json

from dramatiq import Message

from appstore_events import encode, new_envelope
from dashboard.worker.encoder import EnvelopeEncoder, body_id
from dashboard.worker.topology import FOLD_ACTOR, QUEUE

REGISTERED = {
    "user_id": 1,
    "username": "ann",
    "role": "user",
    "registered_at": "2026-11-26T09:00:00Z",
}


def envelope_body() -> bytes:
    return encode(
        new_envelope(
            "UserRegistered",
            {
                "user_id": 1,
                "username": "ann",
                "role": "user",
                "registered_at": "2026-11-26T09:00:00Z",
            },
        ).with_sequence(1)
    )


def test_a_plain_envelope_becomes_a_message_for_the_folding_actor():
    body = envelope_body()
    data = EnvelopeEncoder().decode(body)
    assert data["actor_name"] == FOLD_ACTOR
    assert data["queue_name"] == QUEUE
    assert data["args"] == [json.loads(body)]
    assert data["message_id"] == json.loads(body)["event_id"]
    assert data["options"] == {}
    assert data["kwargs"] == {}
    Message(**{**data, "args": tuple(data["args"])})  # Dramatiq accepts it


def test_a_body_dramatiq_wrote_for_a_retry_decodes_as_usual():
    encoder = EnvelopeEncoder()
    first = encoder.decode(envelope_body())
    first["options"] = {"retries": 2}
    assert encoder.decode(encoder.encode(first)) == first


def test_bodies_that_are_not_json_objects_go_to_the_actor_as_text_with_a_stable_id():
    encoder = EnvelopeEncoder()
    for body in (b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe", b""):
        data = encoder.decode(body)
        assert data["actor_name"] == FOLD_ACTOR
        assert data["args"] == [body.decode("utf-8", errors="replace")]
        assert data["message_id"] == body_id(body.decode("utf-8", errors="replace"))
        assert encoder.decode(body)["message_id"] == data["message_id"]


def test_an_object_without_a_usable_event_id_keeps_its_object_and_gets_a_body_id():
    data = EnvelopeEncoder().decode(b'{"event_id": 5}')
    assert data["args"] == [{"event_id": 5}]
    assert data["message_id"] == body_id('{"event_id": 5}')


def test_a_foreign_dramatiq_body_is_not_trusted():
    foreign = {
        "queue_name": "other",
        "actor_name": "delete_everything",
        "args": [],
        "kwargs": {},
        "options": {},
        "message_id": "x",
        "message_timestamp": 0,
    }
    data = EnvelopeEncoder().decode(json.dumps(foreign).encode())
    assert data["actor_name"] == FOLD_ACTOR
    assert data["args"] == [foreign]

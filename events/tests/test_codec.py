import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from event_samples import SAMPLE_DATA, T, wire_envelope

from appstore_events import (
    CONTENT_TYPE,
    Envelope,
    decode,
    encode,
    encode_dict,
    format_timestamp,
    new_encoded,
    new_envelope,
)
from appstore_events.errors import InvalidPayload, UnknownEventType

WIRE_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def test_round_trip_through_bytes(event_type):
    envelope = new_envelope(event_type, SAMPLE_DATA[event_type]).with_sequence(42)

    decoded = decode(encode(envelope))

    assert decoded == envelope
    assert decoded.sequence == 42


def test_round_trip_through_str_and_dict(event_type):
    envelope = new_envelope(event_type, SAMPLE_DATA[event_type])

    assert decode(encode(envelope).decode("utf-8")) == envelope
    assert decode(encode_dict(envelope)) == envelope
    assert decode(memoryview(encode(envelope))) == envelope


def test_wire_data_equals_the_contract_form(event_type):
    envelope = decode(wire_envelope(event_type))

    assert encode_dict(envelope)["data"] == SAMPLE_DATA[event_type]


@pytest.mark.parametrize("moment", [None, datetime(2026, 11, 26, 19, 0, 0, 123456, tzinfo=UTC)])
def test_new_encoded_renders_as_encode_dict_does(event_type, moment):
    envelope, wire = new_encoded(event_type, SAMPLE_DATA[event_type], occurred_at=moment)

    assert wire == encode_dict(envelope)
    assert list(wire) == list(encode_dict(envelope))
    assert decode(wire) == envelope


def test_new_encoded_validates_the_payload():
    with pytest.raises(InvalidPayload):
        new_encoded("AppPurchased", {**SAMPLE_DATA["AppPurchased"], "price": -1})
    with pytest.raises(UnknownEventType):
        new_encoded("AppSold", {})


def test_encode_dict_is_plain_json_with_contract_timestamps():
    envelope = new_envelope("AppPurchased", SAMPLE_DATA["AppPurchased"])

    wire = encode_dict(envelope)

    assert json.loads(json.dumps(wire)) == wire
    assert list(wire) == [
        "event_id",
        "event_type",
        "event_version",
        "sequence",
        "source",
        "occurred_at",
        "data",
    ]
    assert wire["sequence"] is None
    assert WIRE_TIMESTAMP.match(wire["occurred_at"])
    assert wire["data"]["purchased_at"] == T
    assert CONTENT_TYPE == "application/json"


def test_decode_loads_timestamps_as_aware_utc():
    envelope = decode(wire_envelope(occurred_at="2026-11-26T19:00:00.5+01:00"))

    assert envelope.occurred_at == datetime(2026, 11, 26, 18, 0, 0, 500000, tzinfo=UTC)
    assert envelope.occurred_at.tzinfo is UTC
    assert envelope.data["purchased_at"] == datetime(2026, 11, 26, 18, 0, 0, 123456, tzinfo=UTC)
    assert encode_dict(envelope)["occurred_at"] == "2026-11-26T18:00:00.500000Z"


def test_new_envelope_fills_identity_and_time():
    before = datetime.now(UTC)
    envelope = new_envelope("AppVerified", SAMPLE_DATA["AppVerified"])

    assert isinstance(envelope, Envelope)
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", envelope.event_id
    )
    assert envelope.sequence is None
    assert envelope.source == "appstore"
    assert envelope.event_version == 1
    assert before <= envelope.occurred_at <= datetime.now(UTC)
    assert new_envelope("AppVerified", SAMPLE_DATA["AppVerified"]).event_id != envelope.event_id


def test_new_envelope_accepts_aware_datetimes():
    data = dict(SAMPLE_DATA["AppDeleted"], deleted_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))

    envelope = new_envelope("AppDeleted", data)

    assert encode_dict(envelope)["data"]["deleted_at"] == "2026-01-02T03:04:05.000000Z"


def test_envelope_is_frozen():
    envelope = new_envelope("AppDeleted", SAMPLE_DATA["AppDeleted"])

    with pytest.raises(AttributeError):
        envelope.sequence = 3  # type: ignore[misc]


def test_decode_normalises_event_id():
    envelope = decode(wire_envelope(event_id="3F1C2E4A-0D5B-4C6E-8F70-1A2B3C4D5E6F"))

    assert envelope.event_id == "3f1c2e4a-0d5b-4c6e-8f70-1a2b3c4d5e6f"


def test_decode_does_not_modify_a_dict_input():
    wire = wire_envelope("AppUpdated")
    snapshot = json.loads(json.dumps(wire))

    decode(wire)

    assert wire == snapshot


def test_non_ascii_and_odd_strings_round_trip():
    data = dict(SAMPLE_DATA["AppCreated"], title="Échecs ♞ \ud800")
    envelope = new_envelope("AppCreated", data)

    assert decode(encode(envelope)).data["title"] == "Échecs ♞ \ud800"


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 26, 18, 0, 0, 123456, tzinfo=UTC),
        datetime(2026, 11, 26, 19, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1))),
        datetime(2026, 11, 26, 13, 30, 0, 123456, tzinfo=timezone(timedelta(hours=-4.5))),
    ],
)
def test_a_timestamp_is_written_in_utc_with_microseconds_and_z(moment):
    assert format_timestamp(moment) == "2026-11-26T18:00:00.123456Z"
    assert format_timestamp(moment.replace(microsecond=0)) == "2026-11-26T18:00:00.000000Z"


def test_a_naive_timestamp_is_refused():
    with pytest.raises(ValueError, match="aware"):
        format_timestamp(datetime(2026, 11, 26, 18, 0))

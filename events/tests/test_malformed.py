import contextlib
import json

import pytest
from event_samples import SAMPLE_DATA, wire_envelope

from appstore_events import (
    EventError,
    InvalidPayload,
    MalformedEvent,
    UnknownEventType,
    UnsupportedEventVersion,
    decode,
    encode,
    new_envelope,
)
from appstore_events.wire_fields import INT64_MAX

ENVELOPE_FIELDS = [
    "event_id",
    "event_type",
    "event_version",
    "sequence",
    "source",
    "occurred_at",
    "data",
]


def body(envelope):
    return json.dumps(envelope).encode()


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"",
        b"\xff\xfe\xfa garbage",
        '{"event_id": NaN}',
        b"[" * 100_000,
        b'{"sequence": ' + b"9" * 5000 + b"}",
    ],
    ids=["bad-json", "empty", "bad-utf8", "nan", "deep-nesting", "huge-int-literal"],
)
def test_input_that_is_not_json(raw):
    with pytest.raises(MalformedEvent, match="not valid JSON"):
        decode(raw)


@pytest.mark.parametrize("raw", [b"[1, 2]", "42", b'"text"', b"null", 42, None, [1], object()])
def test_input_that_is_not_an_object(raw):
    with pytest.raises(MalformedEvent, match="must be a JSON object"):
        decode(raw)


@pytest.mark.parametrize("field", ENVELOPE_FIELDS)
def test_missing_envelope_field(field):
    envelope = wire_envelope()
    del envelope[field]

    with pytest.raises(MalformedEvent) as caught:
        decode(body(envelope))

    assert field in caught.value.details
    assert "Missing data" in str(caught.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sequence", "12"),
        ("sequence", 12.0),
        ("sequence", True),
        ("sequence", 0),
        ("sequence", INT64_MAX + 1),
        ("event_version", "1"),
        ("event_version", 0),
        ("event_version", None),
        ("event_id", "not-a-uuid"),
        ("event_id", 7),
        ("event_type", ""),
        ("event_type", 3),
        ("source", None),
        ("occurred_at", "2026-11-26T18:00:00.123456"),
        ("occurred_at", "yesterday"),
        ("occurred_at", 1764180000),
        ("occurred_at", "0001-01-01T00:00:00+01:00"),
        ("data", [1, 2]),
        ("data", "x"),
        ("unexpected", 1),
    ],
)
def test_invalid_envelope_field(field, value):
    envelope = wire_envelope(**{field: value})

    with pytest.raises(MalformedEvent) as caught:
        decode(body(envelope))

    assert field in caught.value.details
    if field != "event_id":
        assert caught.value.event_id == envelope["event_id"]


def test_sequence_may_be_null_before_it_is_assigned():
    assert decode(body(wire_envelope(sequence=None))).sequence is None


def test_unknown_event_type():
    envelope = wire_envelope("AppRated", data={"app_id": 5})

    with pytest.raises(UnknownEventType) as caught:
        decode(body(envelope))

    assert caught.value.event_type == "AppRated"
    assert caught.value.event_id == envelope["event_id"]
    assert str(caught.value) == (
        f"unknown event type 'AppRated' (event_type=AppRated, event_id={envelope['event_id']})"
    )


def test_newer_version_than_known():
    envelope = wire_envelope(event_version=2)

    with pytest.raises(UnsupportedEventVersion) as caught:
        decode(body(envelope))

    assert (caught.value.event_version, caught.value.supported_version) == (2, 1)
    assert caught.value.event_type == "AppPurchased"
    assert caught.value.event_id == envelope["event_id"]


@pytest.mark.parametrize("field", list(SAMPLE_DATA["AppPurchased"]))
def test_payload_missing_a_field(field):
    envelope = wire_envelope()
    del envelope["data"][field]

    with pytest.raises(InvalidPayload) as caught:
        decode(body(envelope))

    assert field in caught.value.details
    assert caught.value.event_type == "AppPurchased"
    assert caught.value.event_id == envelope["event_id"]


@pytest.mark.parametrize(
    ("event_type", "field", "value"),
    [
        ("AppPurchased", "price", 30.0),
        ("AppPurchased", "price", 30.5),
        ("AppPurchased", "price", -1),
        ("AppPurchased", "price", True),
        ("AppPurchased", "price", "30"),
        ("AppPurchased", "price", INT64_MAX + 1),
        ("AppPurchased", "buyer_id", False),
        ("AppPurchased", "buyer_id", 0),
        ("AppPurchased", "purchased_at", "2026-11-26T18:00:00"),
        ("AppPurchased", "purchased_at", None),
        ("CreditGranted", "amount", 0),
        ("CreditGranted", "amount", 1.5),
        ("UserRegistered", "role", "root"),
        ("UserRegistered", "username", ""),
        ("AppCreated", "title", 12),
        ("AppUpdated", "changes", {"price": 2.5}),
        ("AppUpdated", "changes", {"access_link": "https://example.org/x"}),
        ("AppUpdated", "changes", [["price", 3]]),
        ("AppDeleted", "surprise", 1),
    ],
)
def test_payload_with_a_bad_value(event_type, field, value):
    envelope = wire_envelope(event_type)
    envelope["data"][field] = value

    with pytest.raises(InvalidPayload) as caught:
        decode(body(envelope))

    assert field in caught.value.details


def test_new_envelope_validates_the_payload():
    with pytest.raises(InvalidPayload, match="price"):
        new_envelope("AppCreated", dict(SAMPLE_DATA["AppCreated"], price=9.99))
    with pytest.raises(UnknownEventType):
        new_envelope("AppRated", {})


def test_encode_refuses_an_envelope_that_would_not_decode():
    envelope = new_envelope("AppCreated", SAMPLE_DATA["AppCreated"])
    bad_data = envelope.__class__(**{**envelope.__dict__, "data": {"app_id": 5}})
    naive = envelope.__class__(
        **{**envelope.__dict__, "occurred_at": envelope.occurred_at.replace(tzinfo=None)}
    )
    invalid_version = envelope.__class__(**{**envelope.__dict__, "event_version": 0})
    newer = envelope.__class__(**{**envelope.__dict__, "event_version": 2})

    with pytest.raises(InvalidPayload):
        encode(bad_data)
    with pytest.raises(MalformedEvent, match="occurred_at"):
        encode(naive)
    with pytest.raises(MalformedEvent, match="event_version"):
        encode(invalid_version)
    with pytest.raises(UnsupportedEventVersion, match="only the current version"):
        encode(newer)


ODD_VALUES = [None, True, -1, 0, 1.5, 2**64, "", "x", "1", [], {}, [1], {"a": 1}]


@pytest.mark.parametrize("value", ODD_VALUES, ids=repr)
def test_odd_values_anywhere_raise_only_typed_errors(value, event_type):
    """Any single field replaced by an odd value decodes or raises an EventError."""
    template = wire_envelope(event_type)
    targets = [(None, key) for key in template] + [("data", key) for key in template["data"]]
    for parent, key in targets:
        envelope = wire_envelope(event_type)
        (envelope[parent] if parent else envelope)[key] = value
        with contextlib.suppress(EventError):
            decode(body(envelope))

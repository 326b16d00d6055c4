import pytest
from event_samples import T, wire_envelope
from marshmallow import Schema, fields

from appstore_events import (
    EVENT_TYPES,
    EventType,
    InvalidPayload,
    UnsupportedEventVersion,
    decode,
    encode_dict,
    register_upcaster,
    unregister_upcaster,
    upcast,
)


class GadgetRenamedV2Schema(Schema):
    gadget_id = fields.Integer(strict=True, required=True)
    name = fields.String(required=True)
    renamed_at = fields.String(required=True)


def title_to_name(data):
    """v1 called the field `title`; v2 calls it `name`."""
    data["name"] = data.pop("title")
    return data


@pytest.fixture
def gadget_v2(monkeypatch):
    """A fake type whose current version is 2, with its v1 -> v2 upcaster registered."""
    spec = EventType("GadgetRenamed", "gadget.renamed", 2, GadgetRenamedV2Schema())
    monkeypatch.setitem(EVENT_TYPES, spec.name, spec)
    register_upcaster("GadgetRenamed", 1, title_to_name)
    yield spec
    unregister_upcaster("GadgetRenamed", 1)


def v1(**data):
    return wire_envelope(
        "GadgetRenamed", event_version=1, data={"gadget_id": 3, "renamed_at": T, **data}
    )


def test_decode_upcasts_v1_to_the_current_version(gadget_v2):
    wire = v1(title="Widget")

    envelope = decode(wire)

    assert envelope.event_version == 2
    assert envelope.data == {"gadget_id": 3, "name": "Widget", "renamed_at": T}
    assert wire["data"] == {"gadget_id": 3, "title": "Widget", "renamed_at": T}
    assert encode_dict(envelope)["event_version"] == 2


def test_current_version_is_left_alone(gadget_v2):
    wire = v1(name="Widget")
    wire["event_version"] = 2

    assert decode(wire).data["name"] == "Widget"


def test_newer_than_current_is_refused(gadget_v2):
    wire = v1(name="Widget")
    wire["event_version"] = 3

    with pytest.raises(UnsupportedEventVersion) as caught:
        decode(wire)

    assert (caught.value.event_version, caught.value.supported_version) == (3, 2)


def test_missing_step_is_refused(gadget_v2):
    unregister_upcaster("GadgetRenamed", 1)

    with pytest.raises(UnsupportedEventVersion, match="no upcaster from version 1"):
        decode(v1(title="Widget"))


def test_a_failing_upcaster_gives_invalid_payload(gadget_v2):
    with pytest.raises(InvalidPayload, match="upcasting from v1 failed") as caught:
        decode(v1(label="no title here"))

    assert caught.value.event_type == "GadgetRenamed"


def test_any_upcaster_bug_gives_invalid_payload(gadget_v2):
    unregister_upcaster("GadgetRenamed", 1)
    register_upcaster("GadgetRenamed", 1, lambda data: {**data, "name": data["title"].upper()})

    with pytest.raises(InvalidPayload, match="AttributeError"):
        decode(v1(title=["not", "a", "string"]))


def test_upcast_leaves_its_input_alone(gadget_v2):
    data = {"gadget_id": 3, "title": "Widget", "renamed_at": T, "tags": {"colour": "red"}}
    unregister_upcaster("GadgetRenamed", 1)

    def rename_and_recolour(data):
        data["tags"]["colour"] = "blue"
        return title_to_name(data)

    register_upcaster("GadgetRenamed", 1, rename_and_recolour)

    assert upcast("GadgetRenamed", 1, data)[1]["name"] == "Widget"
    assert data == {"gadget_id": 3, "title": "Widget", "renamed_at": T, "tags": {"colour": "red"}}


def test_upcast_result_is_validated_against_the_current_schema(gadget_v2):
    with pytest.raises(InvalidPayload, match="gadget_id"):
        decode(v1(title="Widget", gadget_id="3"))


def test_an_upcaster_must_return_a_dict(gadget_v2):
    unregister_upcaster("GadgetRenamed", 1)
    register_upcaster("GadgetRenamed", 1, lambda data: None)

    with pytest.raises(InvalidPayload, match="did not return a dict"):
        decode(v1(title="Widget"))


def test_steps_chain_from_v1_to_v3(monkeypatch, gadget_v2):
    monkeypatch.setitem(
        EVENT_TYPES,
        "GadgetRenamed",
        EventType("GadgetRenamed", "gadget.renamed", 3, gadget_v2.schema),
    )
    register_upcaster("GadgetRenamed", 2, lambda data: {**data, "name": data["name"].upper()})
    try:
        assert upcast("GadgetRenamed", 1, {"title": "w"}) == (3, {"name": "W"})
    finally:
        unregister_upcaster("GadgetRenamed", 2)


def test_registering_the_same_step_twice_is_refused(gadget_v2):
    with pytest.raises(ValueError, match="already registered"):
        register_upcaster("GadgetRenamed", 1, title_to_name)

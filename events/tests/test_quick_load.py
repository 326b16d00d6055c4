"""The quick decoding path agrees with marshmallow on every input: same envelope, or the
same kind of error. Mutations of valid envelopes of each type probe the edges."""

from __future__ import annotations

import copy
import itertools

import pytest
from event_samples import SAMPLE_DATA, wire_envelope

from appstore_events import EventError, codec, decode
from appstore_events.quick_load import NotQuick

ODD_VALUES = [
    None,
    True,
    0,
    -1,
    2**63,
    1.5,
    "",
    "x",
    "7",
    [],
    {},
    "2026-11-26T18:00:00Z",
    "2026-11-26T18:00:00+01:00",
    "2026-11-26 18:00:00",
    "3F1C0000-0000-4000-8000-000000000000",
]


def _mutations():
    for event_type in SAMPLE_DATA:
        base = wire_envelope(event_type)
        yield f"{event_type}-valid", base
        for field, value in itertools.product(list(base), ODD_VALUES):
            if field == "data":
                continue
            yield f"{event_type}-{field}={value!r}", {**copy.deepcopy(base), field: value}
        for field, value in itertools.product(list(base["data"]), ODD_VALUES):
            mutated = copy.deepcopy(base)
            mutated["data"][field] = value
            yield f"{event_type}-data.{field}={value!r}", mutated
        for field in [*base, *(f"data.{name}" for name in base["data"])]:
            mutated = copy.deepcopy(base)
            owner, _, name = field.rpartition(".")
            (mutated["data"] if owner else mutated).pop(name)
            yield f"{event_type}-without-{field}", mutated
        yield f"{event_type}-extra", {**copy.deepcopy(base), "extra": 1}
        extra_data = copy.deepcopy(base)
        extra_data["data"]["extra"] = 1
        yield f"{event_type}-data-extra", extra_data


CASES = list(_mutations())


def _outcome(raw):
    try:
        return decode(copy.deepcopy(raw))
    except EventError as error:
        return type(error)


def _marshmallow_only(raw, monkeypatch):
    def refuse(_obj):
        raise NotQuick

    with monkeypatch.context() as patch:
        patch.setattr(codec, "_decode_quickly", refuse)
        return _outcome(raw)


@pytest.mark.parametrize("raw", [case for _name, case in CASES], ids=[n for n, _ in CASES])
def test_the_quick_path_decodes_exactly_as_marshmallow_does(raw, monkeypatch):
    assert _outcome(raw) == _marshmallow_only(raw, monkeypatch)


def test_plainly_valid_envelopes_take_the_quick_path():
    for event_type in SAMPLE_DATA:
        raw = wire_envelope(event_type)
        assert codec._decode_quickly(copy.deepcopy(raw)) == decode(raw)

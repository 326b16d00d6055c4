"""The producer's quick paths agree with marshmallow: loading payloads whose timestamps are
aware datetimes, and dumping loaded payloads, give exactly what the schemas give, or the
same kind of error, on every mutation of each event type's sample."""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest
from event_samples import SAMPLE_DATA
from marshmallow import ValidationError

from appstore_events import EVENT_TYPES, InvalidPayload
from appstore_events.quick_dump import quick_dumper
from appstore_events.quick_load import quick_loader

MOMENT = datetime(2026, 11, 26, 18, 0, 0, 123456, tzinfo=UTC)
PRODUCER_VALUES = [
    None,
    True,
    0,
    7,
    -1,
    2**63,
    1.5,
    "",
    "x",
    [],
    {},
    {"x": 1},
    {1: "x"},
    MOMENT,
    MOMENT.astimezone(timezone(timedelta(hours=5, minutes=30))),
    MOMENT.replace(tzinfo=None),
    datetime.max.replace(tzinfo=timezone(timedelta(hours=-1))),
    "2026-11-26T18:00:00+01:00",
]


def _producer_payload(event_type):
    """The sample payload as a producer builds it: timestamps as aware datetimes."""
    data = copy.deepcopy(SAMPLE_DATA[event_type])
    for name, value in data.items():
        if isinstance(value, str) and value.endswith("Z") and value[:4].isdigit():
            data[name] = datetime.fromisoformat(value)
    return data


def _mutations():
    for event_type in SAMPLE_DATA:
        base = _producer_payload(event_type)
        yield event_type, "valid", base
        for field, value in itertools.product(list(base), PRODUCER_VALUES):
            yield event_type, f"{field}={value!r}", {**copy.deepcopy(base), field: value}
        for field in base:
            yield event_type, f"without-{field}", {k: v for k, v in base.items() if k != field}


CASES = list(_mutations())
IDS = [f"{event_type}-{name}" for event_type, name, _ in CASES]


def _outcome(call):
    try:
        return call()
    except ValidationError:
        return InvalidPayload  # what EventType.load raises for it
    except Exception as error:
        return type(error)


@pytest.mark.parametrize(("event_type", "name", "data"), CASES, ids=IDS)
def test_loading_a_producers_payload_gives_what_marshmallow_gives(event_type, name, data):
    spec = EVENT_TYPES[event_type]
    marshmallow = _outcome(lambda: spec.schema.load(copy.deepcopy(data)))
    quick = _outcome(lambda: spec.load(copy.deepcopy(data)))
    assert quick == marshmallow
    # Equal aware datetimes may still differ in zone: the loaded ones must be in UTC.
    assert repr(quick) == repr(marshmallow)


@pytest.mark.parametrize(("event_type", "name", "data"), CASES, ids=IDS)
def test_dumping_gives_what_marshmallow_gives(event_type, name, data):
    spec = EVENT_TYPES[event_type]
    dumped = _outcome(lambda: spec.dump(copy.deepcopy(data)))
    assert dumped == _outcome(lambda: spec.schema.dump(copy.deepcopy(data)))
    if isinstance(dumped, dict):
        assert list(dumped) == list(spec.schema.dump(copy.deepcopy(data)))


@pytest.mark.parametrize("event_type", sorted(SAMPLE_DATA))
def test_every_event_type_takes_the_quick_paths(event_type):
    spec = EVENT_TYPES[event_type]
    data = _producer_payload(event_type)
    loaded = quick_loader(spec.schema)(data)
    assert loaded == spec.schema.load(data)
    assert quick_dumper(spec.schema)(loaded) == spec.schema.dump(loaded) == SAMPLE_DATA[event_type]

"""The API's shared marshmallow fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from marshmallow import Schema, ValidationError

from appstore.api.fields import MAX_ID, Credits, HttpUrl, Id, Text, UtcDateTime


class Sample(Schema):
    at = UtcDateTime()
    text = Text()
    ident = Id()
    credits = Credits(0, 100)
    link = HttpUrl()


def dump(value) -> str:
    return Sample().dump({"at": value})["at"]


def load(**data) -> dict:
    return Sample().load(data)


def test_aware_value_is_dumped_in_utc_with_z():
    paris = timezone(timedelta(hours=2))
    assert dump(datetime(2026, 5, 1, 12, 30, 0, 5, tzinfo=paris)) == "2026-05-01T10:30:00.000005Z"


def test_utc_value_is_dumped_with_z_and_microseconds():
    assert dump(datetime(2026, 11, 26, 18, 0, tzinfo=UTC)) == "2026-11-26T18:00:00.000000Z"


def test_naive_value_is_taken_as_utc():
    assert dump(datetime(2026, 11, 26, 18, 0, 0, 123456)) == "2026-11-26T18:00:00.123456Z"


def test_none_is_dumped_as_none():
    assert dump(None) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-01T12:30:00+02:00", datetime(2026, 5, 1, 10, 30, tzinfo=UTC)),
        ("2026-05-01T05:30:00-05:00", datetime(2026, 5, 1, 10, 30, tzinfo=UTC)),
        ("2026-05-01T10:30:00Z", datetime(2026, 5, 1, 10, 30, tzinfo=UTC)),
        ("2026-05-01T10:30:00", datetime(2026, 5, 1, 10, 30, tzinfo=UTC)),
        ("2026-05-01T00:30:00+14:00", datetime(2026, 4, 30, 10, 30, tzinfo=UTC)),
    ],
)
def test_input_is_converted_to_utc(text, expected):
    loaded = load(at=text)["at"]
    assert loaded == expected
    assert loaded.utcoffset() == timedelta(0)
    assert loaded.tzinfo is UTC


def test_dump_of_a_loaded_value_round_trips():
    assert dump(load(at="2026-05-01T12:30:00.25+02:00")["at"]) == "2026-05-01T10:30:00.250000Z"


@pytest.mark.parametrize(
    "text",
    [
        "not a date",
        "2026-13-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "",
        "a\u0000b",
    ],
)
def test_bad_dates_are_validation_errors(text):
    with pytest.raises(ValidationError) as error:
        load(at=text)
    assert "at" in error.value.messages


def test_text_keeps_ordinary_strings():
    assert load(text="héllo\twörld\n")["text"] == "héllo\twörld\n"


@pytest.mark.parametrize("text", ["a\u0000b", "\u0000", "end\u0000"])
def test_text_refuses_nul(text):
    with pytest.raises(ValidationError) as error:
        load(text=text)
    assert error.value.messages == {"text": ["Must not contain NUL characters."]}


@pytest.mark.parametrize("value", [1, 2, MAX_ID])
def test_id_accepts_positive_database_ids(value):
    assert load(ident=value)["ident"] == value


@pytest.mark.parametrize("value", [0, -1, MAX_ID + 1, 10**30, "x"])
def test_id_refuses_what_the_database_cannot_hold(value):
    with pytest.raises(ValidationError):
        load(ident=value)


@pytest.mark.parametrize("value", [0, 100])
def test_credits_accept_whole_numbers_in_range(value):
    assert load(credits=value)["credits"] == value


@pytest.mark.parametrize("value", [-1, 101, 1.5, 2.0, "10", True, False, None, 10**30])
def test_credits_refuse_anything_else(value):
    with pytest.raises(ValidationError):
        load(credits=value)


@pytest.mark.parametrize("link", ["https://example.com/a", "http://localhost:8000/x?y=1"])
def test_http_urls_are_accepted(link):
    assert load(link=link)["link"] == link


@pytest.mark.parametrize(
    "link",
    [
        "ftp://example.com/a",
        "javascript:alert(1)",
        "//example.com",
        "https://",
        "https://exa mple.com",
        "https://example.com/" + "a" * 2048,
    ],
)
def test_other_urls_are_refused(link):
    with pytest.raises(ValidationError):
        load(link=link)

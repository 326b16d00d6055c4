"""The stats answers without any web layer: plain arguments in, encoded answers out."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dashboard.errors import TooManyPoints
from dashboard.fold import fold
from dashboard.migrations import upgrade
from dashboard.stats import answers
from dashboard.stats.answers import SeriesQuestion
from dashboard.stats.cache import AnswerCache
from dashboard.stats.progress import read_progress
from dashboard.stats.reading import Reader
from dashboard.stats.windows import MINUTE, Window
from sqlstore import Database

BERLIN = ZoneInfo("Europe/Berlin")
UTC_ZONE = ZoneInfo("UTC")


class RecordingStore:
    """A cache store in a dict that remembers every key asked for."""

    def __init__(self) -> None:
        self.entries: dict[str, bytes] = {}
        self.asked: list[str] = []

    def get(self, key: str) -> bytes | None:
        self.asked.append(key)
        return self.entries.get(key)

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        self.entries[key] = value

    def ping(self) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("answers") / "migrated.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def reader(migrated, tmp_path, log) -> Iterator[Reader]:
    """A SQLite database holding two users, an app and one purchase at 10:20:30."""
    path = tmp_path / "dashboard.db"
    shutil.copy(migrated, path)
    database = Database(f"sqlite:///{path}")
    with database.transaction() as session:
        fold(
            session,
            [
                log.registered(1, "ada", "09:00:00"),
                log.registered(2, "bo", "09:30:00"),
                log.created(7, 1, "Seven", "10:00:00"),
                log.purchased(1, 7, 2, 1, 25, "10:20:30"),
            ],
        )
    reader = Reader(database)
    yield reader
    reader.dispose()
    database.dispose()


@pytest.fixture
def store() -> RecordingStore:
    return RecordingStore()


@pytest.fixture
def cache(store) -> AnswerCache:
    return AnswerCache(store, ttl_seconds=60)


def generation(reader: Reader) -> int:
    return read_progress(reader).generation


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-26T{text}+00:00")


def test_the_summary_is_cached_under_the_generation_and_its_lag_is_fresh(reader, cache, store):
    first = answers.summary(reader, cache, None)
    again = answers.summary(reader, cache, None)

    assert first["purchases"] == again["purchases"] == 1
    assert first["credits_spent"] == 25
    assert first["last_event_at"] == "2026-11-26T10:20:30Z"
    assert first["lag_seconds"] > 0
    key = f"stats:{generation(reader)}:summary:"
    assert store.asked == [key, key]
    assert "lag_seconds" not in json.loads(store.entries[key])


def test_a_windowed_summary_is_widened_to_whole_minutes(reader, cache, store):
    document = answers.summary(reader, cache, Window(at("10:20:45"), at("10:21:10")))

    assert (document["from"], document["to"]) == ("2026-11-26T10:20:00Z", "2026-11-26T10:22:00Z")
    assert document["purchases"] == 1
    assert document["previous"]["purchases"] == 0
    assert list(store.entries) == [
        f"stats:{generation(reader)}:summary:from=2026-11-26T10:20:00Z&to=2026-11-26T10:22:00Z"
    ]


def test_a_windowed_top_list_says_the_hours_it_was_summed_over(reader, cache, store):
    answer = answers.top_apps(reader, cache, "revenue", 5, Window(at("10:20:00"), at("11:05:00")))

    assert answer.window == Window(at("10:00:00"), at("12:00:00"))
    assert json.loads(answer.body) == [
        {"app_id": 7, "title": "Seven", "owner_id": 1, "purchases": 1, "revenue": 25}
    ]
    assert list(store.entries) == [
        f"stats:{generation(reader)}:top-apps:by=revenue&from=2026-11-26T10:00:00Z&limit=5&to=2026-11-26T12:00:00Z"
    ]


def test_an_all_time_top_list_has_no_window(reader, cache):
    answer = answers.top_developers(reader, cache, "purchases", 3, None)

    assert answer.window is None
    assert json.loads(answer.body)[0]["owner_id"] == 1


def test_a_series_names_its_buckets_in_the_zone_and_caches_json_and_csv_apart(reader, cache, store):
    question = SeriesQuestion("purchases", "hour", BERLIN, Window(at("09:30:00"), at("11:00:00")))

    series = answers.series_json(reader, cache, question)
    export = answers.series_csv(reader, cache, question)

    assert (series.first, series.end) == (at("09:00:00"), at("11:00:00"))
    assert json.loads(series.body) == {
        "metric": "purchases",
        "bucket": "hour",
        "tz": "Europe/Berlin",
        "from": "2026-11-26T09:00:00Z",
        "to": "2026-11-26T11:00:00Z",
        "points": [
            {"t": "2026-11-26T09:00:00Z", "value": 0},
            {"t": "2026-11-26T10:00:00Z", "value": 1},
        ],
    }
    assert export.body == b"t,value\n2026-11-26T09:00:00Z,0\n2026-11-26T10:00:00Z,1\n"
    assert [key.split(":")[2] for key in store.entries] == ["timeseries", "export.csv"]


def test_without_a_window_a_series_is_the_recent_buckets(reader, cache):
    question = SeriesQuestion("users", "day", BERLIN, None)

    series = answers.series_json(reader, cache, question)

    assert len(json.loads(series.body)["points"]) == 30
    assert series.first < datetime.now(UTC) <= series.end


def test_too_many_points_are_refused_before_the_cache_is_asked(reader, cache, store):
    window = Window(at("00:00:00"), datetime(8999, 1, 1, tzinfo=UTC))

    with pytest.raises(TooManyPoints):
        answers.series_json(reader, cache, SeriesQuestion("purchases", "minute", BERLIN, window))

    assert store.asked == []


def test_a_series_one_point_too_long_is_refused_and_not_cached(reader, cache, store):
    window = Window(at("00:00:00"), at("00:00:00") + 5001 * MINUTE)

    with pytest.raises(TooManyPoints):
        answers.series_csv(reader, cache, SeriesQuestion("users", "minute", UTC_ZONE, window))

    assert store.entries == {}

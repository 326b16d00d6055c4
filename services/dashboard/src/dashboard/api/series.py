"""The time-series question shared by ``timeseries`` and ``export.csv``."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from flask_smorest import abort

from dashboard.api.access import components
from dashboard.api.arguments import MAX_POINTS
from dashboard.api.encoding import utc_text
from dashboard.stats import timeseries
from dashboard.stats.calendar import (
    NOMINAL_LENGTH,
    TooManyPoints,
    boundaries,
    covering,
    recent_start,
)
from dashboard.stats.progress import read_progress
from dashboard.stats.windows import Window


class SeriesQuestion:
    """One time-series question, named cheaply; its points are made only on a miss."""

    def __init__(self, args: dict) -> None:
        self.metric, self.bucket, self.tz, self.zone = (
            args["metric"],
            args["bucket"],
            args["tz"],
            args["zone"],
        )
        window = args["window"]
        if window is None:
            now = datetime.now(UTC)
            window = Window(recent_start(self.bucket, self.zone, now), now)
        self.window = window
        self.first, self.end = covering(self.bucket, self.zone, window.start, window.end)
        self.progress = read_progress(components().reader)

    @classmethod
    def parse(cls, args: dict) -> SeriesQuestion:
        """The question the parsed arguments ask; 422 if it has too many points."""
        question = cls(args)
        # Checked before the cache: a too-long series is refused without making any point.
        if (question.end - question.first) / NOMINAL_LENGTH[question.bucket] > MAX_POINTS + 2:
            _too_many_points()
        return question

    def body(self, compute, name: str = "timeseries") -> bytes:
        key = {
            "metric": self.metric,
            "bucket": self.bucket,
            "tz": self.tz,
            "from": utc_text(self.first),
            "to": utc_text(self.end),
        }
        return components().cache.answer(self.progress.generation, name, key, compute)

    def points(self) -> list[tuple[datetime, int]]:
        try:
            edges = boundaries(self.bucket, self.zone, self.first, self.end, MAX_POINTS)
        except TooManyPoints:
            _too_many_points()
        values = timeseries.values(components().reader, self.metric, self.bucket, edges)
        return list(zip(edges, values, strict=False))

    def document(self) -> dict:
        return {
            "metric": self.metric,
            "bucket": self.bucket,
            "tz": self.tz,
            "from": self.first,
            "to": self.end,
            "points": [{"t": utc_text(t), "value": value} for t, value in self.points()],
        }

    def csv(self) -> bytes:
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(("t", "value"))
        writer.writerows((utc_text(t), value) for t, value in self.points())
        return text.getvalue().encode()


def _too_many_points():
    abort(
        422,
        message=f"More than {MAX_POINTS} points: ask for a shorter window or larger buckets.",
        errors={"query": {"to": [f"More than {MAX_POINTS} points."]}},
    )

"""The stats endpoints: summary, time series, top apps and developers, CSV export.

Each view reads the fold generation (one primary-key read), then answers from the cache
under that generation, or computes the answer from the projections and caches it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import Response
from flask.views import MethodView

from dashboard.api.access import components, requires_reader
from dashboard.api.arguments import (
    SummaryArgs,
    TimeseriesArgs,
    TopAppsArgs,
    TopDevelopersArgs,
)
from dashboard.api.encoding import json_response, to_json, utc_text
from dashboard.api.schemas import (
    SummarySchema,
    TimeseriesSchema,
    TopAppSchema,
    TopDeveloperSchema,
)
from dashboard.api.series import SeriesQuestion
from dashboard.bootstrap import Components
from dashboard.stats import summary, top
from dashboard.stats.progress import Progress, read_progress
from dashboard.stats.windows import Window
from servicekit.api import Blueprint

#: Sent with a windowed top list: the window it was summed over, widened to whole hours.
WINDOW_HEADERS = {
    name: {
        "description": f"{edge} of the window, in whole UTC hours.",
        "schema": {"type": "string"},
    }
    for name, edge in (("X-Window-From", "Start"), ("X-Window-To", "End (exclusive)"))
}

blp = Blueprint(
    "stats",
    __name__,
    url_prefix="/api/v1/stats",
    description="Figures folded from the Appstore's events; roles management and admin.",
)


@blp.route("/summary")
class Summary(MethodView):
    @requires_reader(blp)
    @blp.arguments(SummaryArgs, location="query", as_kwargs=True)
    @blp.response(200, SummarySchema)
    def get(self, window: Window | None, **_):
        """All-time totals, or a window's counts beside the previous window's.

        Without `from`/`to`: every total since the first event. With them: the counts of
        `[from, to)` widened to whole minutes, and under `previous` those of the window of
        the same length just before. Windows carry `users`, `apps_created`, `purchases`,
        `credits_spent` and `new_buyers` (buyers whose first purchase falls in them);
        `apps_verified`, `credits_granted` and `buyers` are all-time figures and absent.
        `last_sequence`, `contiguous_through`, `last_event_at` and `lag_seconds` describe
        the fold either way.
        """
        parts = components()
        return json_response(summary_body(parts, read_progress(parts.reader), window))


@blp.route("/timeseries")
class Timeseries(MethodView):
    @requires_reader(blp)
    @blp.arguments(TimeseriesArgs, location="query", as_kwargs=True)
    @blp.response(200, TimeseriesSchema)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, **args):
        """A metric per minute, hour or day, zero-filled, buckets aligned in `tz`.

        Points are the buckets overlapping `[from, to)`, each with its whole value; `t`
        is the bucket's start in UTC (`Z`). Hours and days begin where they begin in
        `tz` (IANA name, default UTC), so a day across a daylight-saving change lasts 23 or
        25 hours. Without `from`/`to`: the last 60 minutes, 48 hours or 30 days, the
        current bucket included. At most 5,000 points (422 beyond). A `from`/`to`
        without an offset is read in `tz`.
        """
        series = SeriesQuestion.parse(args)
        return json_response(series.body(lambda: to_json(series.document())))


@blp.route("/export.csv")
class Export(MethodView):
    @requires_reader(blp)
    @blp.arguments(TimeseriesArgs, location="query", as_kwargs=True)
    @blp.response(
        200,
        {"type": "string", "example": "t,value\n2026-11-26T18:00:00Z,12\n"},
        content_type="text/csv",
        description="`t,value` lines, as the time series' points.",
    )
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, **args):
        """The time series as CSV (the same arguments as `timeseries`), as a download."""
        series = SeriesQuestion.parse(args)
        body = series.body(series.csv, name="export.csv")
        filename = f"{series.metric}-{series.bucket}-{series.first:%Y%m%dT%H%MZ}.csv"
        return Response(
            body,
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


@blp.route("/top-apps")
class TopApps(MethodView):
    @requires_reader(blp)
    @blp.arguments(TopAppsArgs, location="query", as_kwargs=True)
    @blp.response(200, TopAppSchema(many=True), headers=WINDOW_HEADERS)
    def get(self, by: str, limit: int, window: Window | None, **_):
        """The apps most bought, or earning most, all-time or in a window.

        A window is widened to whole UTC hours. Only apps with at least one purchase
        (in the window) are listed, at most `limit` (1-100); ties go to the smaller id.
        """
        return _top("top-apps", top.top_apps, by, limit, window)


@blp.route("/top-developers")
class TopDevelopers(MethodView):
    @requires_reader(blp)
    @blp.arguments(TopDevelopersArgs, location="query", as_kwargs=True)
    @blp.response(200, TopDeveloperSchema(many=True), headers=WINDOW_HEADERS)
    def get(self, by: str, limit: int, window: Window | None, **_):
        """The developers earning most, or sold most, all-time or in a window.

        As top-apps: windows widened to whole UTC hours, developers with at least one
        sale listed. `apps` is the number of apps they have created, all-time.
        """
        return _top("top-developers", top.top_developers, by, limit, window)


def summary_body(parts: Components, progress: Progress, window: Window | None) -> bytes:
    """The summary's JSON for ``window`` (all-time if ``None``), cached, with the lag now."""
    if window is None:
        cached = parts.cache.answer(
            progress.generation, "summary", {}, lambda: to_json(summary.all_time(parts.reader))
        )
    else:
        aligned = summary.aligned(window)
        cached = parts.cache.answer(
            progress.generation,
            "summary",
            _bounds(aligned),
            lambda: to_json(summary.in_window(parts.reader, aligned)),
        )
    # The one figure that moves with the clock is added to each answer, never cached.
    document = json.loads(cached)
    lag = None
    if progress.last_event_at is not None:
        lag = round((datetime.now(UTC) - progress.last_event_at).total_seconds(), 3)
    document["lag_seconds"] = lag
    return to_json(document)


def _top(name: str, query, by: str, limit: int, window: Window | None) -> Response:
    parts = components()
    progress = read_progress(parts.reader)
    aligned = top.aligned(window) if window is not None else None
    key = {"by": by, "limit": limit, **(_bounds(aligned) if aligned else {})}
    body = parts.cache.answer(
        progress.generation, name, key, lambda: to_json(query(parts.reader, by, limit, aligned))
    )
    response = json_response(body)
    if aligned is not None:
        response.headers["X-Window-From"] = utc_text(aligned.start)
        response.headers["X-Window-To"] = utc_text(aligned.end)
    return response


def _bounds(window: Window) -> dict[str, str]:
    return {"from": utc_text(window.start), "to": utc_text(window.end)}

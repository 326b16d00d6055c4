"""The stats endpoints: summary, time series, top apps and developers, CSV export.

Each view hands its parsed arguments to :mod:`dashboard.stats.answers`, which answers
through the cache, and sends the encoded answer it gets back as it is. A series with too
many points is a 422, answered by one handler for the whole blueprint.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Response
from flask.views import MethodView

from dashboard.api.access import components, requires_reader
from dashboard.api.arguments import (
    SummaryArgs,
    TimeseriesArgs,
    TopAppsArgs,
    TopDevelopersArgs,
)
from dashboard.api.encoding import json_response
from dashboard.api.schemas import (
    SummarySchema,
    TimeseriesSchema,
    TopAppSchema,
    TopDeveloperSchema,
)
from dashboard.errors import TooManyPoints
from dashboard.stats import answers
from dashboard.stats.answers import MAX_POINTS, SeriesQuestion, TopList
from dashboard.stats.encoding import to_json, utc_text
from dashboard.stats.scope import Scope
from dashboard.stats.windows import Window
from servicekit.api import Blueprint, error_response

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
    @blp.alt_response(404, response="DEFAULT_ERROR", description="Unknown app or developer.")
    def get(self, window: Window | None, scope: Scope | None, **_):
        """All-time totals, or a window's counts beside the previous window's; of the whole
        store, one app (`app_id`) or one developer (`owner_id`).

        Without `from`/`to`: every total since the first event. With them: the counts of
        `[from, to)` widened to whole minutes, and under `previous` those of the window of
        the same length just before. Windows carry `users`, `apps_created`, `purchases`,
        `credits_spent`, `credits_granted` and `new_buyers` (buyers whose first purchase
        falls in them); `apps_verified` and `buyers` are all-time figures and absent.
        With `app_id` or `owner_id` only `purchases` and `credits_spent` (the app's
        revenue, the developer's earnings), all-time (a developer's `apps_created` too) or
        in the window, and the id asked for. `last_sequence`, `contiguous_through`,
        `last_event_at` and `lag_seconds` describe the fold either way; `behind` and
        `caught_up` say whether it has everything the Appstore had logged when its log was
        last checked (at most about 15 s ago).
        """
        parts = components()
        parts.head_checker.refresh_if_stale()
        answer = answers.summary(parts.reader, parts.cache, window, scope)
        return json_response(to_json(answer))


@blp.route("/timeseries")
class Timeseries(MethodView):
    @requires_reader(blp)
    @blp.arguments(TimeseriesArgs, location="query", as_kwargs=True)
    @blp.response(200, TimeseriesSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="Unknown app or developer.")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(
        self,
        metric: str,
        bucket: str,
        zone: ZoneInfo,
        window: Window | None,
        scope: Scope | None,
        **_,
    ):
        """A metric per minute, hour or day, zero-filled, buckets aligned in `tz`.

        Points are the buckets overlapping `[from, to)`, each with its whole value; `t`
        is the bucket's start in UTC (`Z`). Hours and days begin where they begin in
        `tz` (IANA name, default UTC), so a day across a daylight-saving change lasts 23 or
        25 hours. Without `from`/`to`: the last 60 minutes, 48 hours or 30 days, the
        current bucket included. At most 5,000 points (422 beyond). A `from`/`to`
        without an offset is read in `tz`. `credits_granted` is what admins granted.
        With `app_id` or `owner_id`: that app's or developer's `purchases` or
        `credits_spent` (its revenue), and the id asked for in the answer.
        """
        parts = components()
        question = SeriesQuestion(metric, bucket, zone, window, scope)
        return json_response(answers.series_json(parts.reader, parts.cache, question).body)


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
    @blp.alt_response(404, response="DEFAULT_ERROR", description="Unknown app or developer.")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(
        self,
        metric: str,
        bucket: str,
        zone: ZoneInfo,
        window: Window | None,
        scope: Scope | None,
        **_,
    ):
        """The time series as CSV (the same arguments as `timeseries`), as a download."""
        parts = components()
        question = SeriesQuestion(metric, bucket, zone, window, scope)
        series = answers.series_csv(parts.reader, parts.cache, question)
        whose = f"-{series.scope.kind}{series.scope.id}" if series.scope else ""
        filename = f"{series.metric}{whose}-{series.bucket}-{series.first:%Y%m%dT%H%MZ}.csv"
        return Response(
            series.body,
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


@blp.route("/top-apps")
class TopApps(MethodView):
    @requires_reader(blp)
    @blp.arguments(TopAppsArgs, location="query", as_kwargs=True)
    @blp.response(200, TopAppSchema(many=True), headers=WINDOW_HEADERS)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="Unknown developer.")
    def get(self, by: str, limit: int, window: Window | None, scope: Scope | None, **_):
        """The apps most bought, or earning most, all-time or in a window.

        A window is widened to whole UTC hours. Only apps with at least one purchase
        (in the window) are listed, at most `limit` (1-100); ties go to the smaller id.
        With `owner_id`, only that developer's apps.
        """
        parts = components()
        owner_id = scope.id if scope is not None else None
        answer = answers.top_apps(parts.reader, parts.cache, by, limit, window, owner_id)
        return _top_response(answer)


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
        parts = components()
        return _top_response(answers.top_developers(parts.reader, parts.cache, by, limit, window))


@blp.errorhandler(TooManyPoints)
def _too_many_points(error: TooManyPoints):
    return error_response(
        422,
        f"More than {MAX_POINTS} points: ask for a shorter window or larger buckets.",
        errors={"query": {"to": [f"More than {MAX_POINTS} points."]}},
    )


def _top_response(answer: TopList) -> Response:
    response = json_response(answer.body)
    if answer.window is not None:
        response.headers["X-Window-From"] = utc_text(answer.window.start)
        response.headers["X-Window-To"] = utc_text(answer.window.end)
    return response

"""schemathesis hooks: the Dashboard's documented rules that a JSON Schema cannot state.

Query parameters of the stats endpoints depend on each other, as their descriptions say:
``to`` must be later than ``from``, a series has at most 5,000 points, ``app_id`` and
``owner_id`` exclude each other, and with either a series is of a scoped metric. A case that
breaks one of them only through that dependency is mended before it is sent (``from`` and
``to`` swapped, or ``from`` dropped so that ``to`` ends the default window; ``owner_id``
dropped beside ``app_id``; a store-wide metric dropped beside either, for the default);
every other value, valid or not, goes out as generated.
"""

from __future__ import annotations

import schemathesis
from marshmallow import ValidationError

from dashboard.api.arguments import TimeseriesArgs, _WindowArgs
from dashboard.stats.answers import MAX_POINTS
from dashboard.stats.calendar import NOMINAL_LENGTH, covering
from dashboard.stats.scope import SCOPED_METRICS
from dashboard.stats.timeseries import METRICS

SERIES_PATHS = ("/api/v1/stats/timeseries", "/api/v1/stats/export.csv")
WINDOW_KEYS = ("from", "to", "tz", "bucket", "metric")


@schemathesis.hook
def before_call(ctx, case, kwargs) -> None:
    path = case.operation.path
    query = case.query
    if not path.startswith("/api/v1/stats/") or not isinstance(query, dict):
        return
    if "app_id" in query and "owner_id" in query:
        del query["owner_id"]
    scoped = "app_id" in query or "owner_id" in query
    if scoped and query.get("metric") in set(METRICS) - set(SCOPED_METRICS):
        del query["metric"]
    series = path in SERIES_PATHS
    loaded = _load(query, series)
    if loaded == "unordered" and isinstance(query.get("from"), str) and "to" in query:
        query["from"], query["to"] = query["to"], query["from"]
        loaded = _load(query, series)
    # Still out of order (one moment alone, or the same twice), or too long a series:
    # drop the moments until what is left is the default window.
    for moment in ("from", "to"):
        too_long = series and isinstance(loaded, dict) and _too_many_points(loaded)
        if (loaded == "unordered" or too_long) and moment in query:
            del query[moment]
            loaded = _load(query, series)


def _load(query: dict, series: bool) -> dict | str | None:
    arguments = {k: v for k, v in query.items() if k in WINDOW_KEYS and isinstance(v, str)}
    try:
        return (TimeseriesArgs if series else _WindowArgs)().load(arguments)
    except ValidationError as error:
        return "unordered" if "Must be later than 'from'." in str(error.messages) else None


def _too_many_points(loaded: dict) -> bool:
    window, bucket, zone = loaded["window"], loaded["bucket"], loaded["zone"]
    if window is None:
        return False
    try:
        first, end = covering(bucket, zone, window.start, window.end)
    except OverflowError:
        return True
    return (end - first) / NOMINAL_LENGTH[bucket] > MAX_POINTS

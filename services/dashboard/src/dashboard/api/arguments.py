"""Query-string arguments of the stats endpoints, checked and normalised.

Moments (``from``, ``to``) are ISO-8601: ``2026-11-26T18:00:00Z``, with any offset, or a
bare date ``2026-11-26`` (its midnight); the document declares them as RFC 3339 date-times
or dates. One without an offset is read in UTC, or in ``tz`` where the endpoint takes one.
Moments before 1980 or from 9000 on are read as those bounds. ``to`` alone ends the
default window there. Anything malformed is a 422 naming the argument.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from dashboard.api.schemas import NO_NUL
from dashboard.stats.calendar import BUCKETS, recent_start
from dashboard.stats.scope import SCOPED_METRICS, Scope
from dashboard.stats.timeseries import METRICS
from dashboard.stats.top import RANKINGS
from dashboard.stats.windows import Window

#: Every zone offset is a whole number of quarter-hours from here on (see dashboard.buckets).
EARLIEST = datetime(1980, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
MAX_TOP_LIMIT = 100
#: Ids are BIGINT in the projections.
MAX_ID = 2**63 - 1
# What ISO-8601 dates and times are written with; fromisoformat lets a trailing NUL through.
_ISO_CHARACTERS = re.compile(r"[0-9T:.,+Z -]+")
# "+01:00" arrives as " 01:00" when a client forgets to percent-encode the "+".
_UNENCODED_PLUS = re.compile(r"(.*T.*\d) (\d\d(?::?\d\d)?)")


#: What the document declares for ``from`` and ``to``.
MOMENT_FORMATS = [{"format": "date-time"}, {"format": "date"}]


class Moment(fields.String):
    """An ISO-8601 date-time or date; naive (no offset) until the schema resolves it."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.metadata.setdefault("anyOf", MOMENT_FORMATS)
        self.metadata.setdefault("maxLength", 40)

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        # RFC 3339 allows a lower-case "t" and "z".
        value = value.upper() if isinstance(value, str) else value
        if not isinstance(value, str) or len(value) > 40 or not _ISO_CHARACTERS.fullmatch(value):
            raise ValidationError("Not an ISO-8601 date or date-time.")
        repaired = _UNENCODED_PLUS.fullmatch(value)
        if repaired:
            value = f"{repaired[1]}+{repaired[2]}"
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError("Not an ISO-8601 date or date-time.") from None


@cache
def zone_names() -> frozenset[str]:
    """The IANA zone names this system knows (read from the tz database once)."""
    return frozenset(available_timezones() | {"UTC"})


class _WindowArgs(Schema):
    """``from`` and ``to``, resolved into ``window`` (``None`` when both are absent), and
    the ``zone`` they were read in."""

    start = Moment(
        data_key="from",
        metadata={
            "description": "Start of the window: an ISO-8601 date-time or date. Without it, "
            "a `to` ends the default window: all-time before it, or for a series its "
            "usual number of buckets.",
            "example": "2026-11-01T00:00:00Z",
        },
    )
    end = Moment(
        data_key="to",
        metadata={
            "description": "End of the window, exclusive (ISO-8601); default: now. "
            "It must be later than `from` (422 otherwise).",
            "example": "2026-11-08T00:00:00Z",
        },
    )

    def _zone(self, data: dict) -> ZoneInfo:
        return ZoneInfo("UTC")

    def _default_start(self, data: dict, end: datetime) -> datetime:
        """Where a window given only its end starts: at the earliest moment kept."""
        return EARLIEST

    @post_load
    def _resolve(self, data: dict, **kwargs) -> dict:
        _take_scope(data)
        zone = data["zone"] = self._zone(data)
        start, end = data.pop("start", None), data.pop("end", None)
        if start is None and end is None:
            data["window"] = None
            return data
        end = _in_range(_localized(end, zone, "to")) if end is not None else _now()
        if start is None:
            start = max(EARLIEST, self._default_start(data, end))
        else:
            start = _in_range(_localized(start, zone, "from"))
        if start >= end:
            raise ValidationError("Must be later than 'from'.", "to")
        data["window"] = Window(start, end)
        return data


def _id_field(description: str) -> fields.Integer:
    return fields.Integer(
        validate=validate.Range(1, MAX_ID), metadata={"description": description, "example": 12}
    )


def _take_scope(data: dict) -> None:
    """Replace ``app_id`` or ``owner_id`` with ``scope`` (``None`` for the whole store)."""
    app_id, owner_id = data.pop("app_id", None), data.pop("owner_id", None)
    if app_id is not None:
        data["scope"] = Scope("app", app_id)
    elif owner_id is not None:
        data["scope"] = Scope("owner", owner_id)
    else:
        data["scope"] = None


APP_ID_NOTE = (
    "Only this app's sales (404 for an app the dashboard does not know). Not together with "
    "`owner_id` (422)."
)
OWNER_ID_NOTE = (
    "Only the sales of this developer's apps (404 for a developer the dashboard does not "
    "know). Not together with `app_id` (422)."
)


class _ScopedWindowArgs(_WindowArgs):
    """A window, and at most one of ``app_id`` and ``owner_id``, resolved into ``scope``."""

    app_id = _id_field(APP_ID_NOTE)
    owner_id = _id_field(OWNER_ID_NOTE)

    @validates_schema
    def _one_scope(self, data: dict, **kwargs) -> None:
        if data.get("app_id") is not None and data.get("owner_id") is not None:
            raise ValidationError("Give app_id or owner_id, not both.", "owner_id")


class SummaryArgs(_ScopedWindowArgs):
    pass


class _TopArgs(_WindowArgs):
    by = fields.String(load_default="purchases", validate=validate.OneOf(RANKINGS))
    limit = fields.Integer(
        load_default=10, validate=validate.Range(1, MAX_TOP_LIMIT), metadata={"example": 10}
    )


class TopAppsArgs(_TopArgs):
    owner_id = _id_field("Only this developer's apps (404 for a developer it does not know).")


class TopDevelopersArgs(_TopArgs):
    by = fields.String(load_default="revenue", validate=validate.OneOf(RANKINGS))


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("Must not hold NUL characters.")


class SearchArgs(Schema):
    q = fields.String(
        load_default="",
        validate=[validate.Length(max=200), _no_nul],
        metadata={
            "description": "Part of an app's title or of its developer's name; any case.",
            "pattern": NO_NUL,
        },
    )


class TimeseriesArgs(_ScopedWindowArgs):
    """``window`` is ``None`` here only before the view applies the default length."""

    metric = fields.String(
        load_default="purchases",
        validate=validate.OneOf(METRICS),
        metadata={
            "description": "With `app_id` or `owner_id`: `purchases` or `credits_spent` "
            "(the app's revenue, the developer's earnings)."
        },
    )

    @validates_schema
    def _scoped_metric(self, data: dict, **kwargs) -> None:
        scoped = data.get("app_id") is not None or data.get("owner_id") is not None
        if scoped and data.get("metric", "purchases") not in SCOPED_METRICS:
            raise ValidationError(
                f"Per app or developer, the metric is one of {', '.join(SCOPED_METRICS)}.",
                "metric",
            )

    bucket = fields.String(load_default="hour", validate=validate.OneOf(BUCKETS))
    tz = fields.String(
        load_default="UTC",
        validate=validate.Length(max=64),
        metadata={
            "description": "IANA time zone name, e.g. Europe/Berlin.",
            "enum": sorted(zone_names()),
        },
    )

    def _zone(self, data: dict) -> ZoneInfo:
        name = data.get("tz", "UTC")
        if name not in zone_names():
            raise ValidationError("Not an IANA time zone name.", "tz")
        return ZoneInfo(name)

    def _default_start(self, data: dict, end: datetime) -> datetime:
        """The series shown without a window, ending at ``end`` instead of now."""
        try:
            return recent_start(data.get("bucket", "hour"), data["zone"], end)
        except OverflowError:
            return EARLIEST


def _localized(moment: datetime, zone: ZoneInfo, name: str) -> datetime:
    try:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return moment.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
        return EARLIEST if moment.year == 1 else LATEST


def _in_range(moment: datetime) -> datetime:
    """``moment`` held within the years the projections can hold (no event lies outside)."""
    return min(max(moment, EARLIEST), LATEST)


def _now() -> datetime:
    return datetime.now(UTC)

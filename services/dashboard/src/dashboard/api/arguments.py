"""Query-string arguments of the stats endpoints, checked and normalised.

Moments (``from``, ``to``) are ISO-8601: ``2026-11-26T18:00:00Z``, with any offset, or a
bare date ``2026-11-26`` (its midnight). One without an offset is read in UTC, or in ``tz``
where the endpoint takes one. Anything malformed is a 422 naming the argument.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from dashboard.stats.calendar import BUCKETS
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


class Moment(fields.String):
    """An ISO-8601 date-time or date; naive (no offset) until the schema resolves it."""

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
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
            "description": "Start of the window: an ISO-8601 date-time or date.",
            "example": "2026-11-01T00:00:00Z",
        },
    )
    end = Moment(
        data_key="to",
        metadata={
            "description": "End of the window, exclusive (ISO-8601); default: now.",
            "example": "2026-11-08T00:00:00Z",
        },
    )

    def _zone(self, data: dict) -> ZoneInfo:
        return ZoneInfo("UTC")

    @post_load
    def _resolve(self, data: dict, **kwargs) -> dict:
        _take_scope(data)
        zone = data["zone"] = self._zone(data)
        start, end = data.pop("start", None), data.pop("end", None)
        if start is None and end is None:
            data["window"] = None
            return data
        if start is None:
            raise ValidationError("Give 'from' with 'to'.", "from")
        start = _in_range(_localized(start, zone, "from"), "from")
        end = _in_range(_localized(end, zone, "to"), "to") if end is not None else _now()
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


APP_ID_NOTE = "Only this app's sales (404 for an app the dashboard does not know)."
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
        metadata={"description": "Part of an app's title or of its developer's name; any case."},
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
        metadata={"description": "IANA time zone name, e.g. Europe/Berlin."},
    )

    def _zone(self, data: dict) -> ZoneInfo:
        name = data.get("tz", "UTC")
        if name not in zone_names():
            raise ValidationError("Not an IANA time zone name.", "tz")
        return ZoneInfo(name)


def _localized(moment: datetime, zone: ZoneInfo, name: str) -> datetime:
    try:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return moment.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise ValidationError("Out of the range of dates.", name) from None


def _in_range(moment: datetime, name: str) -> datetime:
    if not EARLIEST <= moment < LATEST:
        raise ValidationError(f"Must be between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}.", name)
    return moment


def _now() -> datetime:
    return datetime.now(UTC)

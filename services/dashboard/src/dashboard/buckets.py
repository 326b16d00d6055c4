"""Time buckets of the series projections: UTC minutes and UTC quarter-hours.

Events land in the bucket of the moment the domain event happened (``purchased_at``,
``created_at``, ``registered_at``), not when it arrived, so a late event still counts
where it belongs.

Why these two granularities. Every UTC offset any IANA zone has used since 1980 is a whole
number of 15-minute units (+05:30 India, +05:45 Nepal, -09:30 Marquesas, +08:45 Eucla), so
a local hour or day in any zone starts on a UTC quarter-hour boundary and is a sum of whole
quarter-hours. Hour and day series in any zone are therefore served from
``series_quarter_hour``: 30 days are 2,880 rows per metric instead of 43,200 minutes (rolling
minute buckets up over 30 days was measured at about 250 ms, a coarse rollup table at about
1 ms). Daylight-saving days of 23 or 25 hours are sums of quarter-hours too. Minute series,
asked for over short windows, come from ``series_minute``. An hour table could not replace
the quarter-hours: it cannot serve zones offset by 30 or 45 minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime

QUARTER_HOUR_MINUTES = 15


def minute_start(moment: datetime) -> datetime:
    """Return the start of the UTC minute that holds ``moment`` (an aware datetime)."""
    return _as_utc(moment).replace(second=0, microsecond=0)


def quarter_hour_start(moment: datetime) -> datetime:
    """Return the start of the UTC quarter-hour (:00, :15, :30, :45) that holds ``moment``."""
    start = minute_start(moment)
    return start.replace(minute=start.minute - start.minute % QUARTER_HOUR_MINUTES)


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is UTC:  # as the event contract decodes every timestamp; the fold's hot path
        return moment
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("bucketing needs a timezone-aware datetime")
    return moment.astimezone(UTC)

"""Bucket boundaries of time series, aligned in an IANA time zone.

A local hour or day starts on a UTC quarter-hour in every zone since 1980 (see
:mod:`dashboard.buckets`), so hour and day series are sums of ``series_quarter_hour`` rows,
and a minute is the same minute in every zone. Days follow the zone's calendar: across a
daylight-saving change a day lasts 23 or 25 hours, and the repeated hour of an autumn night
is two hour buckets, as the clock on the wall shows them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dashboard.errors import TooManyPoints
from dashboard.stats.windows import DAY, HOUR, MINUTE, floor_to

BUCKETS = ("minute", "hour", "day")
#: How long a bucket usually lasts, to count points before making them.
NOMINAL_LENGTH = {"minute": MINUTE, "hour": HOUR, "day": DAY}
RESOLUTION = timedelta(microseconds=1)
#: The series shown when no window is asked for: that many buckets, the last holding now.
RECENT_POINTS = {"minute": 60, "hour": 48, "day": 30}


def bucket_start(bucket: str, zone: ZoneInfo, moment: datetime) -> datetime:
    """The UTC start of the ``bucket`` (minute, hour or day in ``zone``) holding ``moment``."""
    moment = moment.astimezone(UTC)
    if bucket == "minute":
        return floor_to(moment, MINUTE)
    local = moment.astimezone(zone)
    if bucket == "hour":
        return moment - timedelta(
            minutes=local.minute, seconds=local.second, microseconds=local.microsecond
        )
    if bucket == "day":
        return _local_midnight(local.date(), zone)
    raise ValueError(f"unknown bucket {bucket!r}")


def covering(
    bucket: str, zone: ZoneInfo, start: datetime, end: datetime
) -> tuple[datetime, datetime]:
    """The start of the first and the end of the last bucket overlapping ``[start, end)``.

    Cheap, unlike :func:`boundaries`: it names the series without making its points, so
    a cached series can be found from it.
    """
    last = bucket_start(bucket, zone, end - RESOLUTION)
    return bucket_start(bucket, zone, start), _next_start(bucket, zone, last)


def recent_start(bucket: str, zone: ZoneInfo, now: datetime) -> datetime:
    """The start of the oldest of the :data:`RECENT_POINTS` buckets that end with ``now``'s."""
    back = RECENT_POINTS[bucket] - 1
    if bucket == "day":
        # By the calendar: 29 days of 24 hours may cross a daylight-saving change.
        return _local_midnight(now.astimezone(zone).date() - timedelta(days=back), zone)
    return bucket_start(bucket, zone, now - back * NOMINAL_LENGTH[bucket])


def boundaries(
    bucket: str, zone: ZoneInfo, start: datetime, end: datetime, max_points: int
) -> list[datetime]:
    """The starts of every bucket that overlaps ``[start, end)``, then the last one's end.

    Parameters:
        bucket: ``minute``, ``hour`` or ``day``.
        zone: where hours and days begin.
        start, end: aware datetimes, ``start < end``.
        max_points: the most buckets allowed.

    Returns:
        ``n + 1`` increasing UTC datetimes for ``n`` buckets: bucket ``i`` is
        ``[result[i], result[i + 1])``.

    Raises:
        TooManyPoints: more than ``max_points`` buckets overlap the window.
    """
    first = bucket_start(bucket, zone, start)
    if (end - first) / NOMINAL_LENGTH[bucket] > max_points + 2:
        raise TooManyPoints(f"more than {max_points} {bucket} buckets")
    edges = [first]
    while edges[-1] < end:
        if len(edges) > max_points:
            raise TooManyPoints(f"more than {max_points} {bucket} buckets")
        edges.append(_next_start(bucket, zone, edges[-1]))
    return edges


def _next_start(bucket: str, zone: ZoneInfo, current: datetime) -> datetime:
    if bucket == "minute":
        return current + MINUTE
    if bucket == "hour":
        return _next_hour(zone, current)
    return _next_day(zone, current)


def _next_hour(zone: ZoneInfo, current: datetime) -> datetime:
    # One hour later in UTC, unless the zone's offset moved by a part of an hour (Lord Howe
    # Island shifts by 30 minutes) and the wall clock's next hour came sooner.
    candidate = current + HOUR
    if candidate.astimezone(zone).minute == current.astimezone(zone).minute:
        return candidate
    following = bucket_start("hour", zone, candidate)
    return following if following > current else candidate


def _next_day(zone: ZoneInfo, current: datetime) -> datetime:
    today = current.astimezone(zone).date()
    return _local_midnight(today + timedelta(days=1), zone)


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    # Where midnight is skipped by a spring-forward change, zoneinfo reads the missing wall
    # time with the offset in force before it: the instant of the change, the day's first.
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)

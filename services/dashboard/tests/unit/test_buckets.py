"""UTC minute and quarter-hour buckets, and the zone offsets that make quarter-hours enough."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest

from dashboard.buckets import minute_start, quarter_hour_start


def test_a_moment_in_any_zone_is_bucketed_in_utc():
    kathmandu = datetime(2026, 11, 27, 0, 7, 59, tzinfo=ZoneInfo("Asia/Kathmandu"))  # +05:45

    assert minute_start(kathmandu) == datetime(2026, 11, 26, 18, 22, tzinfo=UTC)
    assert quarter_hour_start(kathmandu) == datetime(2026, 11, 26, 18, 15, tzinfo=UTC)


def test_a_naive_moment_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        minute_start(datetime(2026, 11, 26, 18, 0))


def test_every_zone_offset_is_whole_quarter_hours_so_local_hours_are_sums_of_them():
    # Checked twice a year from 2000 on: the fold keeps no finer rollup than quarter-hours,
    # so a zone offset by, say, 20 minutes could not be served hour or day series.
    odd = {
        (name, str(moment.astimezone(ZoneInfo(name)).utcoffset()))
        for name in available_timezones()
        for year in range(2000, 2041)
        for moment in (datetime(year, 1, 15, tzinfo=UTC), datetime(year, 7, 15, tzinfo=UTC))
        if moment.astimezone(ZoneInfo(name)).utcoffset() % timedelta(minutes=15)
    }

    assert odd == set()

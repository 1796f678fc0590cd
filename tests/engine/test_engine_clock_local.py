"""Stored times are shown in Asia/Shanghai by a fixed offset since 1992 (the zone's data has
no summer time since): the same aware time and text as the zone's own conversion, before
1992 (summer time 1986–1991) the zone's conversion itself."""

from __future__ import annotations

import datetime as dt
import random

from engine.core import clock


def _zone(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC).astimezone(clock.LOCAL)


def test_the_fixed_offset_gives_the_zone_s_time():
    assert clock.FIXED_OFFSET == dt.timedelta(hours=8)
    rng = random.Random(7)
    start = dt.datetime(1985, 1, 1)
    values = [
        start + dt.timedelta(seconds=rng.randrange(0, 120 * 365 * 86400)) for _ in range(5000)
    ]
    values += [dt.datetime(1991, 9, 14, 17, 0), dt.datetime(1991, 12, 31, 23, 59, 59)]
    values += [dt.datetime(1988, 7, 1, 12, 0), clock.FIXED_SINCE]
    for value in values:
        mine, zone = clock.local(value), _zone(value)
        assert mine == zone and mine.isoformat() == zone.isoformat(), value
        assert mine.utcoffset() == zone.utcoffset() and mine.tzname() == zone.tzname()
    summer = clock.local(dt.datetime(1988, 7, 1, 12, 0))
    assert summer is not None and summer.utcoffset() == dt.timedelta(hours=9)


def test_the_page_filter_writes_what_strftime_writes(app):
    from pages.extensions import localtime

    rng = random.Random(3)
    for _ in range(2000):
        value = dt.datetime(1990, 1, 1) + dt.timedelta(minutes=rng.randrange(0, 80 * 525600))
        aware = _zone(value)
        assert localtime(value) == aware.strftime("%Y-%m-%d %H:%M")
        assert localtime(value, "%Y-%m-%d %H:%M:%S") == aware.strftime("%Y-%m-%d %H:%M:%S")
    assert localtime(None) == ""

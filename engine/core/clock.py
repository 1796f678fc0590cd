"""Time: stored as naive UTC, shown and handed to rules in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")
FIXED_SINCE = dt.datetime(1992, 1, 1)  # China has kept one offset, without summer time, since


def _fixed_offset() -> dt.timedelta | None:
    """LOCAL's UTC offset when it is the same in January and in July of every year from
    ``FIXED_SINCE`` to 2100 (summer time would differ), else None."""
    offsets = {
        LOCAL.utcoffset(dt.datetime(year, month, 1))
        for year in range(1992, 2101)
        for month in (1, 7)
    }
    return offsets.pop() if len(offsets) == 1 else None


FIXED_OFFSET = _fixed_offset()


def now() -> dt.datetime:
    """The real clock, naive UTC. Only entry points (views, CLI) call this."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def local(value: dt.datetime | None) -> dt.datetime | None:
    """A stored naive-UTC time as an aware Asia/Shanghai time."""
    if value is None:
        return None
    if FIXED_OFFSET is not None and value >= FIXED_SINCE:
        # the same time as astimezone gives, without its look-up (pages convert hundreds)
        return (value + FIXED_OFFSET).replace(tzinfo=LOCAL)
    return value.replace(tzinfo=dt.UTC).astimezone(LOCAL)


def at_local_hour(day: dt.datetime, hour: int, minute: int = 0) -> dt.datetime:
    """``hour``:``minute`` of the local (Asia/Shanghai) day ``day`` falls on (naive UTC in
    and out): a time people would choose on that day."""
    on = local(day)
    assert on is not None
    at = on.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return at.astimezone(dt.UTC).replace(tzinfo=None)


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 with the +08:00 offset, as rules and the API see times."""
    aware = local(value)
    return aware.isoformat(timespec="seconds") if aware else None


def with_local_offset(text: str) -> str:
    """An ISO date-time without offset read as Asia/Shanghai, written with its offset."""
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LOCAL)
    return parsed.isoformat(timespec="seconds")

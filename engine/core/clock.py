"""Time: stored as naive UTC, shown and handed to rules in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    """The real clock, naive UTC. Only entry points (views, CLI) call this."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def local(value: dt.datetime | None) -> dt.datetime | None:
    """A stored naive-UTC time as an aware Asia/Shanghai time."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC).astimezone(LOCAL)


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

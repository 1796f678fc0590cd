"""Statement periods (月度, 季度, 半年, 年度): keys, deadlines and how people say them."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from engine.core import clock
from engine.core.i18n import gettext as _

KINDS = ("month", "quarter", "half", "year")
PATTERN = {
    "month": re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "half": re.compile(r"^(\d{4})-H([12])$"),
    "year": re.compile(r"^(\d{4})$"),
}
MONTHS = {"month": 1, "quarter": 3, "half": 6, "year": 12}


def _key(kind: str, year: int, index: int) -> str:
    if kind == "month":
        return f"{year}-{index:02d}"
    if kind == "quarter":
        return f"{year}-Q{index}"
    if kind == "half":
        return f"{year}-H{index}"
    return f"{year}"


def parse(kind: str, period: str) -> tuple[int, int] | None:
    """(year, index within the year) of a period key of ``kind``, or None."""
    found = PATTERN[kind].match(period or "") if kind in PATTERN else None
    if found is None:
        return None
    year = int(found.group(1))
    if not 2000 <= year <= 2100:
        return None
    return year, int(found.group(2)) if found.lastindex and found.lastindex > 1 else 1


def period_of(kind: str, now: dt.datetime, *, previous: bool = False) -> str:
    """The period (of ``kind``) ``now`` falls in, local time; or the one before it."""
    local = clock.local(now)
    assert local is not None
    span = MONTHS[kind]
    year, index = local.year, (local.month - 1) // span + 1
    if previous:
        index -= 1
        if index == 0:
            year, index = year - 1, 12 // span
    return _key(kind, year, index)


def recent(kind: str, now: dt.datetime, count: int = 4) -> list[str]:
    """The last ``count`` complete periods, newest first."""
    out: list[str] = []
    moment = now
    for _i in range(count):
        key = period_of(kind, moment, previous=True)
        out.append(key)
        start = start_of(kind, key)
        assert start is not None
        moment = start
    return out


def start_of(kind: str, period: str) -> dt.datetime | None:
    parsed = parse(kind, period)
    if parsed is None:
        return None
    year, index = parsed
    month = (index - 1) * MONTHS[kind] + 1
    local = dt.datetime(year, month, 1, tzinfo=clock.LOCAL)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def end_of(kind: str, period: str) -> dt.date | None:
    """The period's last day."""
    parsed = parse(kind, period)
    if parsed is None:
        return None
    year, index = parsed
    month = index * MONTHS[kind] + 1
    first_after = dt.date(year + (month > 12), (month - 1) % 12 + 1, 1)
    return first_after - dt.timedelta(days=1)


def due_at(body: Mapping[str, Any], period: str) -> dt.datetime | None:
    """When the statement of ``period`` must be published: the end of the day ``due_days``
    after the period ended, local time (naive UTC); None for a key of another kind."""
    last = end_of(body["period"], period)
    if last is None:
        return None
    day = last + dt.timedelta(days=int(body.get("due_days", 15)) + 1)
    local = dt.datetime(day.year, day.month, day.day, tzinfo=clock.LOCAL)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def period_label(period: str) -> str:
    """How people say a period: 2026年第3季度, 2026年11月, 2026年下半年, 2026年度."""
    for kind in KINDS:
        parsed = parse(kind, period)
        if parsed is None:
            continue
        year, index = parsed
        if kind == "month":
            return _("%(year)s-%(month)s") % {"year": year, "month": index}
        if kind == "quarter":
            return _("Q%(quarter)s %(year)s") % {"year": year, "quarter": index}
        if kind == "half":
            first = _("first half of %(year)s") % {"year": year}
            return first if index == 1 else _("second half of %(year)s") % {"year": year}
        return _("year %(year)s") % {"year": year}
    return period

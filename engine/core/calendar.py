"""Deadlines on a calendar: natural hours, or working days (工作日) with office hours.

Pure: no database, no clock reads. Times in and out are naive UTC, as stored; the
calendar itself is read in the district's zone (Asia/Shanghai). A pack describes its
calendar in ``pack.json`` (docs/pack-format.md, "Calendar"); :func:`Calendar.from_spec`
reads that description, already validated by the pack schema.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from engine.core.i18n import gettext as _

LOCAL = ZoneInfo("Asia/Shanghai")
DAY = dt.timedelta(days=1)
MIDNIGHT = dt.time(0, 0)
# A calendar with no working time at all would make every deadline infinite; the
# walk gives up after this many days rather than loop forever.
MAX_DAYS = 3660

Period = tuple[dt.time, dt.time | None]  # end None: until midnight


def _dates(entries: Iterable[Any]) -> frozenset[dt.date]:
    """Dates from ``"YYYY-MM-DD"`` strings and ``{"from": ..., "to": ...}`` ranges."""
    days: set[dt.date] = set()
    for entry in entries:
        if isinstance(entry, str):
            days.add(dt.date.fromisoformat(entry))
            continue
        day, last = dt.date.fromisoformat(entry["from"]), dt.date.fromisoformat(entry["to"])
        while day <= last:
            days.add(day)
            day += DAY
    return frozenset(days)


def _periods(spec: Any) -> tuple[Period, ...]:
    """Office hours: ``["09:00", "17:30"]`` or ``[["08:30", "12:00"], ["13:30", "17:00"]]``."""
    if not spec:
        return ((MIDNIGHT, None),)
    pairs = [spec] if isinstance(spec[0], str) else spec
    return tuple((dt.time.fromisoformat(a), dt.time.fromisoformat(b)) for a, b in pairs)


@dataclass(frozen=True)
class Calendar:
    """When deadlines run: every hour (``natural``) or working time only (``workdays``).

    A working day is a weekday that is not a public holiday, or a make-up workday
    (调休上班) even when it falls on a weekend. On a working day the clock runs during
    ``periods`` (office hours; the whole day by default).
    """

    kind: str = "natural"
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()
    weekend: frozenset[int] = frozenset({6, 7})  # ISO weekdays: Saturday, Sunday
    periods: tuple[Period, ...] = ((MIDNIGHT, None),)

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any] | None) -> Calendar:
        """The calendar a pack's ``calendar`` object describes (None: natural hours)."""
        if not spec or spec.get("kind", "natural") == "natural":
            return NATURAL
        return _parse(json.dumps(spec, sort_keys=True))

    def is_workday(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        return day not in self.holidays and day.isoweekday() not in self.weekend

    def _intervals(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The working intervals of ``day``, local and naive, in order."""
        if not self.is_workday(day):
            return []
        out = []
        for start, end in self.periods:
            a = dt.datetime.combine(day, start)
            b = (
                dt.datetime.combine(day, end)
                if end is not None
                else dt.datetime.combine(day + DAY, MIDNIGHT)
            )
            out.append((a, b))
        return out

    def due(self, start: dt.datetime, hours: float | None) -> dt.datetime | None:
        """The moment ``hours`` of this calendar's time after ``start`` (None: no deadline).

        Starting outside working time counts from the next working moment; a deadline
        that uses up a day's last working minute falls at its close, not the next opening.

        :param start: naive UTC.
        :raises ValueError: the calendar has no working time within ten years.
        """
        if hours is None:
            return None
        if self.kind == "natural" or hours <= 0:
            return start + dt.timedelta(hours=float(hours))
        at = _to_local(start)
        left = dt.timedelta(hours=float(hours))
        for a, b in self._forward(at.date()):
            begin = max(a, at)
            if begin >= b:
                continue
            if left <= b - begin:
                return _to_utc(begin + left)
            left -= b - begin
        raise ValueError("the calendar has no working time")

    def before(self, end: dt.datetime, hours: float) -> dt.datetime:
        """The moment ``hours`` of this calendar's time before ``end`` (naive UTC)."""
        if self.kind == "natural" or hours <= 0:
            return end - dt.timedelta(hours=float(hours))
        at = _to_local(end)
        left = dt.timedelta(hours=float(hours))
        for a, b in self._backward(at.date()):
            finish = min(b, at)
            if finish <= a:
                continue
            if left <= finish - a:
                return _to_utc(finish - left)
            left -= finish - a
        raise ValueError("the calendar has no working time")

    def working_hours(self, start: dt.datetime, end: dt.datetime) -> float:
        """Hours of this calendar's time between two naive-UTC moments (0 if end <= start)."""
        if end <= start:
            return 0.0
        if self.kind == "natural":
            return (end - start).total_seconds() / 3600
        a0, b0 = _to_local(start), _to_local(end)
        total = dt.timedelta()
        day = a0.date()
        while day <= b0.date():
            for a, b in self._intervals(day):
                lo, hi = max(a, a0), min(b, b0)
                if hi > lo:
                    total += hi - lo
            day += DAY
        return total.total_seconds() / 3600

    def _forward(self, day: dt.date) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        for offset in range(MAX_DAYS):
            yield from self._intervals(day + offset * DAY)

    def _backward(self, day: dt.date) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        for offset in range(MAX_DAYS):
            yield from reversed(self._intervals(day - offset * DAY))


NATURAL = Calendar()


@lru_cache(maxsize=32)
def _parse(canonical: str) -> Calendar:
    spec = json.loads(canonical)
    return Calendar(
        kind=spec.get("kind", "workdays"),
        holidays=_dates(spec.get("holidays", [])),
        workdays=_dates(spec.get("workdays", [])),
        weekend=frozenset(spec.get("weekend", [6, 7])),
        periods=_periods(spec.get("office_hours")),
    )


def _to_local(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC).astimezone(LOCAL).replace(tzinfo=None)


def _to_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=LOCAL).astimezone(dt.UTC).replace(tzinfo=None)


def spec_problems(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What the pack schema cannot see in a calendar: (JSON Pointer, message) pairs.

    Impossible dates, ranges that run backwards, a day both a holiday and a make-up
    workday, office hours that end before they start or overlap.
    """
    problems: list[tuple[str, str]] = []
    seen: dict[str, dict[dt.date, str]] = {"holidays": {}, "workdays": {}}
    for list_name in ("holidays", "workdays"):
        for i, entry in enumerate(spec.get(list_name, [])):
            at = f"/{list_name}/{i}"
            try:
                days = _dates([entry])
            except ValueError:
                shown = entry if isinstance(entry, str) else "/".join(map(str, entry.values()))
                problems.append((at, _("'%(value)s' is not a date") % {"value": shown}))
                continue
            if isinstance(entry, Mapping) and not days:
                problems.append((at, _("The range of days ends before it starts")))
            for day in days:
                seen[list_name][day] = at
    for day, at in sorted(seen["workdays"].items()):
        if day in seen["holidays"]:
            problems.append(
                (
                    at,
                    _("%(day)s is listed both as a holiday and as a make-up workday")
                    % {"day": day.isoformat()},
                )
            )
    office = spec.get("office_hours")
    if office:
        pairs = [office] if isinstance(office[0], str) else office
        previous_end: dt.time | None = None
        for i, pair in enumerate(pairs):
            at = "/office_hours" if isinstance(office[0], str) else f"/office_hours/{i}"
            try:
                start, end = dt.time.fromisoformat(pair[0]), dt.time.fromisoformat(pair[1])
            except ValueError:
                shown = "–".join(map(str, pair))
                problems.append((at, _("'%(value)s' is not a time of day") % {"value": shown}))
                continue
            if end <= start:
                problems.append((at, _("Office hours must end after they start")))
            elif previous_end is not None and start < previous_end:
                problems.append((at, _("These office hours overlap the previous period")))
            previous_end = end
    weekend = set(spec.get("weekend", [6, 7]))
    if spec.get("kind") == "workdays" and len(weekend) >= 7 and not spec.get("workdays"):
        problems.append(("/weekend", _("Every day is a weekend: deadlines would never fall due")))
    return problems

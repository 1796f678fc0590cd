"""Our domain operators: dates and durations over ISO-8601 text, and org ancestry.

Rules never read the clock: the document carries `now` as ISO text with an
offset ("2026-11-27T13:00:00+08:00") and rules compute from it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from rules.errors import OpError
from rules.registry import OperatorInfo, register
from rules.values import Number, describe, normalise, to_number

_DATE_ONLY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


def _parse(value: Any, arg: int) -> dt.datetime | dt.date:
    if not isinstance(value, str):
        raise OpError("%(value)s is not an ISO-8601 date", arg, {"value": describe(value)})
    text = value.strip()
    try:
        if _DATE_ONLY.match(text):
            return dt.date.fromisoformat(text)
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise OpError(
            "%(value)s is not an ISO-8601 date", arg, {"value": describe(value)}
        ) from None
    if moment.tzinfo is None:
        raise OpError("%(value)s has a time but no UTC offset", arg, {"value": describe(value)})
    return moment


def instant(value: Any, arg: int = 0) -> dt.datetime:
    """Parse ISO text with a time and a UTC offset.

    :raises OpError: for anything else (a date without time has no instant).
    """
    parsed = _parse(value, arg)
    if not isinstance(parsed, dt.datetime):
        raise OpError("%(value)s is a date without a time", arg, {"value": describe(value)})
    return parsed


def local_day(value: Any, arg: int = 0) -> dt.date:
    """Parse ISO text to its calendar day in its own offset."""
    parsed = _parse(value, arg)
    return parsed.date() if isinstance(parsed, dt.datetime) else parsed


def _render(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds")


def hours_between(a: Any, b: Any) -> Number:
    """Hours from a to b (negative if b is earlier)."""
    seconds = (instant(b, 1) - instant(a, 0)).total_seconds()
    return normalise(seconds / 3600)


def days_between(a: Any, b: Any) -> int:
    """Calendar days from a's day to b's day, each in its own offset."""
    return (local_day(b, 1) - local_day(a, 0)).days


def add_hours(date: Any, hours: Any) -> str:
    """ISO text `hours` after `date`, in the same offset."""
    moment = instant(date, 0)
    try:
        later = moment + dt.timedelta(hours=to_number(hours, 1))
    except OverflowError:
        raise OpError("the date is out of range", 1) from None
    return _render(later)


def normalise_date(text: Any) -> str:
    """Normalised ISO text: "YYYY-MM-DD" for a day, full time with offset otherwise."""
    parsed = _parse(text, 0)
    if isinstance(parsed, dt.datetime):
        return _render(parsed)
    return parsed.isoformat()


def weekday(date: Any) -> int:
    """ISO weekday 1 (Monday) … 7 (Sunday) of the date in its own offset."""
    return local_day(date, 0).isoweekday()


def within(path: Any, key: Any) -> bool:
    """True if `key` is one of the org node path's keys (root first, self last)."""
    if not isinstance(path, (list, tuple)):
        raise OpError(
            "'within' needs the node path list, got %(value)s", 0, {"value": describe(path)}
        )
    if not isinstance(key, str):
        raise OpError(
            "'within' needs an org key as text, got %(value)s", 1, {"value": describe(key)}
        )
    return key in path


def _custom(name: str, arity: int, doc: str, example: str, fn: Any) -> None:
    register(OperatorInfo(name, "plain", arity, arity, doc, example, fn, custom=True))


_custom(
    "hours_between",
    2,
    "hours from the first date to the second (float)",
    '{"hours_between": [{"var": "item.raised_at"}, {"var": "now"}]}',
    hours_between,
)
_custom(
    "days_between",
    2,
    "calendar days from the first date to the second",
    '{"days_between": [{"var": "data.due"}, {"var": "now"}]}',
    days_between,
)
_custom(
    "add_hours",
    2,
    "the date N hours later, as ISO text in the same offset",
    '{"add_hours": [{"var": "now"}, 48]}',
    add_hours,
)
_custom(
    "date",
    1,
    "normalised ISO text of a date (an invalid date is an error)",
    '{"date": {"var": "data.visit_day"}}',
    normalise_date,
)
_custom(
    "weekday",
    1,
    "ISO weekday, Monday = 1 … Sunday = 7, in the date's own offset",
    '{"in": [{"weekday": {"var": "now"}}, [6, 7]]}',
    weekday,
)
_custom(
    "within",
    2,
    "the org key is in the node's path (the node or an ancestor)",
    '{"within": [{"var": "node.path"}, "chaohui"]}',
    within,
)

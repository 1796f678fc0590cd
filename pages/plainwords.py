"""Times and durations as people write them (今天 14:30, 12月3日 09:15, 1天3小时): template
filters every page may use; the words come from the translation catalogue."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from flask_babel import get_translations

from engine.core import clock, memo


def gettext(string: str, **variables: Any) -> str:
    """``gettext`` through the request's translations, looked up once per request (the
    same memo as ``pages.extensions``): Flask-Babel's looks up context, domain and locale
    on every call, and a dashboard translates about a hundred words."""
    text: str = memo.memoized("translations", get_translations).ugettext(string)
    return text % variables if variables else text


_ = gettext


def people_time(value: Any, now: dt.datetime | None = None) -> str:
    """A stored (naive UTC) time as people write it, in Asia/Shanghai: 今天 14:30,
    昨天/明天 09:15, 12月3日 09:15 this year, 2025年12月3日 09:15 another year.

    :param now: the clock (naive UTC); the real one when None.
    """
    aware = _aware(value)
    if aware is None:
        return ""
    today = clock.local(now or clock.now())
    assert today is not None
    return _people_time(aware, today.date())


def people_times(values: list[Any], now: dt.datetime | None = None) -> list[str]:
    """``people_time`` of each of ``values``, the reader's day worked out once."""
    today = clock.local(now or clock.now())
    assert today is not None
    day = today.date()
    return [
        "" if (aware := _aware(value)) is None else _people_time(aware, day) for value in values
    ]


def _people_time(aware: dt.datetime, today: dt.date) -> str:
    time = f"{aware.hour:02d}:{aware.minute:02d}"  # strftime("%H:%M"), at a third the cost
    days = (aware.date() - today).days
    if days == 0:
        return _("today %(time)s", time=time)
    if days == -1:
        return _("yesterday %(time)s", time=time)
    if days == 1:
        return _("tomorrow %(time)s", time=time)
    if aware.year == today.year:
        return _("%(month)s/%(day)s %(time)s", month=aware.month, day=aware.day, time=time)
    return _(
        "%(year)s/%(month)s/%(day)s %(time)s",
        year=aware.year,
        month=aware.month,
        day=aware.day,
        time=time,
    )


def _aware(value: Any) -> dt.datetime | None:
    """A stored naive-UTC time, or an answer's ISO text (naive: local), in Asia/Shanghai."""
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=clock.LOCAL)
        return parsed.astimezone(clock.LOCAL)
    return clock.local(value) if isinstance(value, dt.datetime) else None


def people_date(value: Any) -> str:
    """A date (or a stored time's local date) as people write it: 2026年12月3日."""
    if isinstance(value, dt.datetime):
        value = clock.local(value)
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if not isinstance(value, dt.date):
        return ""
    return _("%(year)s/%(month)s/%(day)s", year=value.year, month=value.month, day=value.day)


def duration(seconds: Any) -> str:
    """A duration in days and hours, or hours and minutes: 1天3小时, 2小时5分钟, 45分钟."""
    if seconds is None:
        return ""
    minutes = max(0, int(float(seconds)) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        if hours:
            return _("%(days)s days %(hours)s hours", days=days, hours=hours)
        return _("%(days)s days", days=days)
    if hours:
        if minutes:
            return _("%(hours)s hours %(minutes)s minutes", hours=hours, minutes=minutes)
        return _("%(hours)s hours", hours=hours)
    if minutes:
        return _("%(minutes)s minutes", minutes=minutes)
    return _("under a minute")


def init_app(app: Flask) -> None:
    app.jinja_env.filters["people_time"] = people_time
    app.jinja_env.filters["people_date"] = people_date
    app.jinja_env.filters["duration"] = duration

"""String formats checked on the server: the standard ones we accept, plus phone and attachment.

We register our own checkers instead of relying on jsonschema's optional
dependencies, so a deployment validates the same way whatever is installed.
"""

from __future__ import annotations

import datetime
import math
import re
import urllib.parse

from jsonschema import FormatChecker

from rules.values import number_text

EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
# Mainland mobile (optionally +86), landline with area code and optional
# extension, and 400/800 service numbers.
PHONE_RE = re.compile(
    r"(?:\+?86[- ]?)?1[3-9][0-9]{9}"
    r"|0[0-9]{2,3}-?[0-9]{7,8}(?:-[0-9]{1,6})?"
    r"|[48]00-?[0-9]{3}-?[0-9]{4}"
)
ATTACHMENT_RE = re.compile(r"att_[A-Za-z0-9_-]{1,64}")
# Digits are ASCII everywhere: \d would also match "１２" or "١٢", which int() reads.
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
TIME_RE = re.compile(
    r"([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?",
    re.IGNORECASE,
)
INTEGER_RE = re.compile(r"[+-]?[0-9]{1,300}")


def parse_integer(text: str) -> int | None:
    """A whole number typed in a form ("12", " -3 "): ASCII digits, else None.

    Python's int() would also read "１２", "١٢" and "1_000".
    """
    match = INTEGER_RE.fullmatch(text.strip())
    return int(match[0]) if match else None


def parse_number(text: str) -> int | float | None:
    """A finite decimal number typed in a form ("2.5", "-1e3", ".5"), else None.

    ASCII only, read as rules read numeric text (rules.values.number_text); Python's
    float() would also read "nan", "inf", "１２" and "1_0". Whole numbers come back as int.
    """
    number = number_text(text, empty=None, decimal_only=True)
    if number is None or not math.isfinite(number):
        return None
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def is_email(value: object) -> bool:
    """A plausible e-mail address (one @, a dot in the domain, no spaces)."""
    return not isinstance(value, str) or EMAIL_RE.fullmatch(value) is not None


def is_uri(value: object) -> bool:
    """An absolute http(s) URL: other schemes (javascript:, data:) are refused."""
    if not isinstance(value, str):
        return True
    if any(ch.isspace() for ch in value):
        return False
    parts = urllib.parse.urlsplit(value)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def is_date(value: object) -> bool:
    """A calendar date, YYYY-MM-DD."""
    if not isinstance(value, str):
        return True
    if DATE_RE.fullmatch(value) is None:
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_time(value: object) -> bool:
    """HH:MM[:SS[.ffffff]] with an optional offset (a naive time is local time)."""
    if not isinstance(value, str):
        return True
    match = TIME_RE.fullmatch(value)
    if match is None:
        return False
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    return hour < 24 and minute < 60 and second < 61


def is_datetime(value: object) -> bool:
    """A date, "T", a time; RFC 3339 with an offset, or naive local time from a form."""
    if not isinstance(value, str):
        return True
    date, sep, time = value.partition("T")
    return bool(sep) and is_date(date) and is_time(time)


def is_phone(value: object) -> bool:
    """A mainland China mobile, landline or 400/800 number."""
    return not isinstance(value, str) or PHONE_RE.fullmatch(value) is not None


def is_attachment(value: object) -> bool:
    """An attachment id as the page layer hands it out ("att_…")."""
    return not isinstance(value, str) or ATTACHMENT_RE.fullmatch(value) is not None


FORMAT_CHECKER = FormatChecker(formats=())
for _name, _check in (
    ("email", is_email),
    ("uri", is_uri),
    ("date", is_date),
    ("time", is_time),
    ("date-time", is_datetime),
    ("phone", is_phone),
    ("attachment", is_attachment),
):
    FORMAT_CHECKER.checks(_name)(_check)

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
MOBILE_RE = re.compile(r"(?:\+?86[- ]?)?1[3-9][0-9]{9}")
LANDLINE_RE = re.compile(r"(?:0[0-9]{2,3}-?)?[2-9][0-9]{6,7}(?:-[0-9]{1,6})?")
ID_CARD_RE = re.compile(r"[1-9][0-9]{5}(?:19|20)[0-9]{2}[0-9]{4}[0-9]{3}[0-9X]")
ID_CARD_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CARD_CHECK = "10X98765432"
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, Z, S, V
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
PLATE_RE = re.compile(
    "[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领]"
    "[A-HJ-NP-Z][A-HJ-NP-Z0-9]{4,5}[A-HJ-NP-Z0-9挂学警港澳]"
)
POSTCODE_RE = re.compile(r"[0-9]{6}")
# 楼栋-房号 as compounds write it: 3-502, 12-1-1201 (building-unit-room), 3幢502室.
ROOM_RE = re.compile(
    r"[0-9]{1,3}(?:-[0-9]{1,2})?-[0-9]{2,5}|[0-9]{1,3}[幢栋号楼](?:[0-9]{1,2}单元)?[0-9]{2,5}室?"
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


def is_mobile(value: object) -> bool:
    """A mainland mobile number (11 digits from 13–19, optionally +86)."""
    return not isinstance(value, str) or MOBILE_RE.fullmatch(value) is not None


def is_landline(value: object) -> bool:
    """A landline number, with or without its area code, optionally an extension."""
    return not isinstance(value, str) or LANDLINE_RE.fullmatch(value) is not None


def is_id_card(value: object) -> bool:
    """A resident identity card number (GB 11643): 18 characters, a real birth date, and the
    ISO 7064 MOD 11-2 check character."""
    if not isinstance(value, str):
        return True
    if ID_CARD_RE.fullmatch(value) is None:
        return False
    try:
        datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], ID_CARD_WEIGHTS, strict=True))
    return ID_CARD_CHECK[total % 11] == value[17]


def is_uscc(value: object) -> bool:
    """A unified social credit code (统一社会信用代码, GB 32100): 18 characters and the
    MOD 31 check character."""
    if not isinstance(value, str):
        return True
    if len(value) != 18 or any(c not in USCC_CHARS for c in value):
        return False
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(value[:17], USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31] == value[17]


def is_plate(value: object) -> bool:
    """A vehicle plate: province, issuing letter, 5 characters (6 for a new-energy car)."""
    return not isinstance(value, str) or PLATE_RE.fullmatch(value) is not None


def is_postcode(value: object) -> bool:
    """A six-digit postal code."""
    return not isinstance(value, str) or POSTCODE_RE.fullmatch(value) is not None


def is_room(value: object) -> bool:
    """A building and room number: 3-502, 12-1-1201, 3幢502室."""
    return not isinstance(value, str) or ROOM_RE.fullmatch(value) is not None


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
    ("mobile", is_mobile),
    ("landline", is_landline),
    ("id-card", is_id_card),
    ("uscc", is_uscc),
    ("plate", is_plate),
    ("postcode", is_postcode),
    ("room", is_room),
    ("attachment", is_attachment),
):
    FORMAT_CHECKER.checks(_name)(_check)

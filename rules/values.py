"""JsonLogic value semantics: truthiness, numbers, equality, ordering, text.

These follow json-logic-js (JavaScript's semantics), except where our
deliberate strictness turns a silent NaN or an incomparable comparison into an
error (see docs/rules.md, "Error policy").

Numbers are ASCII: numeric text is read by a linear grammar (JavaScript's
Number() for a string), never by Python's int()/float() directly, which also
read "１２", "١٢", "1_000", "nan" and "infinity".
"""

from __future__ import annotations

import math
import re
from typing import Any

from rules.budget import OUTPUT_MESSAGE
from rules.errors import OpError, Shown

Number = int | float
_SAFE_INT = 2**53
_FLOAT_MAX_INT = int(1.7976931348623157e308)

# JavaScript's white space and line terminators (ECMA-262 StrWhiteSpaceChar): what
# Number() trims from text. Python's str.strip() trims a different set.
JS_SPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
MAX_NUMBER_TEXT = 100
"""Longest numeric text (after trimming white space); longer text is not a number."""
EXCERPT = 40
"""Characters of a text an error message quotes."""

# Possessive quantifiers and a grammar without ambiguity: matching is linear in the length.
_DECIMAL = re.compile(r"[+-]?+(?:[0-9]++(?:\.[0-9]*+)?+|\.[0-9]++)(?:[eE][+-]?+[0-9]++)?+")
_NON_DECIMAL = {
    "x": (16, re.compile(r"[0-9a-fA-F]++")),
    "o": (8, re.compile(r"[0-7]++")),
    "b": (2, re.compile(r"[01]++")),
}


def truthy(value: Any) -> bool:
    """Return JsonLogic truthiness: 0, "", [], null and false are falsy; "0" and {} are truthy.

    :param value: any JSON value.
    """
    if value is None or value is False:
        return False
    if value is True:
        return True
    if isinstance(value, (int, float)):
        return value != 0 and not math.isnan(value)
    if isinstance(value, (str, list, tuple)):
        return len(value) > 0
    return True


def is_container(value: Any) -> bool:
    """Tell whether a value is a JSON array or object."""
    return isinstance(value, (list, tuple, dict))


def normalise(number: Number) -> Number:
    """Return an integral float as int (JavaScript has one number type), refusing NaN/Infinity."""
    if isinstance(number, float):
        if not math.isfinite(number):
            raise OpError("the result is not a finite number")
        if number.is_integer() and abs(number) < _SAFE_INT:
            return int(number)
    elif abs(number) > _FLOAT_MAX_INT:  # qubit turns integral floats into ints that never overflow
        raise OpError("the result is not a finite number")
    return number


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """The text, cut to `limit` characters with "…" if longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(value: Any) -> Shown:
    """A value for an error message: text quoted (an excerpt), numbers as JavaScript writes
    them, a word (translated with the message) for the rest."""
    if value is None:
        return Shown("null")
    if value is True or value is False:
        return Shown("true" if value else "false")
    if isinstance(value, str):
        return Shown("text", repr(excerpt(value)))
    if isinstance(value, dict):
        return Shown("object")
    if isinstance(value, (list, tuple)):
        return Shown("list")
    if isinstance(value, (int, float)):
        return Shown("number", excerpt(js_number_text(value)))
    return Shown("text", excerpt(repr(value)))


def number_text(
    text: str, *, empty: float | None = 0.0, decimal_only: bool = False
) -> float | None:
    """JavaScript's Number() of a text, with ASCII digits only; None stands for NaN.

    White space (JavaScript's set) around the number is ignored; text longer than
    MAX_NUMBER_TEXT characters is not a number. Linear in the length of the text.

    :param empty: the value of empty (or all-space) text; Number() says 0.
    :param decimal_only: read only a decimal literal ("12", "-1.5e3", ".5"), where
        JavaScript's parseFloat() (used by its `+` and `*`) and Number() agree: no
        "0x10", no "Infinity".
    """
    body = text.strip(JS_SPACE)
    if not body:
        return empty
    if len(body) > MAX_NUMBER_TEXT:
        return None
    if _DECIMAL.fullmatch(body):
        return float(body)
    if decimal_only:
        return None
    if body in ("Infinity", "+Infinity", "-Infinity"):
        return -math.inf if body[0] == "-" else math.inf
    if len(body) > 2 and body[0] == "0" and body[1].lower() in _NON_DECIMAL:
        base, digits = _NON_DECIMAL[body[1].lower()]
        if digits.fullmatch(body, 2):
            try:
                return float(int(body[2:], base))
            except OverflowError:
                return math.inf
    return None


def to_number(value: Any, arg: int | None = None) -> Number:
    """Coerce an operand of arithmetic to a number, strictly.

    Integers beyond 2**53 become floats, as every number is in JavaScript.

    :param value: a number or decimal text (JS white space around it is ignored).
    :param arg: argument index reported in the error.
    :raises OpError: for null (a missing value), booleans, non-numeric text, lists, objects.
    """
    if isinstance(value, int) and value is not True and value is not False:
        if -_SAFE_INT < value < _SAFE_INT:
            return value
        if abs(value) > _FLOAT_MAX_INT:
            raise OpError("%(value)s is not a finite number", arg, {"value": describe(value)})
        return float(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise OpError("the value is not a finite number", arg)
        return value
    if isinstance(value, str):
        number = number_text(value, empty=None, decimal_only=True)
        if number is not None:
            if not math.isfinite(number):
                raise OpError("%(value)s is not a finite number", arg, {"value": describe(value)})
            return normalise(number)
    if value is None:
        raise OpError("null (a missing value?) used as a number", arg)
    raise OpError("%(value)s is not a number", arg, {"value": describe(value)})


def js_to_number(value: Any) -> float | None:
    """JavaScript's ToNumber for a primitive; None stands for NaN."""
    if value is True or value is False:
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:  # an integer beyond the double range
            return math.inf if value > 0 else -math.inf
    if isinstance(value, str):
        return number_text(value)
    return None


def loose_equals(a: Any, b: Any) -> bool:
    """JavaScript `==` on JSON values.

    :raises OpError: when a list or object is compared with anything but null.
    """
    if a is None or b is None:
        return a is None and b is None
    if is_container(a) or is_container(b):
        raise OpError(
            "cannot compare %(a)s with %(b)s using ==", None, {"a": describe(a), "b": describe(b)}
        )
    a_bool = a is True or a is False
    b_bool = b is True or b is False
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if not a_bool and not b_bool and isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if a_bool and b_bool:
        return a is b
    x, y = js_to_number(a), js_to_number(b)
    return x is not None and y is not None and x == y


def strict_equals(a: Any, b: Any) -> bool:
    """JavaScript `===` on JSON values, except that lists and objects are never equal.

    (JavaScript compares their identity, so a value read twice from the data is `===`
    to itself; we answer false for every list or object: docs/rules.md.)
    """
    if is_container(a) or is_container(b):
        return False
    if a is None or b is None:
        return a is b
    a_bool = a is True or a is False
    b_bool = b is True or b is False
    if a_bool or b_bool:
        return a is b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    return bool(a == b)


def _order_operand(value: Any, other: Any, arg: int) -> Number:
    if value is True or value is False:
        return 1 if value else 0
    if isinstance(value, str):
        number = number_text(value, empty=None)
        if number is not None:
            return number
        raise OpError(
            "cannot order text %(value)s against %(other)s",
            arg,
            {"value": describe(value), "other": describe(other)},
        )
    if value is None:
        raise OpError(
            "cannot order null (a missing value?) against %(other)s",
            arg,
            {"other": describe(other)},
        )
    if is_container(value):
        raise OpError("cannot order %(value)s", arg, {"value": describe(value)})
    if isinstance(value, int) and not -_SAFE_INT < value < _SAFE_INT:
        number = js_to_number(value)
        assert number is not None
        return number
    return to_number(value, arg)


def less(a: Any, b: Any, strict: bool, first: int = 0) -> bool:
    """JavaScript `<` (strict=True) or `<=` on JSON values, strictly.

    Two texts compare as text; otherwise both sides must be numbers, numeric
    text (Number(): "0x1f" and "Infinity" too, but not empty text) or booleans.

    :param first: argument index of `a`, for the error path.
    :raises OpError: for null, lists, objects, or non-numeric text against a number.
    """
    if isinstance(a, str) and isinstance(b, str):
        return a < b if strict else a <= b
    x = _order_operand(a, b, first)
    y = _order_operand(b, a, first + 1)
    return x < y if strict else x <= y


def js_number_text(number: Number) -> str:
    """JavaScript's String() of a number: "1e+21", "1e-7", "0.000001", "123456789012345680000"."""
    if isinstance(number, int):
        if -_SAFE_INT < number < _SAFE_INT:
            return str(number)
        try:
            number = float(number)
        except OverflowError:
            return "Infinity" if number > 0 else "-Infinity"
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    # repr() gives the shortest digits that read back as the same double, as JavaScript does.
    sign = "-" if number < 0 else ""
    mantissa, _, exponent = repr(abs(number)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    significant = (whole + fraction).lstrip("0")
    digits = significant.rstrip("0")
    power = int(exponent or 0) - len(fraction) + len(significant) - len(digits)
    k, n = len(digits), len(digits) + power  # value = 0.digits × 10**n
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        e = n - 1
        text = (
            digits[0]
            + ("." + digits[1:] if k > 1 else "")
            + ("e+" if e >= 0 else "e-")
            + str(abs(e))
        )
    return sign + text


def js_string(value: Any, limit: int) -> str:
    """JavaScript's String() of a JSON value (`substr` and a `var` name use it).

    A list is its elements joined by "," (null as ""), nested lists likewise; built
    without recursion, so any depth is fine.

    :param limit: most characters the text may have if it has to be built (a text
        value is returned as it is).
    :raises OpError: for objects ("[object Object]" helps nobody) and for text that
        would be longer than `limit`.
    """
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return js_number_text(value)
    if isinstance(value, (list, tuple)):
        return _join(value, limit)
    raise OpError("cannot turn an object into text")


def join_text(value: Any, limit: int) -> str:
    """How JavaScript's Array.join (and so `cat`) writes one element: null as ""."""
    return "" if value is None else js_string(value, limit)


def _join(items: list[Any] | tuple[Any, ...], limit: int) -> str:
    # Without recursion (any depth), and each list written once even when the value holds
    # it many times (a list built in a loop may): `limit` bounds all the text built.
    texts: dict[int, str] = {}
    built = 0
    stack: list[tuple[list[Any] | tuple[Any, ...], bool]] = [(items, False)]
    while stack:
        current, ready = stack.pop()
        if id(current) in texts:
            continue
        if not ready:
            stack.append((current, True))
            stack.extend(
                (item, False)
                for item in current
                if isinstance(item, (list, tuple)) and id(item) not in texts
            )
            continue
        parts: list[str] = []
        size = max(len(current) - 1, 0)  # the commas
        for item in current:
            if isinstance(item, (list, tuple)):
                text = texts[id(item)]
            else:
                text = "" if item is None else js_string(item, limit)
            parts.append(text)
            size += len(text)
            if built + size > limit:
                raise OpError(OUTPUT_MESSAGE)
        built += size
        texts[id(current)] = ",".join(parts)
    return texts[id(items)]


def scalar_key(value: Any) -> tuple[str, Any] | None:
    """A hashable key under which `===` equal scalars collide (None for lists/objects)."""
    if value is None:
        return ("null", None)
    if value is True or value is False:
        return ("bool", value)
    if isinstance(value, (int, float)):
        return ("num", value)
    if isinstance(value, str):
        return ("str", value)
    return None

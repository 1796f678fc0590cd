"""JsonLogic value semantics: truthiness, numbers, equality, ordering, text.

These follow the published JsonLogic semantics (which are JavaScript's), except
where our deliberate strictness turns a silent NaN or an incomparable comparison
into an error (see docs/rules.md, "Error policy").
"""

from __future__ import annotations

import math
import re
import sys
from typing import Any

from rules.errors import OpError

Number = int | float
_FLOAT_MAX = sys.float_info.max

# Numeric text accepted in arithmetic and ordering: decimal, optional sign and exponent.
_DECIMAL = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*\Z")
# JavaScript's ToNumber also reads these (used by loose equality only).
_JS_PREFIXED = re.compile(r"\s*0([xXoObB])([0-9a-fA-F]+)\s*\Z")
_JS_INFINITY = re.compile(r"\s*([+-]?)Infinity\s*\Z")
_BASES = {"x": 16, "o": 8, "b": 2}


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
        if number.is_integer() and abs(number) < 2**53:
            return int(number)
    elif abs(number) > _FLOAT_MAX:  # qubit turns integral floats into ints that never overflow
        raise OpError("the result is not a finite number")
    return number


def describe(value: Any) -> str:
    """Render a value for an error message: text quoted, JSON words for the rest."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return repr(value)


def to_number(value: Any, arg: int | None = None) -> Number:
    """Coerce an operand of arithmetic to a number, strictly.

    :param value: a number or numeric text.
    :param arg: argument index reported in the error.
    :raises OpError: for null (a missing value), booleans, non-numeric text, lists, objects.
    """
    if isinstance(value, (int, float)) and value is not True and value is not False:
        if isinstance(value, float) and not math.isfinite(value):
            raise OpError("the value is not a finite number", arg)
        return value
    if isinstance(value, str) and _DECIMAL.match(value):
        return normalise(float(value)) if _looks_float(value) else int(value)
    if value is None:
        raise OpError("null (a missing value?) used as a number", arg)
    raise OpError(f"{describe(value)} is not a number", arg)


def _looks_float(text: str) -> bool:
    return any(c in text for c in ".eE")


def js_to_number(value: Any) -> float | None:
    """JavaScript's ToNumber for a primitive; None stands for NaN."""
    if value is True or value is False:
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        stripped = value.strip()
        if stripped == "":
            return 0.0
        if _DECIMAL.match(value):
            return float(value)
        prefixed = _JS_PREFIXED.match(value)
        if prefixed:
            try:
                return float(int(prefixed.group(2), _BASES[prefixed.group(1).lower()]))
            except ValueError:
                return None
        infinity = _JS_INFINITY.match(value)
        if infinity:
            return -math.inf if infinity.group(1) == "-" else math.inf
    return None


def loose_equals(a: Any, b: Any) -> bool:
    """JavaScript `==` on JSON values.

    :raises OpError: when a list or object is compared with anything but null.
    """
    if a is None or b is None:
        return a is None and b is None
    if is_container(a) or is_container(b):
        raise OpError(f"cannot compare {describe(a)} with {describe(b)} using ==")
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
    """JavaScript `===` on JSON values; lists and objects are never identical."""
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
        if _DECIMAL.match(value):
            return float(value)
        raise OpError(f"cannot order text {describe(value)} against {describe(other)}", arg)
    if value is None:
        raise OpError(f"cannot order null (a missing value?) against {describe(other)}", arg)
    if is_container(value):
        raise OpError(f"cannot order {describe(value)}", arg)
    return to_number(value, arg)


def less(a: Any, b: Any, strict: bool, first: int = 0) -> bool:
    """JavaScript `<` (strict=True) or `<=` on JSON values, strictly.

    Two texts compare as text; otherwise both sides must be numbers, numeric
    text or booleans.

    :param first: argument index of `a`, for the error path.
    :raises OpError: for null, lists, objects, or non-numeric text against a number.
    """
    if isinstance(a, str) and isinstance(b, str):
        return a < b if strict else a <= b
    x = _order_operand(a, b, first)
    y = _order_operand(b, a, first + 1)
    return x < y if strict else x <= y


def js_string(value: Any) -> str:
    """JavaScript's String() of a JSON value (as `cat` uses it).

    :raises OpError: for objects ("[object Object]" helps nobody).
    """
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(normalise(value))
    if isinstance(value, (list, tuple)):
        return ",".join("" if item is None else js_string(item) for item in value)
    raise OpError("cannot turn an object into text")


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

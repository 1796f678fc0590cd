"""Exact share comparisons for votes: `share_at_least` and `share_above`.

A vote's thresholds (⅔ of the area, more than half of the owners ...) must hold exactly:
"以上" includes the number itself and "过半数" does not, so a share sitting on the
threshold must never be decided by a floating-point rounding. These operators compare
``part / whole`` with ``numerator / denominator`` by cross-multiplying exact rationals:
integers and decimal text (areas as "1234.56") are read without passing through a float.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction
from typing import Any

from rules.errors import OpError
from rules.registry import OperatorInfo, register
from rules.values import describe

# Plain decimal text only ("12", "-0.5", "1234.56"): no exponent, so no huge expansions.
_DECIMAL_TEXT = re.compile(r"[+-]?[0-9]{1,30}(?:\.[0-9]{1,12})?")
_LIMIT = 10**30  # integer operands beyond this are refused (cross products stay small)


def exact(value: Any, arg: int) -> Fraction:
    """An operand as an exact rational: an integer, a finite float, or plain decimal text.

    :raises OpError: for null, booleans, lists, objects, other text or out-of-range numbers.
    """
    if isinstance(value, bool) or value is None:
        raise OpError("%(value)s is not a number", arg, {"value": describe(value)})
    if isinstance(value, int):
        if abs(value) > _LIMIT:
            raise OpError("%(value)s is too large", arg, {"value": describe(value)})
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value) or abs(value) > _LIMIT:
            raise OpError("the value is not a finite number", arg)
        # A float operand is taken as the decimal it prints as, not its binary expansion.
        return Fraction(Decimal(repr(value)))
    if isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value.strip()):
        return Fraction(Decimal(value.strip()))
    raise OpError("%(value)s is not a number or decimal text", arg, {"value": describe(value)})


def _share(part: Any, whole: Any, numerator: Any, denominator: Any) -> tuple[Fraction, Fraction]:
    p, w = exact(part, 0), exact(whole, 1)
    n, d = exact(numerator, 2), exact(denominator, 3)
    if d <= 0:
        raise OpError("the denominator must be above 0", 3)
    if p < 0 or w < 0 or n < 0:
        raise OpError("shares are of quantities of 0 or more", 0 if p < 0 else 1 if w < 0 else 2)
    return p * d, w * n


def share_at_least(part: Any, whole: Any, numerator: Any, denominator: Any) -> bool:
    """part / whole ≥ numerator / denominator (以上: the threshold itself counts); false
    when ``whole`` is 0 (nobody to take a share of)."""
    if exact(whole, 1) == 0:
        _share(part, whole, numerator, denominator)  # still refuse bad operands
        return False
    left, right = _share(part, whole, numerator, denominator)
    return left >= right


def share_above(part: Any, whole: Any, numerator: Any, denominator: Any) -> bool:
    """part / whole > numerator / denominator (过半数: the threshold itself does not count);
    false when ``whole`` is 0."""
    left, right = _share(part, whole, numerator, denominator)
    return exact(whole, 1) != 0 and left > right


register(
    OperatorInfo(
        "share_at_least",
        "plain",
        4,
        4,
        "part ÷ whole ≥ numerator ÷ denominator, exactly (false when whole is 0) (以上)",
        '{"share_at_least": [{"var": "area.voted"}, {"var": "area.eligible"}, 2, 3]}',
        share_at_least,
        custom=True,
    )
)
register(
    OperatorInfo(
        "share_above",
        "plain",
        4,
        4,
        "part ÷ whole > numerator ÷ denominator, exactly (false when whole is 0) (过半数)",
        '{"share_above": [{"var": "owners.yes"}, {"var": "owners.voted"}, 1, 2]}',
        share_above,
        custom=True,
    )
)

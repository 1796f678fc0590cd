"""Money as integer cents (分), read with Decimal: never a float."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.core.i18n import gettext as _

MAX_CENTS = 10**13  # 一千亿元: far above any compound's statement, below every column's limit


def parse_amount(value: Any) -> int:
    """Cents from "1,234.5", "1234", "¥1234.50" or a whole number of cents' Decimal.

    :raises ValueError: with a message for the reader: not a number, negative, more than
        two decimals, too large.
    """
    # NFKC folds full-width digits, commas and the yuan sign to their ASCII forms; a unit
    # word typed after the number (yuan) is dropped.
    text = unicodedata.normalize("NFKC", str(value if value is not None else "")).strip()
    text = re.sub(r"[^\x00-\x7f]+$", "", text.replace(",", "")).strip().removeprefix("¥").strip()
    if not text:
        raise ValueError(_("Enter an amount in yuan, such as 1200.50."))
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(_("Enter an amount in yuan, such as 1200.50.")) from None
    if not amount.is_finite():
        raise ValueError(_("Enter an amount in yuan, such as 1200.50."))
    if amount < 0:
        raise ValueError(
            _("Enter the amount without a sign; the part says whether it is in or out.")
        )
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(_("At most two decimals (fen)."))
    if cents >= MAX_CENTS:
        raise ValueError(_("The amount is too large."))
    return int(cents)


def yuan_text(cents: int) -> str:
    """ "1234.50": cents as a plain amount for a form field."""
    whole, part = divmod(int(cents), 100)
    return f"{whole}.{part:02d}"

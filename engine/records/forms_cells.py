"""Spreadsheet cells to form answers: a cell's value as the JSON a field's schema expects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from engine.core.i18n import gettext as _

TRUE = {"true", "yes", "y", "1", "是", "有", "√"}
FALSE = {"false", "no", "n", "0", "否", "无", "×"}


def cell_value(spec: Mapping[str, Any], value: Any) -> tuple[Any, str | None]:
    """(the answer, None) or (None, why the cell does not fit ``spec``).

    Unknown fields and strings pass through: the form's validation judges them.
    """
    kind = spec.get("type")
    if kind == "boolean":
        if isinstance(value, bool):
            return value, None
        text = str(value).strip().lower()
        if text in TRUE or text in FALSE:
            return text in TRUE, None
        return None, _("Write 是 or 否.")
    if kind in ("integer", "number"):
        if isinstance(value, str):
            try:
                value = float(value.strip().rstrip("%"))
            except ValueError:
                return None, _("Must be a number.")
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, _("Must be a number.")
        if kind == "integer":
            if float(value) != int(value):
                return None, _("Must be a whole number.")
            return int(value), None
        return float(value), None
    if kind == "string" and isinstance(value, dt.datetime | dt.date):
        # a date cell: the field's format says how much of it is the answer
        if spec.get("format") == "date":
            return (value.date() if isinstance(value, dt.datetime) else value).isoformat(), None
        return value.isoformat(), None
    if kind == "string" and not isinstance(value, str):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value), None
    return value, None

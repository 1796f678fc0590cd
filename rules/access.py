"""Reading the data a rule sees: ``var`` paths and the ``missing`` operators."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rules.budget import MAX_OUTPUT
from rules.errors import OpError
from rules.values import describe, js_string, to_number

_MAX_INDEX_DIGITS = 15  # no list is longer; also keeps int() away from huge texts


def _index(part: str) -> int | None:
    """A list index as JavaScript reads a property name: ASCII digits, no leading zero."""
    if not (0 < len(part) <= _MAX_INDEX_DIGITS and part.isascii() and part.isdigit()):
        return None
    return int(part) if part == "0" or part[0] != "0" else None


def get_var(data: Any, name: Any = None, default: Any = None) -> Any:
    """Read a dotted path ("data.category", "items.0.qty") from the data in scope.

    :param data: the data in scope (the document, or an element inside map/filter/…).
    :param name: the path; null or "" return the whole data.
    :param default: returned when the path leads nowhere.
    :raises OpError: if the name is not text or a number.
    """
    if name is None or name == "":
        return data
    if isinstance(name, bool) or not isinstance(name, (str, int, float)):
        raise OpError(
            "a var name must be text or a number, not %(name)s", 0, {"name": describe(name)}
        )
    current = data
    for part in js_string(name, MAX_OUTPUT).split("."):
        if isinstance(current, Mapping):
            if part not in current:
                return default
            current = current[part]
        elif isinstance(current, (list, tuple, str)):
            index = _index(part)
            if index is None or index >= len(current):
                return default
            current = current[index]
        else:
            return default
    return current


def missing(data: Any, *names: Any) -> list[Any]:
    keys = names[0] if names and isinstance(names[0], (list, tuple)) else names
    return [key for key in keys if get_var(data, key) in (None, "")]


def missing_some(data: Any, need: Any, names: Any) -> list[Any]:
    if not isinstance(names, (list, tuple)):
        raise OpError("missing_some needs a list of names", 1)
    absent = missing(data, names)
    return [] if len(names) - len(absent) >= to_number(need, 0) else absent

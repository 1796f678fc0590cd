"""A pack-schema error in the admin's words: jsonschema's own messages are English,
name JSON types and print Python reprs."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import jsonschema

from engine.core.i18n import gettext as _
from engine.definitions.checks_common import quoted_list

# A JSON type by what an admin fills in.
TYPES: dict[str, Callable[[], str]] = {
    "string": lambda: _("text"),
    "integer": lambda: _("a whole number"),
    "number": lambda: _("a number"),
    "boolean": lambda: _("yes or no"),
    "array": lambda: _("a list"),
    "object": lambda: _("a group of settings"),
    "null": lambda: _("empty"),
}


def shown(value: Any) -> str:
    """A value as the admin typed it, cut at 40 characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:40] + "…"


def _type_words(expected: Any) -> str:
    names = expected if isinstance(expected, list) else [expected]
    return _(" or ").join(TYPES[n]() if n in TYPES else str(n) for n in names)


def schema_message(error: jsonschema.ValidationError) -> str:
    """What is wrong, for the validators the pack schema uses; a plain sentence otherwise."""
    kind, limit, value = error.validator, error.validator_value, error.instance
    if kind == "required" and isinstance(value, Mapping):
        missing = [name for name in limit if name not in value]
        return _("'%(name)s' is required here") % {"name": missing[0] if missing else ""}
    if kind == "additionalProperties" and isinstance(value, Mapping):
        known = set(error.schema.get("properties", {}))
        extra = [name for name in value if name not in known]
        return _("Unknown setting: %(names)s") % {"names": quoted_list(extra)}
    if kind == "type":
        return _("'%(value)s' should be %(type)s") % {
            "value": shown(value),
            "type": _type_words(limit),
        }
    if kind in ("enum", "const"):
        allowed = limit if kind == "enum" else [limit]
        return _("'%(value)s' is none of %(known)s") % {
            "value": shown(value),
            "known": quoted_list(shown(v) for v in allowed),
        }
    if kind in ("minimum", "exclusiveMinimum"):
        return _("%(value)s is too small; the least is %(limit)s") % {
            "value": value,
            "limit": limit,
        }
    if kind in ("maximum", "exclusiveMaximum"):
        return _("%(value)s is too large; the most is %(limit)s") % {"value": value, "limit": limit}
    if kind == "minItems":
        return _("Give at least %(n)s") % {"n": limit}
    if kind == "maxItems":
        return _("Give at most %(n)s") % {"n": limit}
    if kind == "minLength":
        return (
            _("This cannot be empty")
            if limit == 1
            else _("Write at least %(n)s characters") % {"n": limit}
        )
    if kind == "maxLength":
        return _("Write at most %(n)s characters") % {"n": limit}
    if kind == "uniqueItems":
        return _("The list has the same entry twice")
    if kind == "pattern":
        return _("'%(value)s' is not written the expected way") % {"value": shown(value)}
    return _("This part of the definition does not fit the pack format")

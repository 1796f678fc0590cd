"""What outside input may be: integers the database holds, JSON nested a bounded depth,
text without NUL characters.

Every door (URL converters, query strings, request bodies, the designer's JSON view,
pack files) checks against these, so a value no column or recursion can hold is a
clear 4xx naming it, never an OverflowError or RecursionError deep inside.
"""

from __future__ import annotations

import json
from typing import Any

from engine.core.errors import FieldProblem, Malformed
from engine.core.i18n import gettext as _

INT_MIN = -(2**63)  # a 64-bit signed column (PostgreSQL BIGINT; SQLite's INTEGER)
INT_MAX = 2**63 - 1
# Definitions nest about 15 levels, a rule at most rules.MAX_DEPTH operators (two JSON
# levels each); 100 leaves room for both while every recursive walk (deepcopy, equality,
# jsonschema, templates) stays far from Python's recursion limit.
MAX_JSON_DEPTH = 100


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> str | None:
    """The JSON pointer of a place nested deeper than ``limit`` levels, else None.

    Iterative on purpose: it must measure what a recursive walk would choke on.
    """
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.items()
        elif isinstance(node, list):
            children = enumerate(node)
        else:
            continue
        if depth > limit:
            return path or "/"
        stack.extend(
            (child, f"{path}/{_escaped(key)}", depth + 1)
            for key, child in children
            if isinstance(child, dict | list)
        )
    return None


def _escaped(key: Any) -> str:
    """A key as a JSON pointer part; a NUL shown as \\0, never echoed back."""
    return str(key).replace("~", "~0").replace("/", "~1").replace("\x00", "\\0")


def nested_too_deep(limit: int = MAX_JSON_DEPTH) -> str:
    return _("nested deeper than %(limit)s levels") % {"limit": limit}


def depth_problem(value: Any, prefix: str = "", limit: int = MAX_JSON_DEPTH) -> FieldProblem | None:
    """A problem naming where ``value`` nests deeper than ``limit``, else None."""
    where = too_deep(value, limit)
    if where is None:
        return None
    return FieldProblem(prefix + (where if where != "/" else "") or "/", nested_too_deep(limit))


def nul_problem(value: Any) -> FieldProblem | None:
    """A problem naming a string (or key) with a NUL character in ``value``, else None.

    PostgreSQL text cannot hold one: a query with it fails in the driver.
    """
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return FieldProblem(path or "/", no_nul())
        elif isinstance(node, dict):
            for key, child in node.items():
                here = f"{path}/{_escaped(key)}"
                if "\x00" in str(key):
                    return FieldProblem(here, no_nul())
                stack.append((child, here))
        elif isinstance(node, list):
            stack.extend((child, f"{path}/{i}") for i, child in enumerate(node))
    return None


def no_nul() -> str:
    return _("text may not contain NUL characters")


def loads(text: str | bytes) -> Any:
    """Parse JSON from outside; too deep or not JSON is :class:`Malformed` (a 400).

    :raises Malformed: not JSON, nested deeper than :data:`MAX_JSON_DEPTH`, or a
        string with a NUL character.
    """
    try:
        parsed = json.loads(text)
    except RecursionError:
        parsed = None
        problem: FieldProblem | None = FieldProblem("", nested_too_deep())
    except ValueError as exc:
        raise Malformed(f"malformed JSON: {exc}", [FieldProblem("", str(exc))]) from None
    else:
        problem = depth_problem(parsed) or nul_problem(parsed)
    if problem is not None:
        raise Malformed(problem.message, [problem])
    return parsed


def bounded_int(value: int) -> bool:
    """Whether a 64-bit signed column holds ``value``."""
    return INT_MIN <= value <= INT_MAX

"""Renaming a value a rule compares a variable with (a state renamed: ``item.state``).

Wherever ``var`` is compared (``==``, ``!=``, ``===``, ``!==``, ``in``) with the literal
``old`` — or with a list of literals holding it — the literal becomes ``new``. Anything else
is left as written, so the walk may run over a whole definition (its rules anywhere).
"""

from __future__ import annotations

from typing import Any

COMPARE = frozenset({"==", "===", "!=", "!==", "in"})


def reads(node: Any, var: str) -> bool:
    """``node`` is ``{"var": var}`` (or with a default: ``{"var": [var, …]}``)."""
    if not isinstance(node, dict) or list(node) != ["var"]:
        return False
    name = node["var"]
    if isinstance(name, list) and name:
        name = name[0]
    return bool(name == var)


def rename_value(rule: Any, var: str, old: str, new: str) -> Any:
    """``rule`` (or any JSON holding rules) with ``var``'s comparisons to ``old`` made to ``new``."""
    if isinstance(rule, list):
        return [rename_value(part, var, old, new) for part in rule]
    if not isinstance(rule, dict):
        return rule
    out: dict[str, Any] = {}
    for key, args in rule.items():
        if key in COMPARE and isinstance(args, list) and any(reads(a, var) for a in args):
            args = [_swap(a, old, new) for a in args]
        out[key] = rename_value(args, var, old, new)
    return out


def _swap(arg: Any, old: str, new: str) -> Any:
    if arg == old and isinstance(arg, str):
        return new
    if isinstance(arg, list) and all(isinstance(x, str | int | float | bool) for x in arg):
        return [new if x == old and isinstance(x, str) else x for x in arg]
    return arg


def mentions(rule: Any, var: str, value: str) -> bool:
    """Whether some comparison of ``var`` in ``rule`` still names ``value``."""
    if isinstance(rule, list):
        return any(mentions(part, var, value) for part in rule)
    if not isinstance(rule, dict):
        return False
    for key, args in rule.items():
        compares = key in COMPARE and isinstance(args, list) and any(reads(a, var) for a in args)
        if compares and any(a == value or (isinstance(a, list) and value in a) for a in args):
            return True
        if mentions(args, var, value):
            return True
    return False

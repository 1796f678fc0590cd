"""What a rule may do, read from its JSON alone: spend from the evaluation budget
(``metered``), return a list or an object (``may_return_container``)."""

from __future__ import annotations

from typing import Any

from rules.registry import lookup
from rules.validate import arguments

# Operators whose result is never a list or object.
_SCALAR_OPS = frozenset(
    {
        "==",
        "===",
        "!=",
        "!==",
        "<",
        "<=",
        ">",
        ">=",
        "!",
        "!!",
        "in",
        "+",
        "-",
        "*",
        "/",
        "%",
        "min",
        "max",
        "cat",
        "substr",
        "all",
        "none",
        "some",
    }
)


def metered(node: Any) -> bool:
    """Whether a rule uses an operator that spends from the evaluation's budget."""
    if isinstance(node, (list, tuple)):
        return any(metered(item) for item in node)
    if not isinstance(node, dict) or len(node) != 1:
        return False
    op, value = next(iter(node.items()))
    info = lookup(op)
    if info is not None and (info.metered or info.kind == "scoped"):
        return True
    return any(metered(arg) for arg in arguments(value))


def may_return_container(node: Any) -> bool:
    """Whether a rule may return a list or an object (False only when provably not)."""
    if isinstance(node, (list, tuple)):
        return True
    if not isinstance(node, dict) or len(node) != 1:
        return False
    op, value = next(iter(node.items()))
    info = lookup(op)
    if op in _SCALAR_OPS or (info is not None and info.custom):
        return False
    if op in ("and", "or", "if", "?:"):
        args = arguments(value)
        # the condition of an if is never returned, only the branches
        returned = (
            args
            if op in ("and", "or")
            else [arg for i, arg in enumerate(args) if i % 2 or i == len(args) - 1]
        )
        return any(may_return_container(arg) for arg in returned)
    return True

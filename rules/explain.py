"""Short English explanations of why a rule was true or false, for routing outcomes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rules.builtins import get_var
from rules.compiler import compile
from rules.validate import arguments
from rules.values import describe, truthy

_INFIX = {"==", "!=", "===", "!==", "<", "<=", ">", ">=", "in", "+", "-", "*", "/", "%"}
_LIMIT = 160


def render(node: Any) -> str:
    """Render a rule as short readable text: `data.category == '违章搭建'`."""
    text = _render(node)
    return text if len(text) <= _LIMIT else text[: _LIMIT - 1] + "…"


def _render(node: Any) -> str:
    if isinstance(node, str):
        return repr(node)
    if isinstance(node, (list, tuple)):
        shown = [_render(item) for item in node[:6]]
        return "[" + ", ".join(shown + (["…"] if len(node) > 6 else [])) + "]"
    if not isinstance(node, dict) or len(node) != 1:
        return json.dumps(node, ensure_ascii=False)
    op, value = next(iter(node.items()))
    args = arguments(value)
    if op == "var" and args and isinstance(args[0], (str, int)) and len(args) == 1:
        return str(args[0]) or "(the data)"
    if op in _INFIX and len(args) >= 2:
        return f" {op} ".join(_render(arg) for arg in args)
    if op in ("and", "or"):
        return f" {op} ".join(f"({_render(arg)})" for arg in args)
    if op == "!" and len(args) == 1:
        return f"not ({_render(args[0])})"
    return f"{op}({', '.join(_render(arg) for arg in args)})"


def _seen(node: Any, doc: Mapping[str, Any]) -> str:
    """The values of the var operands of a node: " (got '停车秩序')"."""
    if not isinstance(node, dict) or len(node) != 1:
        return ""
    names = []
    for arg in arguments(next(iter(node.values()))):
        if isinstance(arg, dict) and len(arg) == 1 and "var" in arg:
            name = arguments(arg["var"])
            if len(name) == 1 and isinstance(name[0], str):
                names.append(name[0])
    if not names:
        return ""
    if len(names) == 1:
        return f" (got {describe(get_var(doc, names[0]))})"
    return " (got " + ", ".join(f"{n}={describe(get_var(doc, n))}" for n in names) + ")"


def why_false(rule: Any, doc: Mapping[str, Any]) -> str:
    """Explain a rule that evaluated falsy (the rule must be valid and not fail).

    For `and`, the first falsy condition is explained; for `or`, all of them failed.
    """
    if isinstance(rule, dict) and len(rule) == 1:
        op, value = next(iter(rule.items()))
        args = arguments(value)
        if op == "and":
            for clause in args:
                if not truthy(compile(clause)(doc)):
                    return why_false(clause, doc)
        if op == "or" and len(args) > 1:
            return "none held: " + "; ".join(why_false(clause, doc) for clause in args)
    return f"{render(rule)} was false{_seen(rule, doc)}"


def why_true(rule: Any, doc: Mapping[str, Any]) -> str:
    """Explain a rule that evaluated truthy."""
    return f"{render(rule)} was true{_seen(rule, doc)}"

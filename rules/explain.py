"""Short English explanations of why a rule was true or false, for routing outcomes."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from rules.access import get_var
from rules.compiler import compile
from rules.validate import arguments
from rules.values import truthy

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


def shown(value: Any, limit: int = 80) -> str:
    """Render a value seen in the data, briefly: text quoted, lists and objects as JSON.

    Written piece by piece and stopped once longer than `limit`, so a huge or deeply
    nested value costs no more than a short one.
    """
    out: list[str] = []
    total = 0
    # frames: [items left, inside an object (JSON quoting), closing bracket, any written yet]
    stack: list[list[Any]] = []

    def emit(text: str) -> None:
        nonlocal total
        out.append(text)
        total += len(text)

    def start(item: Any, as_json: bool) -> None:
        if isinstance(item, (list, tuple)):
            emit("[")
            stack.append([iter(item), as_json, "]", False])
        elif isinstance(item, Mapping):
            emit("{")
            stack.append([iter(item.items()), True, "}", False])
        else:
            emit(_scalar(item, as_json, limit))

    start(value, False)
    while stack and total <= limit:
        frame = stack[-1]
        entry: Any = next(frame[0], _END)
        if entry is _END:
            stack.pop()
            emit(frame[2])
            continue
        if frame[3]:
            emit(", ")
        frame[3] = True
        if frame[2] == "}":
            emit(_scalar(str(entry[0]), True, limit) + ": ")
            start(entry[1], True)
        else:
            start(entry, frame[1])
    text = "".join(out)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_END = object()


def _scalar(value: Any, as_json: bool, limit: int) -> str:
    if isinstance(value, str):
        value = value[: limit + 1]  # longer is cut anyway
        return json.dumps(value, ensure_ascii=False) if as_json else repr(value)
    return json.dumps(value, ensure_ascii=False, default=str)[: limit + 1]


def _operand_vars(node: Any) -> list[str]:
    if not isinstance(node, dict) or len(node) != 1:
        return []
    names = []
    for arg in arguments(next(iter(node.values()))):
        if isinstance(arg, dict) and len(arg) == 1 and "var" in arg:
            name = arguments(arg["var"])
            if len(name) == 1 and isinstance(name[0], str):
                names.append(name[0])
    return names


class Explainer:
    """A rule's explanation, prepared once so that explaining a document is cheap."""

    def __init__(self, rule: Any) -> None:
        """Render the rule and prepare its conditions.

        :param rule: a valid rule.
        """
        self.text = render(rule)
        self.names = _operand_vars(rule)
        self.kind = ""
        self.parts: list[tuple[Callable[[Mapping[str, Any]], Any], Explainer]] = []
        if isinstance(rule, dict) and len(rule) == 1:
            op, value = next(iter(rule.items()))
            args = arguments(value)
            if op == "and" or (op == "or" and len(args) > 1):
                self.kind = op
                self.parts = [(compile(clause), Explainer(clause)) for clause in args]

    def seen(self, doc: Mapping[str, Any]) -> str:
        """The values of the var operands: " (got '停车秩序')"."""
        if not self.names:
            return ""
        if len(self.names) == 1:
            return f" (got {shown(get_var(doc, self.names[0]))})"
        return " (got " + ", ".join(f"{n}={shown(get_var(doc, n))}" for n in self.names) + ")"

    def false(self, doc: Mapping[str, Any]) -> str:
        """Explain a falsy result: for `and` the first falsy condition, for `or` all of them."""
        if self.kind == "and":
            for fn, part in self.parts:
                if not truthy(fn(doc)):
                    return part.false(doc)
        elif self.kind == "or":
            return "none held: " + "; ".join(part.false(doc) for _, part in self.parts)
        return f"{self.text} was false{self.seen(doc)}"

    def true(self, doc: Mapping[str, Any]) -> str:
        """Explain a truthy result."""
        return f"{self.text} was true{self.seen(doc)}"


def why_false(rule: Any, doc: Mapping[str, Any]) -> str:
    """Explain a rule that evaluated falsy (the rule must be valid and not fail).

    For `and`, the first falsy condition is explained; for `or`, all of them failed.
    """
    return Explainer(rule).false(doc)


def why_true(rule: Any, doc: Mapping[str, Any]) -> str:
    """Explain a rule that evaluated truthy."""
    return Explainer(rule).true(doc)

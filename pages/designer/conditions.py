"""The condition builder's posted rows → a rule, and a rule → what its rows show.

A condition is posted as ``<prefix>-join`` (all / any) and rows ``<prefix>-<i>-field``,
``-op`` and ``-value``; a row without a field is skipped. A rule the rows cannot show
(hand-written in the JSON view: nested groups, other operators) is kept unless the
admin ticks ``<prefix>-replace``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from forms.builder import (
    OPERATORS,
    UNARY,
    Condition,
    FieldRow,
    Group,
    group_logic,
    parse_group,
    parse_value,
    value_text,
    value_type_of,
)

OP_LABELS = {
    "==": _l("equals"), "!=": _l("does not equal"), "in": _l("is one of"), "not in": _l("is none of"),
    ">": _l("is greater than"), ">=": _l("is at least"), "<": _l("is less than"), "<=": _l("is at most"),
    "contains": _l("includes"), "is empty": _l("is empty"), "is not empty": _l("is not empty"),
}
LIST_SEPARATORS = re.compile(r"\s*[,，、]\s*")
BLANK_ROWS = 2


@dataclass
class Editor:
    """What the condition-builder macro renders."""

    prefix: str
    join: str
    rows: list[tuple[str, str, str]]  # field, op, value text; blanks included
    raw: Any = None  # a rule the rows cannot show

    @property
    def raw_text(self) -> str:
        import json

        return json.dumps(self.raw, ensure_ascii=False)


def editor(prefix: str, rule: Any, scope: str = "data") -> Editor:
    """The rows showing ``rule`` (None: no condition)."""
    group = Group("all", []) if rule is None else parse_group(rule, scope)
    if group is None or any(isinstance(item, Group) for item in group.items):
        return Editor(prefix, "all", [("", "==", "")] * BLANK_ROWS, raw=rule)
    rows = [(c.field, c.op, value_text(c.value)) for c in group.items if isinstance(c, Condition)]
    return Editor(prefix, group.join, rows + [("", "==", "")] * BLANK_ROWS)


def posted(
    form: Mapping[str, str], prefix: str, fields: Sequence[FieldRow], existing: Any, scope: str = "data"
) -> Any:
    """The rule the posted rows describe; None when no row names a field."""
    if editor(prefix, existing, scope).raw is not None and not form.get(f"{prefix}-replace"):
        return existing
    by_name = {row.name: row for row in fields}
    items: list[Condition | Group] = []
    i = 0
    while f"{prefix}-{i}-field" in form:
        name = form.get(f"{prefix}-{i}-field", "")
        op = form.get(f"{prefix}-{i}-op", "==")
        text = form.get(f"{prefix}-{i}-value", "")
        i += 1
        if not name or op not in OPERATORS:
            continue
        kind = value_type_of(by_name.get(name))
        value: Any = None
        if op in ("in", "not in"):
            value = [parse_value(part, kind) for part in LIST_SEPARATORS.split(text.strip()) if part]
        elif op == "contains":
            value = parse_value(text, "string")
        elif op not in UNARY:
            value = parse_value(text, kind)
        items.append(Condition(name, op, value))
    if not items:
        return None
    join = "any" if form.get(f"{prefix}-join") == "any" else "all"
    return group_logic(Group(join, items), scope)

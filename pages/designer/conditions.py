"""The condition builder's posted rows → a rule, and a rule → what its rows show.

A condition is posted as ``<prefix>-join`` (all / any) and rows ``<prefix>-<i>-field``,
``-op`` and ``-value``; a row without a field is skipped. A row may instead be a group
(``<prefix>-<i>-sub``) with its own ``<prefix>-<i>-join`` and rows ``<prefix>-<i>-<k>-…``,
one level deep. A rule the rows cannot show (hand-written in the JSON view: deeper
nesting, other operators) is kept unless the admin ticks ``<prefix>-replace``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from forms.builder import (
    OPERATORS,
    UNARY,
    Condition,
    FieldRow,
    Group,
    group_logic,
    is_context,
    parse_group,
    parse_value,
    value_text,
    value_type_of,
)

OP_LABELS = {
    "==": _l("equals"),
    "!=": _l("does not equal"),
    "in": _l("is one of"),
    "not in": _l("is none of"),
    ">": _l("is greater than"),
    ">=": _l("is at least"),
    "<": _l("is less than"),
    "<=": _l("is at most"),
    "contains": _l("includes"),
    "is empty": _l("is empty"),
    "is not empty": _l("is not empty"),
}
LIST_SEPARATORS = re.compile(r"\s*[,，、]\s*")
BLANK_ROWS = 2


@dataclass
class Row:
    field: str = ""
    op: str = "=="
    value: str = ""


@dataclass
class Editor:
    """What the condition-builder macro renders: rows, and (at the top) groups of rows."""

    prefix: str
    join: str
    rows: list[Row | Editor]  # blanks included
    raw: Any = None  # a rule the rows cannot show

    @property
    def raw_text(self) -> str:
        import json

        return json.dumps(self.raw, ensure_ascii=False)


def _depth(group: Group) -> int:
    return 1 + max((_depth(i) for i in group.items if isinstance(i, Group)), default=0)


def _editor_of(prefix: str, group: Group, nested: bool) -> Editor:
    rows: list[Row | Editor] = []
    for i, item in enumerate(group.items):
        if isinstance(item, Group):
            rows.append(_editor_of(f"{prefix}-{i}", item, True))
        else:
            rows.append(Row(item.field, item.op, value_text(item.value)))
    rows += [Row() for _ in range(BLANK_ROWS)]
    if not nested:  # one empty group of rows to fill in
        rows.append(_editor_of(f"{prefix}-{len(rows)}", Group("any", []), True))
    return Editor(prefix, group.join, rows)


def _names(group: Group) -> set[str]:
    return {n for i in group.items for n in (_names(i) if isinstance(i, Group) else {i.field})}


def editor(
    prefix: str,
    rule: Any,
    scope: str = "data",
    known: set[str] | None = None,
    context: Sequence[FieldRow] = (),
) -> Editor:
    """The rows showing ``rule`` (None: no condition); one level of groups inside.

    With ``known``, a rule naming another field is shown as written (its row could not);
    with ``context``, rows may name those parts of the rule document (``assignments.open``)."""
    group = Group("all", []) if rule is None else parse_group(rule, scope, bool(context))
    offered = {c.name for c in context}
    allowed = None if known is None else known | offered
    names = _names(group) if group is not None else set()
    if (
        group is None
        or _depth(group) > 2
        or (allowed is not None and not names <= allowed)
        or any(is_context(n) and n not in offered for n in names)
    ):
        shown = _editor_of(prefix, Group("all", []), False)
        shown.raw = rule
        return shown
    return _editor_of(prefix, group, False)


def _items(
    form: Mapping[str, str], prefix: str, by_name: Mapping[str, FieldRow], nested: bool
) -> list[Any]:
    items: list[Condition | Group] = []
    mine = re.compile(re.escape(prefix) + r"-(\d+)-(?:field|sub)$")
    for i in sorted({int(m.group(1)) for m in map(mine.match, form) if m}):
        at = f"{prefix}-{i}"
        if f"{at}-sub" in form:
            inner = [] if nested else _items(form, at, by_name, True)
            if inner:
                items.append(Group("any" if form.get(f"{at}-join") == "any" else "all", inner))
            continue
        name = form.get(f"{at}-field", "")
        op = form.get(f"{at}-op", "==")
        text = form.get(f"{at}-value", "")
        if not name or op not in OPERATORS:
            continue
        row = by_name.get(name)
        kind = value_type_of(row)
        value: Any = None
        if op in ("in", "not in"):
            value = [
                _checked(row, part, kind) for part in LIST_SEPARATORS.split(text.strip()) if part
            ]
        elif op == "contains":
            value = _checked(row, text, "string")
        elif op not in UNARY:
            value = _checked(row, text, kind)
        items.append(Condition(name, op, value))
    return items


class BadValue(ValueError):
    """A condition row's value its field cannot hold (none of its options, no number)."""


def _checked(row: FieldRow | None, text: str, kind: str) -> Any:
    """The value ``text`` names for ``row``: one of its options (by value or label), a number
    for a number, yes/no for a yes/no field.

    :raises BadValue: it is none of these; the message names the field.
    """
    label = (row.label or row.name) if row is not None else ""
    text = text.strip()
    if row is not None and row.options:
        for value, shown in row.options:
            if text in (str(value), str(shown)):
                return value
        raise BadValue(
            _("Condition on %(field)s: %(value)s is not one of its options (%(options)s).")
            % {"field": label, "value": text, "options": "、".join(str(o[1]) for o in row.options)}
        )
    if kind == "boolean":
        if text.lower() in ("1", "true", "yes", "on", "是"):
            return True
        if text.lower() in ("0", "false", "no", "off", "否", ""):
            return False
        raise BadValue(_("Condition on %(field)s: choose yes or no.") % {"field": label})
    value = parse_value(text, kind)
    if kind in ("integer", "number") and not isinstance(value, int | float):
        raise BadValue(
            _("Condition on %(field)s: %(value)s is not a number.")
            % {"field": label, "value": text}
        )
    return value


def posted(
    form: Mapping[str, str],
    prefix: str,
    fields: Sequence[FieldRow],
    existing: Any,
    scope: str = "data",
    known: set[str] | None = None,
    context: Sequence[FieldRow] = (),
) -> Any:
    """The rule the posted rows describe; None when no row names a field.

    :raises BadValue: a row's value is none of its field's options, or no number.
    """
    shown = editor(prefix, existing, scope, known, context)
    if shown.raw is not None and not form.get(f"{prefix}-replace"):
        return existing
    items = _items(form, prefix, {row.name: row for row in [*fields, *context]}, False)
    if not items:
        return None
    join = "any" if form.get(f"{prefix}-join") == "any" else "all"
    rule = group_logic(Group(join, items), scope)
    flag = bool(context)
    if existing is not None and parse_group(existing, scope, flag) == parse_group(
        rule, scope, flag
    ):
        return existing  # the same rows: kept as written (an ordering without its null guard…)
    return rule

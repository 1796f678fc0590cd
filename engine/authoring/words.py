"""Conditions and routing decisions in Chinese sentences built from the labels (条件的说法).

A routing rule's ``when`` reads ``data.flying_lead == true``; an admin trying it and a
worker reading an item's trace see "飞线充电 等于 是", the rule's name and the units it
summoned. Rules the condition rows cannot show are named as such, never printed as JSON.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from engine.core.i18n import gettext as _
from forms.builder import Condition, FieldRow, Group, parse_group, rows_from_schema


def N_(text: str) -> str:
    """Marks a msgid for extraction; translated where it is used."""
    return text


OP_WORDS = {
    "==": N_("equals"),
    "!=": N_("does not equal"),
    "in": N_("is one of"),
    "not in": N_("is none of"),
    ">": N_("is greater than"),
    ">=": N_("is at least"),
    "<": N_("is less than"),
    "<=": N_("is at most"),
    "contains": N_("includes"),
    "is empty": N_("is empty"),
    "is not empty": N_("is not empty"),
}


CONTEXT_NAMES = {
    "now": N_("the present time"),
    "item.raised_at": N_("the time it was raised"),
    "item.state_since": N_("the time it entered its state"),
    "item.state": N_("its state"),
    "item.type": N_("its type"),
}
ISO_TIME = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2}:[0-9]{2})(:[0-9]{2})?([+-][0-9]{2}:[0-9]{2}|Z)?"
)


class Vocabulary:
    """What names and values read as: field and context labels, option labels."""

    def __init__(self, rows: Sequence[FieldRow]) -> None:
        self.labels = {r.name: r.label or r.name for r in rows}
        self.options = {r.name: {_key(v): label for v, label in r.options} for r in rows}

    @classmethod
    def of(cls, schema: Mapping[str, Any], context: Sequence[FieldRow] = ()) -> Vocabulary:
        return cls([*rows_from_schema(schema).rows, *context])

    @classmethod
    def of_type(cls, body: Mapping[str, Any], context: Sequence[FieldRow] = ()) -> Vocabulary:
        """An item type's answers, its transitions' form answers (``form.x``) and ``context``."""
        own = [
            replace(row, name=f"form.{row.name}")
            for t in (body.get("workflow") or {}).get("transitions") or []
            for row in rows_from_schema(t.get("form") or {}).rows
        ]
        return cls([*rows_from_schema(body.get("schema") or {}).rows, *context, *own])

    def name(self, path: str) -> str:
        short = path.removeprefix("data.")
        found = self.labels.get(short) or self.labels.get(path)
        if found:
            return found
        if path in CONTEXT_NAMES:
            return _(CONTEXT_NAMES[path])
        if path.startswith("node.profile."):
            return _("a field of the compound's file")
        return _("an answer") if path.startswith(("data.", "form.")) else _("a fact of the item")

    def value(self, field: str, value: Any) -> str:
        if isinstance(value, list):
            return "、".join(self.value(field, v) for v in value)
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        if value is None:
            return _("empty")
        options = self.options.get(field.removeprefix("data."), {}) or self.options.get(field, {})
        if _key(value) in options:
            return options[_key(value)]
        if isinstance(value, str) and (moment := ISO_TIME.fullmatch(value)):
            return f"{moment[1]} {moment[2]}"  # (rules see local times with their offset)
        return str(value)


def _key(value: Any) -> str:
    return f"{type(value).__name__}:{value}"


def condition_words(rule: Any, words: Vocabulary, scope: str = "") -> str:
    """``rule`` as a sentence ("飞线充电 等于 是 并且 …"); ``True`` reads "always".

    :param scope: "" (the default) reads names with their source (``data.x``, ``form.x``).
    """
    if rule is True:
        return _("always")
    group = parse_group(rule, scope, True)
    if group is None:
        return _("a custom condition")
    return _group(group, words)


def _group(group: Group, words: Vocabulary) -> str:
    parts = [
        f"({_group(c, words)})" if isinstance(c, Group) else _condition(c, words)
        for c in group.items
    ]
    return (_(" and ") if group.join == "all" else _(" or ")).join(parts)


def _condition(c: Condition, words: Vocabulary) -> str:
    head = f"{words.name(c.field)} {_(OP_WORDS[c.op])}"
    if c.op in ("is empty", "is not empty"):
        return head
    return f"{head} {words.value(c.field, c.value)}"


def outcome_words(
    rule: Mapping[str, Any], fired: bool, words: Vocabulary, *, evaluated: bool = True
) -> str:
    """One routing rule's outcome: its condition and whether it held (or, under the hit policy
    "first", that an earlier rule decided before it was checked)."""
    if not evaluated:
        return _("not checked: an earlier rule already decided")
    held = _("holds") if fired else _("does not hold")
    return f"{condition_words(rule.get('when', True), words)}: {held}"


def input_words(inputs: Mapping[str, Any], words: Vocabulary) -> list[tuple[str, str]]:
    """The answers a decision read, as (label, value) pairs."""
    return [(words.name(path), words.value(path, value)) for path, value in inputs.items()]

"""Conditional fields: which answers are shown (x-show-if), and pruning the hidden ones."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import rules
from forms.specs import FieldSpec, field_specs

Visibility = dict[str, bool]


class RuleFailure(NamedTuple):
    """An x-show-if that could not be evaluated; the field is then treated as shown."""

    path: str
    label: str
    pointer: str
    reason: str


def is_empty(value: Any) -> bool:
    """Whether an answer counts as not given (null, empty text, empty list)."""
    return value is None or value == "" or value == []


def visible(
    schema: Mapping[str, Any], data: Any, context: Mapping[str, Any] | None = None
) -> dict[str, bool]:
    """Which fields of a form are shown for these answers, by answer path.

    Paths are "floor" for a field and "rooms/1/area" for a field of a group row.
    A condition that fails to evaluate leaves its field shown.
    """
    answers = data if isinstance(data, Mapping) else {}
    return compute(field_specs(schema), answers, context)[0]


def compute(
    specs: list[FieldSpec], answers: Mapping[str, Any], context: Mapping[str, Any] | None
) -> tuple[Visibility, list[RuleFailure]]:
    """Visibility and rule failures, evaluated until hiding a field changes nothing more.

    A condition sees the answers with hidden fields already removed, so a field
    shown only after a hidden field does not linger on the hidden field's answer.
    """
    current: Mapping[str, Any] = answers
    vis: Visibility = {}
    failures: list[RuleFailure] = []
    for _ in range(_count(specs) + 1):
        vis, failures = _evaluate(specs, current, context or {})
        pruned = prune(specs, answers, vis)
        if pruned == current:
            break
        current = pruned
    return vis, failures


def prune(specs: list[FieldSpec], answers: Mapping[str, Any], vis: Visibility) -> dict[str, Any]:
    """The answers without hidden fields (unknown keys are kept for the caller to report)."""
    by_name = {spec.name: spec for spec in specs}
    out: dict[str, Any] = {}
    for name, value in answers.items():
        spec = by_name.get(name)
        if spec is None:
            out[name] = value
            continue
        if not vis.get(spec.path, True):
            continue
        if spec.kind == "group" and isinstance(value, list):
            value = [_prune_row(spec, index, row, vis) for index, row in enumerate(value)]
        out[name] = value
    return out


def _prune_row(group: FieldSpec, index: int, row: Any, vis: Visibility) -> Any:
    if not isinstance(row, Mapping):
        return row
    return {
        key: value for key, value in row.items() if vis.get(f"{group.path}/{index}/{key}", True)
    }


def _evaluate(
    specs: list[FieldSpec], answers: Mapping[str, Any], context: Mapping[str, Any]
) -> tuple[Visibility, list[RuleFailure]]:
    # The form's own answers win over a "data" key in the context: x-show-if
    # conditions are written against this form's fields.
    doc = {**context, "data": answers}
    vis: Visibility = {}
    failures: list[RuleFailure] = []
    for spec in specs:
        shown = _shown(spec, spec.path, doc, failures)
        vis[spec.path] = shown
        rows = answers.get(spec.name)
        if spec.kind != "group" or not isinstance(rows, list):
            continue
        for index, row in enumerate(rows):
            row_doc = {**doc, "row": row if isinstance(row, Mapping) else {}}
            for child in spec.children:
                path = f"{spec.path}/{index}/{child.name}"
                vis[path] = shown and _shown(child, path, row_doc, failures)
    return vis, failures


def _shown(spec: FieldSpec, path: str, doc: Mapping[str, Any], failures: list[RuleFailure]) -> bool:
    if spec.show_if is None:
        return True
    try:
        return rules.truthy(_compiled(json.dumps(spec.show_if))(doc))
    except rules.RuleError as exc:
        pointer = f"{spec.pointer}/x-show-if{exc.path}"
        failures.append(RuleFailure(path, spec.label, pointer, exc.message))
        return True


@functools.lru_cache(maxsize=1024)
def _compiled(rule_json: str) -> Callable[[Any], Any]:
    compiled: Callable[[Any], Any] = rules.compile(json.loads(rule_json))
    return compiled


def _count(specs: list[FieldSpec]) -> int:
    return sum(1 + len(spec.children) for spec in specs)

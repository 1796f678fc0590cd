"""Pack checks of a ``directory`` definition (名录) beyond its schema: the node kinds it is
kept at, known roles, a positive whole ``min_per_node``, and a title field the form has that
is no personal answer."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import forms
import rules
from engine.core.errors import FieldProblem
from engine.core.i18n import gettext as _
from engine.definitions.checks_common import (
    FormCheck,
    label_of,
    no_field,
    quoted_list,
    role_problems,
)

# The org node kinds a directory may be kept at.
NODE_KINDS = ("district", "street", "community", "compound")


def directory_problems(
    body: Mapping[str, Any], roles: set[str], form: FormCheck
) -> list[FieldProblem]:
    """Problems of a directory definition that passed its schema."""
    problems: list[FieldProblem] = []
    for i, kind in enumerate(body["node_kinds"]):
        if kind not in NODE_KINDS:
            problems.append(
                FieldProblem(
                    f"/node_kinds/{i}",
                    _("'%(kind)s' is no kind of place; a directory is kept at %(known)s")
                    % {"kind": kind, "known": quoted_list(NODE_KINDS)},
                )
            )
        elif kind in body["node_kinds"][:i]:
            problems.append(
                FieldProblem(f"/node_kinds/{i}", _("'%(kind)s' is listed twice") % {"kind": kind})
            )
    for name in ("edit_roles", "read_roles", "personal_roles"):
        problems += role_problems(body.get(name), f"/{name}", roles)
    if "min_per_node" in body:
        least = body["min_per_node"]
        if isinstance(least, bool) or not isinstance(least, int) or least < 1:
            problems.append(
                FieldProblem(
                    "/min_per_node",
                    _(
                        "The least number of entries per place must be a whole number of at least 1, not %(value)s"
                    )
                    % {"value": json.dumps(least, ensure_ascii=False)},
                )
            )
    schema_problems = form(body["schema"], "/schema")
    problems += schema_problems
    props = body["schema"].get("properties") if isinstance(body["schema"], Mapping) else None
    props = props if isinstance(props, Mapping) else {}
    if not schema_problems:
        title = props.get(body["title_field"])
        if not isinstance(title, Mapping):
            problems.append(FieldProblem("/title_field", no_field(body["title_field"])))
        elif title.get("x-personal") is True:
            problems.append(
                FieldProblem(
                    "/title_field",
                    _("'%(field)s' is a personal answer; the title is shown to every reader")
                    % {"field": label_of(props, body["title_field"])},
                )
            )
    return problems


# The facts of a directory besides its sums and option counts (docs/facts.md).
PLAIN_FACTS = ("entries", "nodes", "nodes_with_entries", "nodes_at_min", "at_min_rate")


def counted_fields(schema: Any) -> tuple[list[str], dict[str, list[str]]]:
    """The number fields (summed) and the single-choice fields with their options (counted)
    of a valid entry form; personal answers are neither."""
    numbers: list[str] = []
    choices: dict[str, list[str]] = {}
    for spec in forms.field_specs(schema):
        if spec.personal or spec.children:
            continue
        if spec.value_type in ("integer", "number") and not spec.options:
            numbers.append(spec.name)
        elif spec.options and spec.kind not in ("checkboxes", "multi"):
            choices[spec.name] = [str(value) for value, _label in spec.options]
    return numbers, choices


def _fact_problem(rest: list[str], body: Mapping[str, Any]) -> str | None:
    numbers, choices = counted_fields(body["schema"])
    if not rest:
        return _("'%(name)s' names no fact of the directory")
    head = rest[0]
    if head in PLAIN_FACTS and len(rest) == 1:
        return None
    if head == "sum" and len(rest) == 2 and rest[1] in numbers:
        return None
    if head in ("by", "share") and len(rest) == 3 and rest[2] in choices.get(rest[1], []):
        return None
    return _("'%(name)s' is no fact of the directory")


def directory_reads_problems(
    body: Mapping[str, Any], directories: Mapping[str, Mapping[str, Any]]
) -> list[FieldProblem]:
    """Index formulas and KPI measures read only ``directories.<key>.…`` facts that exist:
    a directory of the pack, and a fact it has (a typo would measure no data).

    :param directories: the pack's directory bodies (that passed their checks), by key.
    """
    rules_at: list[tuple[str, Any]] = []
    if body["kind"] == "index":
        rules_at = [
            (f"/dimensions/{d}/indicators/{i}/formula", ind["formula"])
            for d, dim in enumerate(body["dimensions"])
            for i, ind in enumerate(dim["indicators"])
        ]
    elif body["kind"] == "checklist":
        rules_at = [
            (f"/rows/{i}/measure", r["measure"])
            for i, r in enumerate(body.get("rows", []))
            if "measure" in r
        ]
    problems = []
    for at, rule in rules_at:
        for name in sorted(rules.vars_used(rule)):
            head, *rest = name.split(".")
            if head != "directories":
                continue
            key = rest[0] if rest else ""
            if key not in directories:
                problems.append(
                    FieldProblem(
                        at,
                        _("The rule reads '%(name)s', but the pack has no directory '%(key)s'")
                        % {"name": name, "key": key},
                    )
                )
                continue
            wrong = _fact_problem(rest[1:], directories[key])
            if wrong:
                problems.append(FieldProblem(at, wrong % {"name": name}))
    return problems

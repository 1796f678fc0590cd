"""A transition's guard message, ``to_if`` branches and ``set`` effects, as workflow-editor rows.

Branch conditions name answers with their source (``data.x`` the item's answers,
``form.x`` the transition form's). A ``set`` row writes a field (satisfaction, priority or
``data.<field>``) from a constant or an answer; a value the rows cannot show (a
hand-written rule) is kept as written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from forms.builder import FieldRow, parse_value, rows_from_schema, value_text, value_type_of
from pages.designer import conditions

SETTABLE = ("satisfaction", "priority")
BLANK_SETS = 1


def answer_fields(body: Mapping[str, Any], spec: Mapping[str, Any]) -> list[FieldRow]:
    """The item's answers and the transition form's, named with their source."""
    data = rows_from_schema(body.get("schema") or {}).rows
    own = rows_from_schema(spec.get("form") or {}).rows
    return [replace(r, name=f"data.{r.name}", label=r.label or r.name) for r in data] + [
        replace(r, name=f"form.{r.name}", label=_("Form: %(label)s", label=r.label or r.name))
        for r in own
    ]


def _known(fields: list[FieldRow]) -> set[str]:
    return {f.name for f in fields}


def set_targets(body: Mapping[str, Any]) -> list[tuple[str, str]]:
    data = rows_from_schema(body.get("schema") or {}).rows
    return [("satisfaction", _("Satisfaction")), ("priority", _("Priority"))] + [
        (f"data.{r.name}", r.label or r.name) for r in data
    ]


def set_rows(assignments: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each assignment as a row: target, source (const / answer / raw), its text."""
    rows = []
    for name, rule in assignments.items():
        if (
            isinstance(rule, Mapping)
            and list(rule) == ["var"]
            and isinstance(rule["var"], str)
            and rule["var"].split(".", 1)[0] in ("data", "form")
        ):
            rows.append({"target": name, "source": "answer", "answer": rule["var"], "const": ""})
        elif isinstance(rule, Mapping | list):
            rows.append(
                {
                    "target": name,
                    "source": "raw",
                    "answer": "",
                    "const": json.dumps(rule, ensure_ascii=False),
                }
            )
        else:
            rows.append(
                {"target": name, "source": "const", "answer": "", "const": value_text(rule)}
            )
    return rows + [{"target": "", "source": "const", "answer": "", "const": ""}] * BLANK_SETS


def _const(target: str, text: str, body: Mapping[str, Any]) -> Any:
    if target in SETTABLE:
        return parse_value(text, "integer")
    data = {r.name: r for r in rows_from_schema(body.get("schema") or {}).rows}
    return parse_value(text, value_type_of(data.get(target.removeprefix("data."))))


def posted_sets(
    form: MultiDict[str, str], prefix: str, old: Mapping[str, Any], body: Mapping[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    k = 0
    while f"{prefix}-set-{k}-target" in form:
        at = f"{prefix}-set-{k}"
        k += 1
        target, source = form.get(f"{at}-target", ""), form.get(f"{at}-source", "const")
        if not target or form.get(f"{at}-delete"):
            continue
        if source == "raw":
            if target in old:
                out[target] = old[target]
        elif source == "answer":
            if form.get(f"{at}-answer"):
                out[target] = {"var": form[f"{at}-answer"]}
        else:
            out[target] = _const(target, form.get(f"{at}-const", ""), body)
    return out


def apply_extras(
    spec: dict[str, Any],
    form: MultiDict[str, str],
    i: int,
    body: Mapping[str, Any],
    context: Sequence[FieldRow] = (),
) -> None:
    """Guard message, confirmation and ``to_if`` branches of transition ``i`` from the posted form."""
    prefix = f"tr-{i}"
    message = form.get(f"{prefix}-guard_message", "").strip()
    spec.pop("guard_message", None)
    if message:
        spec["guard_message"] = message
    if f"{prefix}-confirm" in form:  # a question to answer yes to first (撤销)
        spec.pop("confirm", None)
        if form[f"{prefix}-confirm"].strip():
            spec["confirm"] = form[f"{prefix}-confirm"].strip()[:200]
    fields = answer_fields(body, spec)
    old = list(spec.get("to_if") or [])
    branches = []
    j = 0
    while f"{prefix}-if{j}-to" in form:
        at = f"{prefix}-if{j}"
        before = old[j]["when"] if j < len(old) else None
        j += 1
        if form.get(f"{at}-delete"):
            continue
        when = conditions.posted(
            form, f"tr{i}-if{j - 1}", fields, before, "", _known(fields), context
        )
        if when is not None and form.get(f"{at}-to"):
            branches.append(
                {**(old[j - 1] if j - 1 < len(old) else {}), "when": when, "to": form[f"{at}-to"]}
            )
    spec.pop("to_if", None)
    if branches:
        spec["to_if"] = branches


def extras_context(
    body: Mapping[str, Any], spec: Mapping[str, Any], i: int, context: Sequence[FieldRow] = ()
) -> dict[str, Any]:
    fields = answer_fields(body, spec)
    branches = [*(spec.get("to_if") or []), {"when": None, "to": ""}]
    sets = next((e["set"] for e in spec.get("effects") or [] if "set" in e), {})
    return {
        "fields": fields,
        "cond_fields": [*fields, *context],
        "branches": [
            {
                "to": b.get("to", ""),
                "when": conditions.editor(
                    f"tr{i}-if{j}", b.get("when"), "", _known(fields), context
                ),
            }
            for j, b in enumerate(branches)
        ],
        "sets": set_rows(sets),
        "set_targets": set_targets(body),
    }

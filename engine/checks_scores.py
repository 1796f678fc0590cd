"""Whole-definition checks for the kinds that score org nodes: ``index`` and ``checklist``.

Structure is checked by the pack schema first; these add what a schema cannot say
(unique keys, every rule valid, a normalisation range that is a range, known units).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.checks_common import duplicate_keys, rule_problems
from engine.errors import FieldProblem


def index_problems(body: Mapping[str, Any]) -> list[FieldProblem]:
    """Problems of an index (三方强基指数) beyond its structure."""
    dimensions = body["dimensions"]
    problems = duplicate_keys(((f"/dimensions/{d}", x["key"]) for d, x in enumerate(dimensions)), "dimension")
    problems += duplicate_keys(((f"/dimensions/{d}/indicators/{i}", x["key"])
                                for d, dim in enumerate(dimensions) for i, x in enumerate(dim["indicators"])),
                               "indicator")
    total_weight = 0.0
    for d, dimension in enumerate(dimensions):
        for i, indicator in enumerate(dimension["indicators"]):
            at = f"/dimensions/{d}/indicators/{i}"
            problems += rule_problems(indicator["formula"], f"{at}/formula")
            low, high = indicator["normalise"]["min"], indicator["normalise"]["max"]
            if low >= high:
                problems.append(FieldProblem(f"{at}/normalise", f"min {low} must be below max {high}"))
            elif not low <= indicator["target"] <= high:
                problems.append(FieldProblem(f"{at}/target", f"target {indicator['target']} lies outside {low}..{high}"))
            total_weight += indicator["weight"]
    if body["dimensions"] and total_weight <= 0:
        problems.append(FieldProblem("/dimensions", "the weights add up to zero"))
    return problems


def checklist_problems(body: Mapping[str, Any], units: set[str]) -> list[FieldProblem]:
    """Problems of a checklist (任务清单 …, or the KPI list) beyond its structure."""
    problems: list[FieldProblem] = []
    if body["list_kind"] != "kpi":
        if "row_schema" not in body:
            problems.append(FieldProblem("/row_schema", f"a {body['list_kind']} list needs a row_schema"))
            return problems
        fields = body["row_schema"].get("properties", {})
        status = fields.get(body.get("status_field", "status"), {})
        missing = [v for v in body.get("done_values", ["已完成"]) if v not in status.get("enum", [])]
        if missing:
            problems.append(FieldProblem("/done_values", f"the status field offers no {missing[0]!r}"))
        deadline = body.get("deadline_field", "deadline")
        if deadline not in fields:
            problems.append(FieldProblem("/deadline_field", f"the row form has no field {deadline!r}"))
        return problems
    if not body.get("rows"):
        return [FieldProblem("/rows", "a kpi list needs rows")]
    problems += duplicate_keys(((f"/rows/{i}", r["key"]) for i, r in enumerate(body["rows"])), "row")
    for i, row in enumerate(body["rows"]):
        at = f"/rows/{i}"
        for j, unit in enumerate(row["lead"]):
            if unit not in units:
                problems.append(FieldProblem(f"{at}/lead/{j}", f"org node {unit!r} does not exist"))
        for j, spec in enumerate(row.get("responsible_units", [])):
            if "unit" in spec and spec["unit"] not in units:
                problems.append(FieldProblem(f"{at}/responsible_units/{j}/unit",
                                             f"org node {spec['unit']!r} does not exist"))
        if ("measure" in row) != ("goal" in row):
            problems.append(FieldProblem(at, "a measurable row needs both measure and goal"))
        if "measure" in row:
            problems += rule_problems(row["measure"], f"{at}/measure")
    return problems

"""Whole-definition checks for what scores org nodes: ``index``, ``checklist`` and the facts
a ``profile`` declares.

Structure is checked by the pack schema first; these add what a schema cannot say
(unique keys, every rule valid, a normalisation range that is a range, known units).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import rules
from engine.core.errors import FieldProblem
from engine.core.i18n import gettext as _
from engine.definitions.checks_common import (
    duplicate_keys,
    label_of,
    no_field,
    no_node,
    quoted_list,
    rule_problems,
)
from engine.definitions.profile_facts import AGGREGATES, RESERVED, field_default


def no_fact(name: str) -> str:
    """The compound profile declares no fact ``name``."""
    return _("'%(name)s' is no fact the compound's file declares") % {"name": name}


def index_problems(body: Mapping[str, Any]) -> list[FieldProblem]:
    """Problems of an index (三方强基指数) beyond its structure."""
    dimensions = body["dimensions"]
    problems = duplicate_keys(
        ((f"/dimensions/{d}", x["key"]) for d, x in enumerate(dimensions)),
        _("Two dimensions have the key '%(key)s'"),
    )
    problems += duplicate_keys(
        (
            (f"/dimensions/{d}/indicators/{i}", x["key"])
            for d, dim in enumerate(dimensions)
            for i, x in enumerate(dim["indicators"])
        ),
        "indicator",
    )
    total_weight = 0.0
    for d, dimension in enumerate(dimensions):
        for i, indicator in enumerate(dimension["indicators"]):
            at = f"/dimensions/{d}/indicators/{i}"
            problems += rule_problems(indicator["formula"], f"{at}/formula")
            low, high = indicator["normalise"]["min"], indicator["normalise"]["max"]
            if low >= high:
                problems.append(
                    FieldProblem(
                        f"{at}/normalise",
                        _("The lowest value %(low)s must be below the highest %(high)s")
                        % {"low": low, "high": high},
                    )
                )
            elif not low <= indicator["target"] <= high:
                problems.append(
                    FieldProblem(
                        f"{at}/target",
                        _("The target %(target)s lies outside %(low)s to %(high)s")
                        % {"target": indicator["target"], "low": low, "high": high},
                    )
                )
            total_weight += indicator["weight"]
    if body["dimensions"] and total_weight <= 0:
        problems.append(FieldProblem("/dimensions", _("The weights add up to zero")))
    return problems


def checklist_problems(body: Mapping[str, Any], units: set[str]) -> list[FieldProblem]:
    """Problems of a checklist (任务清单 …, or the KPI list) beyond its structure."""
    problems: list[FieldProblem] = []
    if body["list_kind"] != "kpi":
        if "row_schema" not in body:
            problems.append(FieldProblem("/row_schema", _("This list needs a form for its rows")))
            return problems
        fields = body["row_schema"].get("properties", {})
        status = fields.get(body.get("status_field", "status"), {})
        if "done_values" not in body:
            problems.append(
                FieldProblem(
                    "/done_values",
                    _("This list needs the statuses of a finished row"),
                )
            )
        missing = [v for v in body.get("done_values", []) if v not in status.get("enum", [])]
        if missing:
            problems.append(
                FieldProblem(
                    "/done_values",
                    _("The status field '%(field)s' offers no '%(value)s'")
                    % {
                        "field": label_of(fields, body.get("status_field", "status")),
                        "value": missing[0],
                    },
                )
            )
        deadline = body.get("deadline_field", "deadline")
        if deadline not in fields:
            problems.append(FieldProblem("/deadline_field", no_field(deadline)))
        return problems
    if not body.get("rows"):
        return [FieldProblem("/rows", _("A list of performance targets needs rows"))]
    period = _period_bounds(body)
    if period is not None and period[0] > period[1]:
        problems.append(
            FieldProblem(
                "/period",
                _("The period ends on %(end)s, before it starts on %(start)s")
                % {"end": period[1], "start": period[0]},
            )
        )
        period = None
    problems += duplicate_keys(
        ((f"/rows/{i}", r["key"]) for i, r in enumerate(body["rows"])),
        _("Two rows have the key '%(key)s'"),
    )
    for i, row in enumerate(body["rows"]):
        at = f"/rows/{i}"
        for j, unit in enumerate(row["lead"]):
            if unit not in units:
                problems.append(FieldProblem(f"{at}/lead/{j}", no_node(unit)))
        for j, spec in enumerate(row.get("responsible_units", [])):
            if "unit" in spec and spec["unit"] not in units:
                problems.append(
                    FieldProblem(
                        f"{at}/responsible_units/{j}/unit",
                        no_node(spec["unit"]),
                    )
                )
        if ("measure" in row) != ("goal" in row):
            problems.append(
                FieldProblem(at, _("A measured row needs both its measure and its goal"))
            )
        if "measure" in row:
            problems += rule_problems(row["measure"], f"{at}/measure")
        if "measures" in row and ("measure" in row or "goal" in row):
            problems.append(
                FieldProblem(
                    f"{at}/measures",
                    _("A row has either one measure with a goal, or a list of measures"),
                )
            )
        for j, spec in enumerate(row.get("measures", [])):
            problems += rule_problems(spec["measure"], f"{at}/measures/{j}/measure")
        if period is not None and not period[0] <= row["deadline"] <= period[1]:
            problems.append(
                FieldProblem(
                    f"{at}/deadline",
                    _(
                        "The deadline %(deadline)s lies outside the list's period, "
                        "%(start)s to %(end)s"
                    )
                    % {"deadline": row["deadline"], "start": period[0], "end": period[1]},
                )
            )
    return problems


def _period_bounds(body: Mapping[str, Any]) -> tuple[str, str] | None:
    """The list's period as ISO dates (first, last), or None without one."""
    spec = body.get("period")
    if not spec:
        return None
    if "year" in spec:
        return f"{spec['year']:04d}-01-01", f"{spec['year']:04d}-12-31"
    return spec["start"], spec["end"]


def _token(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _aggregate_problems(
    spec: Any, at: str, kind: str | None, choices: bool, numbers: set[str]
) -> list[FieldProblem]:
    """One aggregate (``x-aggregate`` of a field, ``aggregate`` of a derived fact).

    :param kind: the field's schema type; None for a derived fact (any aggregate fits).
    :param choices: whether the fact has choices to count (``options``).
    :param numbers: the facts a weighted mean may weigh by.
    """
    if isinstance(spec, Mapping):
        weight = spec.get("mean_by")
        if set(spec) != {"mean_by"} or not isinstance(weight, str):
            return [FieldProblem(at, _("A weighted mean names the one fact it weighs by"))]
        if weight not in numbers:
            return [
                FieldProblem(
                    f"{at}/mean_by",
                    _("There is no number '%(name)s' to weigh by; known: %(known)s")
                    % {"name": weight, "known": quoted_list(sorted(numbers))},
                )
            ]
        spec = "mean"
    if spec not in AGGREGATES:
        return [
            FieldProblem(
                at,
                _("'%(name)s' is no way to sum up; known: %(known)s")
                % {"name": spec, "known": quoted_list(AGGREGATES)},
            )
        ]
    if spec == "options" and not choices:
        return [FieldProblem(at, _("Counting by choice needs choices: this fact has none"))]
    fits = {
        "boolean": ("share", "count", "none"),
        "integer": ("sum", "mean", "count", "none"),
        "number": ("sum", "mean", "count", "none"),
        "string": ("count", "options", "none"),
        "array": ("sum", "mean", "count", "options", "none"),
    }
    if kind is not None and spec not in fits.get(kind, AGGREGATES):
        return [
            FieldProblem(
                at,
                _("This field cannot be summed up as '%(name)s'; it may be: %(known)s")
                % {"name": spec, "known": quoted_list(fits[kind])},
            )
        ]
    return []


def _reads_problems(
    rule: Any, at: str, namespace: str, known: set[str], extra: tuple[str, ...] = ()
) -> list[FieldProblem]:
    problems = []
    for name in sorted(rules.vars_used(rule)):
        head, _dot, rest = name.partition(".")
        if name in extra or (head == namespace and rest.split(".")[0] in known):
            continue
        problems.append(
            FieldProblem(
                at,
                _("The rule reads '%(name)s', which is no fact it may read; known: %(known)s")
                % {
                    "name": name,
                    "known": quoted_list([f"{namespace}.{k}" for k in sorted(known)] + list(extra)),
                },
            )
        )
    return problems


def profile_fact_problems(body: Mapping[str, Any]) -> list[FieldProblem]:
    """The facts a profile definition declares: field aggregates, derived and area facts.

    Keys are unique and collide with no field; every rule is valid and reads only facts
    declared before it (``profile.<field or fact>``, ``roles``; ``coverage.<fact>``).
    """
    props = body["schema"].get("properties", {})
    if not isinstance(props, Mapping):
        return []
    problems: list[FieldProblem] = []
    numbers = {
        n
        for n, p in props.items()
        if isinstance(p, Mapping) and p.get("type") in ("integer", "number", "array")
    }
    known = set(props)
    aggregated = set()
    for name, prop in props.items():
        if not isinstance(prop, Mapping):
            continue
        spec = prop.get("x-aggregate", field_default(prop))
        at = f"/schema/properties/{_token(name)}/x-aggregate"
        found = _aggregate_problems(
            spec, at, prop.get("type"), field_default(prop) == "options", numbers
        )
        problems += found
        if spec != "none":
            aggregated.add(name)
            if name in RESERVED:
                problems.append(
                    FieldProblem(
                        at,
                        _(
                            "'%(name)s' is the number of compounds: rename the field, "
                            "or do not sum it up"
                        )
                        % {"name": f"coverage.{name}"},
                    )
                )
    facts = body.get("facts", [])
    for i, spec in enumerate(facts):
        at = f"/facts/{i}"
        if spec["key"] in known:
            already = (
                _("The file already has a field '%(key)s'")
                if spec["key"] in props
                else _("The file already has a fact '%(key)s'")
            )
            problems.append(FieldProblem(f"{at}/key", already % {"key": spec["key"]}))
        rule_found = rule_problems(spec["rule"], f"{at}/rule")
        problems += rule_found or _reads_problems(
            spec["rule"], f"{at}/rule", "profile", known, ("roles",)
        )
        if "aggregate" in spec:
            problems += _aggregate_problems(
                spec["aggregate"],
                f"{at}/aggregate",
                None,
                bool(spec.get("options")),
                numbers | {f["key"] for f in facts[:i]},
            )
        if spec.get("aggregate", "none") != "none":
            aggregated.add(spec["key"])
            if spec["key"] in RESERVED:
                problems.append(
                    FieldProblem(
                        f"{at}/aggregate",
                        _("'%(name)s' is the number of compounds")
                        % {"name": f"coverage.{spec['key']}"},
                    )
                )
        known.add(spec["key"])
        numbers.add(spec["key"])
    area_known = aggregated | set(RESERVED)
    for i, spec in enumerate(body.get("coverage", [])):
        at = f"/coverage/{i}"
        if spec["key"] in area_known:
            problems.append(
                FieldProblem(
                    f"{at}/key",
                    _("'%(name)s' is already a fact") % {"name": f"coverage.{spec['key']}"},
                )
            )
        problems += rule_problems(spec["rule"], f"{at}/rule") or _reads_problems(
            spec["rule"], f"{at}/rule", "coverage", area_known
        )
        area_known.add(spec["key"])
    return problems


def declared_names(profile: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """The ``profile.`` and ``coverage.`` names a valid compound profile definition declares."""
    props = profile["schema"].get("properties", {})
    facts = profile.get("facts", [])
    names = set(props) | {f["key"] for f in facts}
    aggregated = {n for n, p in props.items() if p.get("x-aggregate", field_default(p)) != "none"}
    aggregated |= {f["key"] for f in facts if f.get("aggregate", "none") != "none"}
    return names, aggregated | set(RESERVED) | {a["key"] for a in profile.get("coverage", [])}


def fact_reads_problems(body: Mapping[str, Any], profile: Mapping[str, Any]) -> list[FieldProblem]:
    """Index formulas, the index roll-up and KPI measures read only the ``profile.`` and
    ``coverage.`` facts the pack's compound profile declares (a typo would score no data)."""
    names, area = declared_names(profile)
    known = {"profile": names, "coverage": area}
    rules_at: list[tuple[str, Any]] = []
    if body["kind"] == "index":
        rules_at = [
            (f"/dimensions/{d}/indicators/{i}/formula", ind["formula"])
            for d, dim in enumerate(body["dimensions"])
            for i, ind in enumerate(dim["indicators"])
        ]
        if isinstance(body.get("rollup"), Mapping):
            rules_at.append(("/rollup/mean_by", {"var": body["rollup"]["mean_by"]}))
    elif body["kind"] == "checklist":
        rules_at = [
            (f"/rows/{i}/measure", r["measure"])
            for i, r in enumerate(body.get("rows", []))
            if "measure" in r
        ] + [
            (f"/rows/{i}/measures/{j}/measure", m["measure"])
            for i, r in enumerate(body.get("rows", []))
            for j, m in enumerate(r.get("measures", []))
        ]
    problems = []
    if body["kind"] == "index":  # evidence names file facts, shown by their labels
        for d, dim in enumerate(body["dimensions"]):
            for i, ind in enumerate(dim["indicators"]):
                for j, name in enumerate(ind.get("evidence", {}).get("profile", [])):
                    if name not in names:
                        problems.append(
                            FieldProblem(
                                f"/dimensions/{d}/indicators/{i}/evidence/profile/{j}",
                                no_fact(name),
                            )
                        )
    for at, rule in rules_at:
        for name in sorted(rules.vars_used(rule)):
            head, _dot, rest = name.partition(".")
            if head in known and rest.split(".")[0] not in known[head]:
                problems.append(FieldProblem(at, no_fact(name)))
    return problems

"""What the pack schema cannot see in meeting (议事会) and opinion (征求意见) definitions,
and in the gates (先议先审) of an item type's workflow."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import forms
from engine.core.errors import FieldProblem
from engine.definitions.checks_common import duplicate_keys, role_problems, rule_problems

# The most meetings a cadence's period may ask for: a cap against typos (count 100 a month).
MAX_COUNT = {"month": 10, "quarter": 30, "half": 60, "year": 120}
DEFAULT_REASONS = "reasons"
# What each outcome kind must name (docs/pack-format.md, "Meetings and opinion collections").
OUTCOME_NEEDS = {"item": "type", "poll": "definition"}


def _outcomes(outcomes: list[Mapping[str, Any]]) -> list[FieldProblem]:
    problems = duplicate_keys(
        ((f"/outcomes/{i}", o["key"]) for i, o in enumerate(outcomes)), "outcome"
    )
    for i, outcome in enumerate(outcomes):
        at = f"/outcomes/{i}"
        needs = OUTCOME_NEEDS[outcome["kind"]]
        if needs not in outcome:
            problems.append(
                FieldProblem(at, f"an outcome of kind {outcome['kind']} names its {needs}")
            )
        if "data" in outcome and outcome["kind"] != "item":
            problems.append(FieldProblem(f"{at}/data", "only an item outcome fills answers"))
        for name, rule in outcome.get("data", {}).items():
            problems += rule_problems(rule, f"{at}/data/{name}")
    return problems


def _cadence(cadence: Any) -> list[FieldProblem]:
    """A cadence's count fits its period (the schema checked the period and the type)."""
    if not isinstance(cadence, Mapping) or cadence.get("period") not in MAX_COUNT:
        return []
    most = MAX_COUNT[cadence["period"]]
    count = cadence.get("count", 1)
    if isinstance(count, int) and count > most:
        return [
            FieldProblem(
                "/cadence/count", f"at most {most} meetings a {cadence['period']}, not {count}"
            )
        ]
    return []


def decision_kind_problems(body: Mapping[str, Any], roles: set[str]) -> list[FieldProblem]:
    """Problems of a ``meeting`` or ``opinion`` body that passed the pack schema."""
    problems = [
        FieldProblem("/schema" + p.path, p.message) for p in forms.check_schema(body["schema"])
    ]
    for field in ("convene_roles", "parties", "open_roles", "answer_roles"):
        problems += role_problems(body.get(field, []), f"/{field}", roles)
    problems += _cadence(body.get("cadence"))
    return problems + _outcomes(body.get("outcomes", []))


def gate_problems(workflow: Mapping[str, Any], roles: set[str]) -> list[FieldProblem]:
    """A gate state is left only by decision transitions, taken by the gate's roles, each
    asking for the reasons; a decision is taken only at a gate."""
    states: Mapping[str, Any] = workflow["states"]
    problems: list[FieldProblem] = []
    for name, state in states.items():
        if "gate" in state:
            problems += role_problems(
                state["gate"]["roles"], f"/workflow/states/{name}/gate/roles", roles
            )
    for i, tr in enumerate(workflow["transitions"]):
        at = f"/workflow/transitions/{i}"
        gates = [states[s]["gate"] for s in tr["from"] if s in states and "gate" in states[s]]
        if "decision" not in tr:
            if gates:
                problems.append(
                    FieldProblem(at, "a transition leaving a gate state must record a decision")
                )
            continue
        if len(gates) != len(tr["from"]):
            problems.append(
                FieldProblem(f"{at}/decision", "a decision is taken only from gate states")
            )
            continue
        for gate in gates:
            outside = [r for r in tr["roles"] if r not in gate["roles"]]
            if outside:
                problems.append(
                    FieldProblem(f"{at}/roles", f"only the gate's roles decide, not {outside[0]!r}")
                )
            reasons = gate.get("reasons", DEFAULT_REASONS)
            form = tr.get("form") if isinstance(tr.get("form"), Mapping) else {}
            if reasons not in (form.get("required") or []) or reasons not in (
                form.get("properties") or {}
            ):
                problems.append(
                    FieldProblem(
                        f"{at}/form", f"a decision asks for its reasons: required field {reasons!r}"
                    )
                )
    return problems


def gate_of(body: Mapping[str, Any], state: str) -> Mapping[str, Any] | None:
    """The gate of ``state`` in an item type's body, or None."""
    spec = body.get("workflow", {}).get("states", {}).get(state)
    return spec.get("gate") if isinstance(spec, Mapping) else None

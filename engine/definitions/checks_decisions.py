"""What the pack schema cannot see in meeting (议事会) and opinion (征求意见) definitions,
and in the gates (先议先审) of an item type's workflow."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import forms
from engine.core.errors import FieldProblem
from engine.core.i18n import gettext as _
from engine.definitions.checks_common import (
    duplicate_keys,
    label_of,
    role_problems,
    rule_problems,
)

# The most meetings a cadence's period may ask for: a cap against typos (count 100 a month).
MAX_COUNT = {"month": 10, "quarter": 30, "half": 60, "year": 120}
DEFAULT_REASONS = "reasons"
PER_PERIOD = {
    "month": lambda: _("At most %(most)s meetings a month, not %(count)s"),
    "quarter": lambda: _("At most %(most)s meetings a quarter, not %(count)s"),
    "half": lambda: _("At most %(most)s meetings a half-year, not %(count)s"),
    "year": lambda: _("At most %(most)s meetings a year, not %(count)s"),
}
# What each outcome kind must name (docs/pack-format.md, "Meetings and opinion collections").
OUTCOME_NEEDS = {"item": "type", "poll": "definition"}
# Why an outcome lacks it, in the admin's words.
OUTCOME_MISSING = {
    "item": lambda: _("An outcome that raises an item names its item type"),
    "poll": lambda: _("An outcome that opens a vote names the vote's definition"),
}


def _outcomes(outcomes: list[Mapping[str, Any]]) -> list[FieldProblem]:
    problems = duplicate_keys(
        ((f"/outcomes/{i}", o["key"]) for i, o in enumerate(outcomes)),
        _("Two outcomes have the key '%(key)s'"),
    )
    for i, outcome in enumerate(outcomes):
        at = f"/outcomes/{i}"
        needs = OUTCOME_NEEDS[outcome["kind"]]
        if needs not in outcome:
            problems.append(FieldProblem(at, OUTCOME_MISSING[outcome["kind"]]()))
        if "data" in outcome and outcome["kind"] != "item":
            problems.append(
                FieldProblem(f"{at}/data", _("Only an outcome that raises an item fills answers"))
            )
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
                "/cadence/count",
                PER_PERIOD[cadence["period"]]() % {"most": most, "count": count},
            )
        ]
    return []


def decision_kind_problems(body: Mapping[str, Any], roles: set[str]) -> list[FieldProblem]:
    """Problems of a ``meeting`` or ``opinion`` body that passed the pack schema."""
    problems = [
        FieldProblem("/schema" + p.path, p.message)
        for p in forms.check_schema(body["schema"], gettext=_)
    ]
    for field in ("convene_roles", "parties", "open_roles", "answer_roles"):
        problems += role_problems(body.get(field, []), f"/{field}", roles)
    problems += _cadence(body.get("cadence"))
    return problems + _outcomes(body.get("outcomes", []))


def gate_problems(
    workflow: Mapping[str, Any], roles: set[str], role_names: Mapping[str, str] | None = None
) -> list[FieldProblem]:
    """A gate state is left only by decision transitions, taken by the gate's roles, each
    asking for the reasons; a decision is taken only at a gate.

    :param role_names: role key → label, to name a role in a message by its label.
    """
    states: Mapping[str, Any] = workflow["states"]
    problems: list[FieldProblem] = []
    for name, state in states.items():
        if "gate" in state:
            problems += role_problems(
                state["gate"]["roles"], f"/workflow/states/{name}/gate/roles", roles
            )
    for i, tr in enumerate(workflow["transitions"]):
        at = f"/workflow/transitions/{i}"
        name = tr.get("label") or tr["key"]
        gates = [states[s]["gate"] for s in tr["from"] if s in states and "gate" in states[s]]
        if "decision" not in tr:
            if gates:
                problems.append(
                    FieldProblem(
                        at,
                        _(
                            "The transition '%(name)s' leaves a gate state: it must record a decision"
                        )
                        % {"name": name},
                    )
                )
            continue
        if len(gates) != len(tr["from"]):
            problems.append(
                FieldProblem(
                    f"{at}/decision",
                    _("The transition '%(name)s' records a decision: it may leave only gate states")
                    % {"name": name},
                )
            )
            continue
        for gate in gates:
            outside = [r for r in tr["roles"] if r not in gate["roles"]]
            if outside:
                problems.append(
                    FieldProblem(
                        f"{at}/roles",
                        _("Only the gate's roles decide, not '%(role)s'")
                        % {"role": (role_names or {}).get(outside[0]) or outside[0]},
                    )
                )
            reasons = gate.get("reasons", DEFAULT_REASONS)
            form = tr.get("form") if isinstance(tr.get("form"), Mapping) else {}
            if reasons not in (form.get("required") or []) or reasons not in (
                form.get("properties") or {}
            ):
                problems.append(
                    FieldProblem(
                        f"{at}/form",
                        _(
                            "The transition '%(name)s' records a decision: its form needs the "
                            "required field '%(field)s' for the reasons"
                        )
                        % {"name": name, "field": label_of(form.get("properties"), reasons)},
                    )
                )
    return problems


def gate_of(body: Mapping[str, Any], state: str) -> Mapping[str, Any] | None:
    """The gate of ``state`` in an item type's body, or None."""
    spec = body.get("workflow", {}).get("states", {}).get(state)
    return spec.get("gate") if isinstance(spec, Mapping) else None

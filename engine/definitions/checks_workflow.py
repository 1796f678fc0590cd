"""Whole-definition checks of an item type's workflow (流转), its routing tables (派单) and
escalation steps (超时预警, 督办, 升级), and the warnings the designer's diagram shows."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.core.errors import FieldProblem
from engine.core.i18n import gettext as _
from engine.definitions.checks_common import (
    duplicate_keys,
    form_problems,
    label_of,
    no_node,
    no_state,
    no_table,
    pointer,
    rule_problems,
    unknown_role,
)
from engine.definitions.checks_decisions import gate_problems

PSEUDO_ROLES = ("raiser", "assignee")
SETTABLE = ("satisfaction", "priority")
# The whole numbers a `set` effect may write to each item column (docs/pack-format.md).
SETTABLE_RANGE = {"satisfaction": (1, 5), "priority": (0, 9)}


# Why an escalation filter does not fit the deadline its step watches (``on``).
NOT_FOR_STEP = {
    "tables": lambda: _("A step on a state's deadline cannot pick summonses by routing table"),
    "roles": lambda: _("A step on a state's deadline cannot pick summonses by role"),
    "states": lambda: _("Only a step on a state's deadline picks states"),
}


def settable_problem(name: str, value: Any) -> str | None:
    """Why ``value`` cannot be written to the item column ``name`` by a ``set``, else None."""
    if name not in SETTABLE_RANGE or value is None:
        return None
    low, high = SETTABLE_RANGE[name]
    whole = (
        isinstance(value, int)
        and not isinstance(value, bool)
        or isinstance(value, float)
        and value.is_integer()
    )
    if not whole or not low <= value <= high:
        shown = value if isinstance(value, str) else json.dumps(value, default=str)
        shown = shown if len(shown) <= 40 else shown[:40] + "…"
        column = _("Satisfaction") if name == "satisfaction" else _("Priority")
        return _(
            "%(column)s must be a whole number from %(low)s to %(high)s (or empty), not %(value)s"
        ) % {"column": column, "low": low, "high": high, "value": shown}
    return None


def escalation_problems(
    steps: list[Mapping[str, Any]],
    states: Mapping[str, Any],
    routing: Mapping[str, Any],
    roles: set[str],
) -> list[FieldProblem]:
    """Escalation steps (超时预警, 督办, 升级): keys, offsets, filters and actions."""
    problems = duplicate_keys(
        ((f"/escalation/{i}", s["key"]) for i, s in enumerate(steps)),
        _("Two escalation steps have the key '%(key)s'"),
    )
    for i, step in enumerate(steps):
        at = f"/escalation/{i}"
        if ("before_hours" in step) == ("after_hours" in step):
            both = "before_hours" in step
            problems.append(
                FieldProblem(
                    at,
                    _("Give either the hours before the deadline or the hours after it, not both")
                    if both
                    else _("Give the hours before the deadline or the hours after it"),
                )
            )
        on_state = step["on"] == "state"
        for name in ("tables", "roles") if on_state else ("states",):
            if name in step:
                problems.append(FieldProblem(f"{at}/{name}", NOT_FOR_STEP[name]()))
        for j, state in enumerate(step.get("states", [])):
            if state not in states:
                problems.append(FieldProblem(f"{at}/states/{j}", no_state(state)))
            elif states[state].get("final") or "hours" not in states[state]:
                problems.append(
                    FieldProblem(
                        f"{at}/states/{j}",
                        _("The state '%(state)s' has no deadline (hours)")
                        % {"state": label_of(states, state)},
                    )
                )
        for j, table in enumerate(step.get("tables", [])):
            if table not in routing:
                problems.append(FieldProblem(f"{at}/tables/{j}", no_table(table)))
        for j, role in enumerate(step.get("roles", [])):
            if role not in roles:
                problems.append(FieldProblem(f"{at}/roles/{j}", unknown_role(role)))
        for j, action in enumerate(step["do"]):
            if "summon" in action and action["summon"] not in routing:
                problems.append(FieldProblem(f"{at}/do/{j}/summon", no_table(action["summon"])))
            for k, role in enumerate(action.get("notify", {}).get("roles", [])):
                if role not in roles and role not in PSEUDO_ROLES:
                    problems.append(
                        FieldProblem(f"{at}/do/{j}/notify/roles/{k}", unknown_role(role))
                    )
    return problems


def _effects_problems(
    effects: list[Mapping[str, Any]], path: str, routing: Mapping[str, Any], roles: set[str]
) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    for i, effect in enumerate(effects):
        at = f"{path}/{i}"
        if "summon" in effect and effect["summon"] not in routing:
            problems.append(FieldProblem(f"{at}/summon", no_table(effect["summon"])))
        for j, role in enumerate(effect.get("notify", {}).get("roles", [])):
            if role not in roles and role not in PSEUDO_ROLES:
                problems.append(FieldProblem(f"{at}/notify/roles/{j}", unknown_role(role)))
        for name, rule in effect.get("set", {}).items():
            if name not in SETTABLE and not name.startswith("data."):
                problems.append(
                    FieldProblem(
                        f"{at}/set/{name}",
                        _(
                            "'%(name)s' cannot be set: a transition sets the satisfaction, "
                            "the priority or an answer of the form"
                        )
                        % {"name": name},
                    )
                )
            here = f"{at}/set/{pointer([name])[1:]}"
            # A value written as is (not an operator) is known now: check it fits the column,
            # or the effect fails at run time on every item that takes the transition.
            wrong = None if isinstance(rule, Mapping) else settable_problem(name, rule)
            problems += [FieldProblem(here, wrong)] if wrong else rule_problems(rule, here)
    return problems


def workflow_problems(
    workflow: Mapping[str, Any],
    routing: Mapping[str, Any],
    roles: set[str],
    role_names: Mapping[str, str],
) -> list[FieldProblem]:
    states: Mapping[str, Any] = workflow["states"]
    problems: list[FieldProblem] = []
    if workflow["initial"] not in states:
        problems.append(FieldProblem("/workflow/initial", no_state(workflow["initial"])))
    problems += _effects_problems(
        workflow.get("on_create", []), "/workflow/on_create", routing, roles
    )
    for i, state in enumerate(workflow.get("resolved_states", [])):
        if state not in states:
            problems.append(FieldProblem(f"/workflow/resolved_states/{i}", no_state(state)))
    problems += duplicate_keys(
        ((f"/workflow/transitions/{i}", t["key"]) for i, t in enumerate(workflow["transitions"])),
        _("Two transitions have the key '%(key)s'"),
    )
    edges: dict[str, set[str]] = {name: set() for name in states}
    for i, tr in enumerate(workflow["transitions"]):
        at = f"/workflow/transitions/{i}"
        targets = [(f"{at}/to", tr["to"])] + [
            (f"{at}/to_if/{j}/to", branch["to"]) for j, branch in enumerate(tr.get("to_if", []))
        ]
        for path, target in targets:
            if target not in states:
                problems.append(
                    FieldProblem(
                        path,
                        _("The transition '%(name)s' goes to '%(state)s', which is no state")
                        % {"name": tr.get("label") or tr["key"], "state": target},
                    )
                )
        for j, source in enumerate(tr["from"]):
            if source not in states:
                problems.append(FieldProblem(f"{at}/from/{j}", no_state(source)))
                continue
            if states[source].get("final"):
                problems.append(
                    FieldProblem(
                        f"{at}/from/{j}",
                        _("The state '%(state)s' is final: no transition leaves it")
                        % {"state": label_of(states, source)},
                    )
                )
            edges[source].update(t for _path, t in targets if t in states)
        for j, role in enumerate(tr["roles"]):
            if role not in roles and role not in PSEUDO_ROLES:
                problems.append(FieldProblem(f"{at}/roles/{j}", unknown_role(role)))
        if "guard" in tr:
            problems += rule_problems(tr["guard"], f"{at}/guard")
        for j, branch in enumerate(tr.get("to_if", [])):
            problems += rule_problems(branch["when"], f"{at}/to_if/{j}/when")
        if "form" in tr:
            problems += form_problems(tr["form"], f"{at}/form")
        problems += _effects_problems(tr.get("effects", []), f"{at}/effects", routing, roles)
    problems += gate_problems(workflow, roles, role_names)
    problems += timeout_problems(workflow)
    problems += _graph_problems(workflow["initial"], states, edges)
    return problems


def timeout_problems(workflow: Mapping[str, Any]) -> list[FieldProblem]:
    """A state's ``on_timeout`` names a transition out of it without a form, and the state
    has a deadline; a transition nobody may take by hand is some state's ``on_timeout``."""
    states: Mapping[str, Any] = workflow["states"]
    transitions = {t["key"]: t for t in workflow["transitions"]}
    problems: list[FieldProblem] = []
    timed_out: set[str] = set()
    for name, state in states.items():
        key = state.get("on_timeout")
        if key is None:
            continue
        at = f"/workflow/states/{name}/on_timeout"
        label = label_of(states, name)
        timed_out.add(key)
        if "gate" in state:
            problems.append(
                FieldProblem(
                    at,
                    _("The state '%(state)s' is a gate: people decide there, not the clock")
                    % {"state": label},
                )
            )
        spec = transitions.get(key)
        if spec is None:
            problems.append(
                FieldProblem(at, _("There is no transition with the key '%(key)s'") % {"key": key})
            )
        elif name not in spec["from"]:
            problems.append(
                FieldProblem(
                    at,
                    _("The transition '%(name)s' does not leave the state '%(state)s'")
                    % {"name": spec.get("label") or key, "state": label},
                )
            )
        elif "form" in spec:
            problems.append(
                FieldProblem(
                    at,
                    _("The transition '%(name)s' has a form, which nobody fills on a timeout")
                    % {"name": spec.get("label") or key},
                )
            )
        if not state.get("hours"):
            problems.append(
                FieldProblem(
                    at,
                    _("The state '%(state)s' has no deadline (hours) to time out after")
                    % {"state": label},
                )
            )
    for i, tr in enumerate(workflow["transitions"]):
        if not tr["roles"] and tr["key"] not in timed_out:
            problems.append(
                FieldProblem(
                    f"/workflow/transitions/{i}/roles",
                    _(
                        "Nobody may take the transition '%(name)s': name a role, or let a state "
                        "take it when its time runs out"
                    )
                    % {"name": tr.get("label") or tr["key"]},
                )
            )
    return problems


def _graph_problems(
    initial: str, states: Mapping[str, Any], edges: Mapping[str, set[str]]
) -> list[FieldProblem]:
    return [FieldProblem(f.path, f.message) for f in _state_findings(initial, states, edges)]


@dataclass(frozen=True)
class GraphFinding:
    """A warning about a workflow's graph: ``kind`` is ``unreachable``, ``dead_end`` or ``nobody``;
    ``subject`` the state or transition key; ``path`` a JSON Pointer into the definition."""

    kind: str
    subject: str
    path: str
    message: str


def workflow_edges(workflow: Mapping[str, Any]) -> dict[str, set[str]]:
    """State → the states a transition leads to from it (``to`` and every ``to_if`` branch).

    Tolerates a draft's half-written workflow: unknown states and malformed transitions are skipped.
    """
    states = workflow.get("states") if isinstance(workflow.get("states"), Mapping) else {}
    edges: dict[str, set[str]] = {name: set() for name in states}
    for tr in workflow.get("transitions") or []:
        if not isinstance(tr, Mapping):
            continue
        targets = [tr.get("to")] + [
            b.get("to") for b in tr.get("to_if") or [] if isinstance(b, Mapping)
        ]
        for source in tr.get("from") or []:
            if source in edges and not states[source].get("final"):
                edges[source].update(t for t in targets if t in states)
    return edges


def _state_findings(
    initial: str, states: Mapping[str, Any], edges: Mapping[str, set[str]]
) -> list[GraphFinding]:
    if initial not in states:
        return []
    reached, frontier = {initial}, [initial]
    while frontier:
        for target in edges[frontier.pop()]:
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    findings = [
        GraphFinding(
            "unreachable",
            name,
            f"/workflow/states/{name}",
            _("The state '%(state)s' cannot be reached from the first state '%(initial)s'")
            % {"state": label_of(states, name), "initial": label_of(states, initial)},
        )
        for name in states
        if name not in reached
    ]
    findings += [
        GraphFinding(
            "dead_end",
            name,
            f"/workflow/states/{name}",
            _("The state '%(state)s' is not final, but no transition leaves it")
            % {"state": label_of(states, name)},
        )
        for name, spec in states.items()
        if not spec.get("final") and not edges[name]
    ]
    return findings


def graph_findings(workflow: Mapping[str, Any], roles: Iterable[str]) -> list[GraphFinding]:
    """Unreachable states, dead ends (non-final states nothing leaves) and transitions nobody
    may take (no roles, or only roles the pack does not know), for a draft or a published body.

    :param roles: role keys the pack declares (the pseudo-roles raiser and assignee count too).
    """
    if not isinstance(workflow, Mapping):
        return []
    states = workflow.get("states") if isinstance(workflow.get("states"), Mapping) else {}
    states = {k: v if isinstance(v, Mapping) else {} for k, v in states.items()}
    findings = _state_findings(
        str(workflow.get("initial", "")), states, workflow_edges({**workflow, "states": states})
    )
    known = set(roles) | set(PSEUDO_ROLES)
    for i, tr in enumerate(workflow.get("transitions") or []):
        if not isinstance(tr, Mapping):
            continue
        taken_by = [r for r in tr.get("roles") or [] if r in known]
        by_sweep = tr.get("key") is not None and any(
            isinstance(s, Mapping) and s.get("on_timeout") == tr.get("key") for s in states.values()
        )
        if not taken_by and not by_sweep:
            key = str(tr.get("key", i))
            findings.append(
                GraphFinding(
                    "nobody",
                    key,
                    f"/workflow/transitions/{i}/roles",
                    _("Nobody may take the transition '%(name)s': it names no role the pack knows")
                    % {"name": tr.get("label") or key},
                )
            )
    return findings


def table_problems(
    table: Mapping[str, Any], path: str, roles: set[str], units: set[str]
) -> list[FieldProblem]:
    problems = duplicate_keys(
        ((f"{path}/rules/{i}", r["key"]) for i, r in enumerate(table["rules"])),
        _("Two routing rules have the key '%(key)s'"),
    )
    for i, route in enumerate(table["rules"]):
        at = f"{path}/rules/{i}"
        problems += rule_problems(route["when"], f"{at}/when")
        problems += _unit_problems(route["summon"], f"{at}/summon", roles, units)
    problems += _unit_problems(table.get("default", []), f"{path}/default", roles, units)
    return problems


def _unit_problems(
    summon: list[Mapping[str, str]], path: str, roles: set[str], units: set[str]
) -> list[FieldProblem]:
    problems = []
    for i, unit in enumerate(summon):
        if "unit" in unit and unit["unit"] not in units:
            problems.append(FieldProblem(f"{path}/{i}/unit", no_node(unit["unit"])))
        if "role" in unit and unit["role"] not in roles:
            problems.append(FieldProblem(f"{path}/{i}/role", unknown_role(unit["role"])))
    return problems

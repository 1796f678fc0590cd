"""The workflow kernel: pure planning of every state change of an item.

A click, an API call, the deadline sweep and the demo generator all decide a change
here — the rule document a rule sees, the title, where a transition goes, what the
move changes on the item, which units a routing table summons with which deadlines on
the calendar — and then write the plan with their own writer: one row at a time
(``engine/workflow/items.py``, ``engine/workflow/dispatch.py``) or in bulk (``engine/workflow/escalation_writes.py``,
``engine/demo/demo_items.py``). Nothing here writes to the database; what a plan needs from
it (the calendar, a unit's node) is passed in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import rules
from engine.core import clock
from engine.definitions.runtimes import Runtime
from engine.trail import privacy
from rules.routing import Decision


class NodeLike(Protocol):
    id: int
    key: str
    kind: str
    name: str
    path: str
    profile: Any

    @property
    def keys(self) -> list[str]: ...


class DueCalendar(Protocol):
    def due(self, start: dt.datetime, hours: float | None) -> dt.datetime | None: ...


# -- the rule document ---------------------------------------------------------------


def node_doc(node: NodeLike) -> dict[str, Any]:
    return {
        "key": node.key,
        "kind": node.kind,
        "name": node.name,
        "path": list(node.keys),
        "profile": node.profile or {},
    }


def actor_doc(username: str | None, roles: Iterable[str] = ()) -> dict[str, Any]:
    return {"username": username, "roles": sorted(roles)}


def summons_counts(summonses: Iterable[Any], now: dt.datetime) -> dict[str, int]:
    """Summonses by state, open and overdue: what ``assignments.*`` reads in a rule.

    :param summonses: objects with ``state``, ``open`` and ``next_due_at``.
    """
    counts = {"total": 0, "open": 0, "done": 0, "declined": 0, "overdue": 0, "reported": 0}
    for a in summonses:
        counts["total"] += 1
        counts[a.state] = counts.get(a.state, 0) + 1
        if a.open:
            counts["open"] += 1
            if a.next_due_at is not None and a.next_due_at < now:
                counts["overdue"] += 1
    return counts


@dataclass(frozen=True)
class ItemFacts:
    """What the rule document says of the item itself (None id: being raised)."""

    id: int | None
    type: str
    state: str | None
    priority: int
    satisfaction: int | None
    raised_at: dt.datetime
    state_since: dt.datetime

    @classmethod
    def of(cls, item: Any, type_key: str) -> ItemFacts:
        """From an item row (or anything with its columns)."""
        return cls(
            item.id,
            type_key,
            item.state,
            item.priority,
            item.satisfaction,
            item.raised_at,
            item.state_since,
        )


def rule_doc(
    facts: ItemFacts,
    node: NodeLike,
    *,
    data: Mapping[str, Any],
    now: dt.datetime,
    actor: Mapping[str, Any] | None = None,
    counts: Mapping[str, int] | None = None,
    form: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The one JSON document every rule sees (docs/pack-format.md, "What a rule sees")."""
    return {
        "data": dict(data),
        "form": dict(form or {}),
        "item": {
            "id": facts.id,
            "type": facts.type,
            "state": facts.state,
            "priority": facts.priority,
            "satisfaction": facts.satisfaction,
            "raised_at": clock.iso(facts.raised_at),
            "age_hours": round((now - facts.raised_at).total_seconds() / 3600, 4),
            "state_since": clock.iso(facts.state_since),
            "hours_in_state": round((now - facts.state_since).total_seconds() / 3600, 4),
        },
        "node": node_doc(node),
        "actor": dict(actor or actor_doc(None)),
        "assignments": dict(counts or summons_counts((), now)),
        "now": clock.iso(now),
    }


# -- raising ------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleFault:
    """A rule that failed to evaluate: where in the definition, and why (the error's msgid
    and parameters, put in words by whoever shows it)."""

    where: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, where: str, error: rules.RuleError) -> RuleFault:
        return cls(where + error.path, error.template, error.params)


def title(rt: Runtime, doc: Mapping[str, Any], data: Mapping[str, Any]) -> str:
    """An item's title: the type's ``title`` rule, else its first non-personal text answer."""
    if "title" in rt.body:
        try:
            value = rules.compile(rt.body["title"])(doc)
            if value:
                return str(value)[:300]
        except rules.RuleError:
            pass
    personal = privacy.personal_names(rt)
    text = next(
        (v for k, v in data.items() if isinstance(v, str) and v.strip() and k not in personal), ""
    )
    return (text or rt.body["name"])[:300]


def deadline_calendar(calendar: DueCalendar, spec: Mapping[str, Any]) -> DueCalendar:
    """The calendar one deadline runs on: natural hours when its state or routing rule says
    ``"calendar": "natural"`` (自然时), else ``calendar`` (the pack's, 工作时, unless the type or
    table opted out)."""
    from engine.core.calendar import NATURAL

    return NATURAL if spec.get("calendar") == "natural" else calendar


def state_due(
    rt: Runtime, state: str, calendar: DueCalendar, now: dt.datetime
) -> dt.datetime | None:
    """When an item entering ``state`` at ``now`` falls due."""
    spec = rt.states[state]
    return deadline_calendar(calendar, spec).due(now, spec.get("hours"))


def initial_due(rt: Runtime, calendar: DueCalendar, now: dt.datetime) -> dt.datetime | None:
    """The deadline of a new item's first state."""
    return state_due(rt, rt.workflow["initial"], calendar, now)


# -- moving -------------------------------------------------------------------------


def target(
    rt: Runtime, spec: Mapping[str, Any], doc: Mapping[str, Any]
) -> tuple[str, list[RuleFault]]:
    """Where transition ``spec`` goes on ``doc``: its first ``to_if`` branch that holds, else ``to``.

    A branch whose rule fails is skipped and reported.
    """
    faults = []
    for index, branch in enumerate(spec.get("to_if", [])):
        try:
            if rules.truthy(rules.compile(branch["when"])(doc)):
                return str(branch["to"]), faults
        except rules.RuleError as exc:
            t_index = rt.workflow["transitions"].index(spec)
            faults.append(RuleFault.of(f"/workflow/transitions/{t_index}/to_if/{index}/when", exc))
    return str(spec["to"]), faults


@dataclass(frozen=True)
class Move:
    """A transition as it will change the item, and its audit event."""

    target: str
    changes: dict[str, Any]
    closes: bool
    event: dict[str, Any]  # action, before, after, detail
    gate: dict[str, Any] | None = None  # a decision at a gate (先议先审): state, decision, reasons


def move(
    rt: Runtime,
    item: Any,
    spec: Mapping[str, Any],
    to: str,
    form: Mapping[str, Any],
    *,
    calendar: DueCalendar,
    now: dt.datetime,
) -> Move:
    """What taking ``spec`` to state ``to`` changes on ``item`` (a row or its columns).

    The new state's deadline runs on ``calendar``; reaching a resolved state stamps the
    resolution (once); leaving resolution for a working state reopens the item.
    """
    changes: dict[str, Any] = {
        "state": to,
        "state_since": now,
        "lock": item.lock + 1,
        "due_at": state_due(rt, to, calendar, now),
        "closed": rt.is_final(to),
    }
    if rt.is_resolved(to) and item.resolved_at is None:
        changes["resolved_at"] = now
        changes["resolution_seconds"] = int((now - item.raised_at).total_seconds())
    elif not rt.is_resolved(to) and not rt.is_final(to) and item.resolved_at is not None:
        changes["resolved_at"] = None  # reopened: the next resolution counts from the raise
        changes["resolution_seconds"] = None
        changes["reopen_count"] = (item.reopen_count or 0) + 1
    event = {
        "action": f"transition.{spec['key']}",
        "before": {"state": item.state, "version": item.lock},
        "after": {"state": to, "version": item.lock + 1, "form": dict(form) or None},
        "detail": {"label": spec["label"], "definition": rt.key, "definition_version": rt.number},
    }
    return Move(
        to, changes, bool(changes["closed"]), event, gate_decision(rt, item.state, spec, form)
    )


def gate_decision(
    rt: Runtime, state: str, spec: Mapping[str, Any], form: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The decision transition ``spec`` records when it leaves the gate ``state``, else None."""
    gate = rt.states.get(state, {}).get("gate")
    if gate is None or "decision" not in spec:
        return None
    reasons = form.get(gate.get("reasons", "reasons"))
    return {
        "state": state,
        "transition": spec["key"],
        "decision": spec["decision"],
        "reasons": str(reasons or ""),
    }


# -- summoning ------------------------------------------------------------------------


@dataclass(frozen=True)
class Summons:
    """One unit to summon, with its deadlines."""

    unit: NodeLike
    role: str
    table: str
    rule: str | None
    priority: int
    summoned_at: dt.datetime
    report_due_at: dt.datetime | None
    handle_due_at: dt.datetime | None

    def row(self, item_id: int) -> dict[str, Any]:
        """The ``assignment`` row (summoned, open)."""
        return {
            "item": item_id,
            "unit": self.unit.id,
            "unit_path": self.unit.path,
            "role": self.role,
            "table": self.table,
            "rule": self.rule,
            "priority": self.priority,
            "summoned_at": self.summoned_at,
            "report_due_at": self.report_due_at,
            "handle_due_at": self.handle_due_at,
            "next_due_at": self.report_due_at or self.handle_due_at,
        }


@dataclass
class SummonsPlan:
    """A routing table's decision on a document and the summonses it makes."""

    table: str
    decision: Decision
    faults: list[RuleFault] = field(default_factory=list)
    summonses: list[Summons] = field(default_factory=list)

    def summoned(self) -> list[dict[str, str]]:
        return [{"unit": s.unit.key, "name": s.unit.name, "role": s.role} for s in self.summonses]

    def detail(self, rt: Runtime) -> dict[str, Any]:
        """The ``route`` event's detail: which rule of which version fired on which inputs."""
        decision = self.decision
        return {
            "table": self.table,
            "definition": rt.key,
            "version": rt.number,
            "fired": [r.key for r in decision.fired],
            "default_used": not decision.fired or decision.used_default,
            "inputs": decision.inputs,
            "outcomes": [
                {
                    "key": o.key,
                    "fired": o.fired,
                    "reason": o.reason,
                    "error": {
                        "path": o.error.path,
                        "message": o.error.template,
                        "params": o.error.params,
                    }
                    if o.error
                    else None,
                }
                for o in decision.outcomes
            ],
            "summoned": self.summoned(),
        }


Planned = list[tuple[Mapping[str, str], Mapping[str, Any], str | None]]


def decide(
    rt: Runtime, table: str, doc: Mapping[str, Any]
) -> tuple[Decision, Planned, list[RuleFault]]:
    """Run routing table ``table`` on ``doc``: the decision, the units it names (with the
    route that named them and its rule key), and the rules that failed.

    A failed rule counts as not fired; when nothing fired the table's default stands in.
    """
    spec = rt.body["routing"][table]
    decision = rt.tables[table].decide(doc)
    faults = []
    for outcome in decision.outcomes:
        if outcome.error is not None:
            index = next(i for i, r in enumerate(spec["rules"]) if r["key"] == outcome.key)
            faults.append(RuleFault.of(f"/routing/{table}/rules/{index}/when", outcome.error))
    planned: Planned = []
    if decision.fired and not decision.used_default:
        for fired in decision.fired:
            planned += [(unit, fired.payload, fired.key) for unit in fired.payload["summon"]]
    else:
        planned += [(unit, spec, None) for unit in spec.get("default", [])]
    return decision, planned, faults


def summon(
    rt: Runtime,
    table: str,
    doc: Mapping[str, Any],
    *,
    resolve: Callable[[Mapping[str, str]], tuple[NodeLike, str] | None],
    already: set[tuple[int, str]],
    calendar: DueCalendar,
    now: dt.datetime,
) -> SummonsPlan:
    """Which units table ``table`` summons on ``doc``, each once, with deadlines on ``calendar``.

    :param resolve: a routing unit (``{"unit": key}`` or ``{"role": r}``) → (node, role).
    :param already: (unit id, role) of the item's open summonses: not summoned again.
    """
    decision, planned, faults = decide(rt, table, doc)
    plan = SummonsPlan(table, decision, faults)
    plan.summonses = summonses(
        planned,
        table,
        rt.body["routing"][table],
        resolve=resolve,
        already=already,
        calendar=calendar,
        now=now,
    )
    return plan


def summonses(
    planned: Planned,
    table: str,
    spec: Mapping[str, Any],
    *,
    resolve: Callable[[Mapping[str, str]], tuple[NodeLike, str] | None],
    already: set[tuple[int, str]],
    calendar: DueCalendar,
    now: dt.datetime,
) -> list[Summons]:
    """The summonses of ``planned`` units (a routing decision's, or a supervisor's re-route).

    :param spec: the table-level deadlines (``report_hours``, ``handle_hours``) a route
        may override.
    """
    out = []
    seen = set(already)
    for unit, fired, rule_key in planned:
        resolved = resolve(unit)
        if resolved is None or (resolved[0].id, resolved[1]) in seen:
            continue
        node, role = resolved
        seen.add((node.id, role))
        runs_on = deadline_calendar(calendar, fired)
        out.append(
            Summons(
                node,
                role,
                table,
                rule_key,
                fired.get("priority", 0),
                now,
                runs_on.due(now, fired.get("report_hours", spec.get("report_hours"))),
                runs_on.due(now, fired.get("handle_hours", spec.get("handle_hours"))),
            )
        )
    return out


def summons_message(type_name: str, item_title: str) -> str:
    """What a summoned unit's users are told."""
    return f"[{type_name}] {item_title}"

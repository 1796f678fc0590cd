"""Synthetic items for the demo district: planned as rows, written in batches.

Each item walks its own workflow (the transitions of its pinned version), summons come
from its routing tables, answers come from pools of answers validated by the forms
layer. Rows are inserted with explicit ids in batches, so a million items take
minutes, not hours.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import rules
from engine.db import bulk_insert, database, is_postgres
from engine.definitions import Runtime, current_version, runtime
from engine.models import Assignment, Definition, Event, Grant, Item, OrgNode

POOL = 48  # validated answer sets per form


@dataclass
class Plan:
    """Rows waiting for the next batch insert, and the next free ids."""

    items: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    assignments: list[dict[str, Any]] = field(default_factory=list)
    next_ids: dict[str, int] = field(default_factory=dict)

    def take_id(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def flush(self) -> None:
        """Insert the planned rows with one prepared statement per table."""
        with database.atomic():
            for model, rows in ((Item, self.items), (Assignment, self.assignments), (Event, self.events)):
                if rows:
                    bulk_insert(model, rows)
        self.items, self.events, self.assignments = [], [], []


class Actors:
    """Who takes a demo transition: a holder of one of its roles over the node, else the raiser."""

    def __init__(self) -> None:
        self.by_role: dict[str, dict[str, int]] = {}
        for role, path, user in Grant.select(Grant.role, OrgNode.path, Grant.user).join(OrgNode).tuples():
            self.by_role.setdefault(role, {}).setdefault(path, user)

    def pick(self, roles: list[str], node: OrgNode, raiser: int | None) -> int | None:
        parts = node.path.strip("/").split("/")
        ancestors = ["/" + "/".join(parts[:i]) + "/" for i in range(len(parts), 0, -1)]
        for role in roles:
            if role == "raiser":
                return raiser
            holders = self.by_role.get(role, {})
            for path in ancestors:
                if path in holders:
                    return holders[path]
        return raiser


class Planner:
    """Plans items of every published item type; answers drawn from validated pools."""

    def __init__(self, rng: random.Random, answers: Any, now: dt.datetime, reply: str | None = None) -> None:
        self.rng, self.now, self.answers = rng, now, answers
        self.reply = reply  # what a unit that finished answers (demo.json `summons_reply`)
        self.actors = Actors()
        self.units = {key: (node_id, path) for key, node_id, path in OrgNode.select(OrgNode.key, OrgNode.id, OrgNode.path).tuples()}
        self.pools: dict[int, list[dict[str, Any]]] = {}
        self.versions: dict[int, Any] = {}
        self.plan = Plan(next_ids={m.__name__: (m.select(m.id).order_by(m.id.desc()).scalar() or 0) + 1
                                   for m in (Item, Event, Assignment)})

    def pool(self, schema: Mapping[str, Any]) -> list[dict[str, Any]]:
        key = id(schema)
        if key not in self.pools:
            found = [a for a in (self.answers(schema) for _ in range(POOL)) if a is not None]
            self.pools[key] = found or [{}]
        return self.pools[key]

    def add(self, definition: Definition, node: OrgNode, raiser: int | None) -> None:
        if definition.id not in self.versions:
            self.versions[definition.id] = current_version(definition)
        version = self.versions[definition.id]
        rt = runtime(version)
        data = self.rng.choice(self.pool(rt.body["schema"]))
        steps = self._walk(rt)
        end_state = steps[-1][3] if steps else rt.workflow["initial"]
        elapsed = steps[-1][2] if steps else 0.0
        if rt.is_final(end_state):
            raised = self.now - dt.timedelta(hours=elapsed + self.rng.uniform(1, 24 * 90))
        else:
            # Open items sit in their state for a while; about one in five is past its deadline.
            limit = rt.states[end_state].get("hours") or 24
            raised = self.now - dt.timedelta(hours=elapsed + self.rng.uniform(0, 1.25 * limit))
        item_id = self.plan.take_id("Item")
        item = {
            "id": item_id, "definition": definition.id, "version": version.id, "node": node.id,
            "node_path": node.path, "title": _title(rt, data), "state": rt.workflow["initial"],
            "priority": 0, "data": data, "raised_by": raiser,
            "raised_at": raised, "state_since": raised, "due_at": None, "resolved_at": None,
            "resolution_seconds": None, "satisfaction": None, "closed": False, "lock": 1, "reopen_count": 0,
        }
        self._event(item_id, raised, raiser, "item.raise", None,
                    {"state": item["state"], "data": data, "version": rt.number}, None)
        doc = {"data": data, "form": {}, "node": {"key": node.key, "kind": node.kind, "path": list(node.keys),
                                                  "profile": node.profile},
               "item": {"state": item["state"], "priority": 0, "raised_at": raised.isoformat() + "+00:00"},
               "now": self.now.isoformat() + "+00:00", "assignments": {"open": 0}}
        summons: list[dict[str, Any]] = []
        for effect in rt.workflow.get("on_create", []):
            if "summon" in effect:
                summons += self._summon(item, rt, effect["summon"], doc, raised, node)
        self._steps(item, rt, steps, summons, doc, node, raiser)
        self.plan.items.append(item)
        self.plan.assignments += summons
        if len(self.plan.items) >= 5000:
            self.plan.flush()

    def _steps(self, item: dict[str, Any], rt: Runtime, steps: list[Any], summons: list[dict[str, Any]],
               doc: dict[str, Any], node: OrgNode, raiser: int | None) -> None:
        state, at = item["state"], item["raised_at"]
        for chosen, form, hours, target in steps:
            at = item["raised_at"] + dt.timedelta(hours=hours)
            for summons_row in summons:
                if summons_row["open"] and summons_row["summoned_at"] < at:
                    summons_row.update(state="done", done_at=at, open=False, next_due_at=None, reply=self.reply)
            for effect in chosen.get("effects", []):
                if "summon" in effect:
                    summons += self._summon(item, rt, effect["summon"], {**doc, "form": form}, at, node)
            self._event(item["id"], at, self.actors.pick(chosen["roles"], node, raiser), f"transition.{chosen['key']}",
                        {"state": state}, {"state": target, "form": form or None},
                        {"label": chosen["label"], "definition": rt.key, "definition_version": rt.number})
            state = target
            if rt.is_resolved(state) and item["resolved_at"] is None:
                item["resolved_at"] = at
                item["resolution_seconds"] = int((at - item["raised_at"]).total_seconds())
            elif not rt.is_resolved(state) and not rt.is_final(state):
                if item["resolved_at"] is not None:
                    item["reopen_count"] = item.get("reopen_count", 0) + 1
                item["resolved_at"] = item["resolution_seconds"] = None
            if "satisfaction" in form:
                item["satisfaction"] = form["satisfaction"]
        hours_allowed = rt.states[state].get("hours")
        item.update(state=state, state_since=at, closed=rt.is_final(state),
                    due_at=at + dt.timedelta(hours=hours_allowed) if hours_allowed else None,
                    priority=max([s["priority"] for s in summons] or [0]))
        if item["closed"]:
            for summons_row in summons:
                if summons_row["open"]:
                    summons_row.update(state="cancelled", open=False, next_due_at=None)

    def _walk(self, rt: Runtime) -> list[tuple[Mapping[str, Any], dict[str, Any], float, str]]:
        """A random path through the workflow: (transition, answers, hours after raising, target)."""
        state, hours, steps = rt.workflow["initial"], 0.0, []
        for _ in range(self.rng.choice([0, 1, 2, 3, 4, 5, 6, 6, 6])):
            options = [t for t in rt.workflow["transitions"] if state in t["from"]]
            if not options or rt.is_final(state):
                break
            # Items mostly move forward; refusals and withdrawals are the exception.
            weights = [0.1 if rt.is_final(t["to"]) and not rt.is_resolved(t["to"]) else 1.0 for t in options]
            chosen = self.rng.choices(options, weights)[0]
            form = self.rng.choice(self.pool(chosen["form"])) if "form" in chosen else {}
            hours += self.rng.uniform(0.2, 30)
            target = _branch(chosen, form)
            steps.append((chosen, form, hours, target))
            state = target
        return steps

    def _summon(self, item: dict[str, Any], rt: Runtime, table_name: str, doc: Mapping[str, Any],
                at: dt.datetime, node: OrgNode) -> list[dict[str, Any]]:
        spec = rt.body["routing"][table_name]
        decision = rt.tables[table_name].decide(doc)
        planned = ([(u, r.payload, r.key) for r in decision.fired for u in r.payload["summon"]]
                   if not decision.used_default else [(u, spec, None) for u in spec.get("default", [])])
        rows = []
        for unit, route, key in planned:
            unit_id, unit_path = self.units[unit["unit"]] if "unit" in unit else (node.id, node.path)
            report_h = route.get("report_hours", spec.get("report_hours"))
            handle_h = route.get("handle_hours", spec.get("handle_hours"))
            report_due = at + dt.timedelta(hours=report_h) if report_h else None
            handle_due = at + dt.timedelta(hours=handle_h) if handle_h else None
            reported = at + dt.timedelta(hours=self.rng.uniform(0.1, (report_h or 4) * 1.5))
            state = "reported" if reported < self.now else "summoned"
            rows.append({
                "id": self.plan.take_id("Assignment"), "item": item["id"], "unit": unit_id,
                "unit_path": unit_path, "role": unit.get("role", "department"), "state": state,
                "table": table_name, "rule": key, "priority": route.get("priority", 0), "summoned_at": at,
                "report_due_at": report_due, "reported_at": reported if state == "reported" else None,
                "handle_due_at": handle_due, "done_at": None, "reply": "", "open": True,
                "next_due_at": handle_due if state == "reported" else (report_due or handle_due),
            })
        return rows

    def _event(self, item_id: int, at: dt.datetime, actor: int | None, action: str,
               before: Any, after: Any, detail: Any) -> None:
        self.plan.events.append({
            "id": self.plan.take_id("Event"), "at": at, "actor": actor, "action": action, "item": item_id,
            "target": f"item:{item_id}", "before": before, "after": after, "detail": detail,
        })

    def finish(self) -> None:
        """Write what is left and move PostgreSQL's id sequences past the explicit ids."""
        self.plan.flush()
        if is_postgres():
            for table in ("item", "event", "assignment"):
                database.execute_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 1))")


def _branch(transition: Mapping[str, Any], form: Mapping[str, Any]) -> str:
    """Where a transition goes for these answers (its ``to_if`` branches, then ``to``)."""
    for branch in transition.get("to_if", []):
        try:
            if rules.truthy(rules.compile(branch["when"])({"form": form})):
                return str(branch["to"])
        except rules.RuleError:
            continue
    return str(transition["to"])


def _title(rt: Runtime, data: Mapping[str, Any]) -> str:
    title = None
    if "title" in rt.body:
        try:
            title = rules.compile(rt.body["title"])({"data": data})
        except rules.RuleError:
            title = None
    return str(title or data.get("summary") or rt.body["name"])[:300]

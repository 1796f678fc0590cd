"""Synthetic items for the demo district: planned by the workflow kernel, written in batches.

Each item walks its own workflow (the transitions of its pinned version) from its raise
until now, through the same kernel functions as a click (``engine/workflow/kernel.py``): the rule
document, the title, the branch a transition takes, the move with its deadline on the
pack's calendar, the summonses routing makes. Answers come from pools validated by the
forms layer. Rows are inserted with explicit ids in batches, so a million items take
minutes, not hours.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import rules
from engine.core import clock
from engine.definitions.definitions import Runtime, current_version, runtime
from engine.demo.demo_stories import Teller
from engine.store.db import backend, bulk_insert, database
from engine.store.decision_tables import GateDecision
from engine.store.models import Assignment, Definition, Event, Grant, Item, OrgNode
from engine.workflow import kernel
from engine.workflow.deadlines import calendar_for

# A story takes one transition at most this often (a second whistle, yes; a third, no).
LOOPS_TAKEN = 2


@dataclass
class Plan:
    """Rows waiting for the next batch insert, and the next free ids."""

    items: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    assignments: list[dict[str, Any]] = field(default_factory=list)
    gate_decisions: list[dict[str, Any]] = field(default_factory=list)  # 先议先审
    next_ids: dict[str, int] = field(default_factory=dict)

    def take_id(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def flush(self) -> None:
        """Insert the planned rows with one prepared statement per table."""
        with database.atomic():
            for model, rows in (
                (Item, self.items),
                (Assignment, self.assignments),
                (Event, self.events),
                (GateDecision, self.gate_decisions),
            ):
                if rows:
                    bulk_insert(model, rows)
        self.items, self.events, self.assignments, self.gate_decisions = [], [], [], []


class Actors:
    """Who takes a demo transition: a holder of one of its roles over the node, else the raiser."""

    def __init__(self) -> None:
        self.by_role: dict[str, dict[str, int]] = {}
        for role, path, user in (
            Grant.select(Grant.role, OrgNode.path, Grant.user).join(OrgNode).tuples()
        ):
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


class ItemRow:
    """An item being planned, as the kernel reads an item row (attributes over a dict)."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row

    def __getattr__(self, name: str) -> Any:
        try:
            return self.row[name]
        except KeyError:
            raise AttributeError(name) from None


class Planner:
    """Plans items of every published item type through the workflow kernel; answers drawn
    from validated pools, deadlines and working times on the pack's calendar."""

    def __init__(self, rng: random.Random, teller: Teller, now: dt.datetime) -> None:
        self.rng, self.now, self.teller = rng, now, teller
        self.actors = Actors()
        self.nodes = {n.id: n for n in OrgNode.select()}
        self.by_key = {n.key: n for n in self.nodes.values()}
        self.pools: dict[int, list[dict[str, Any]]] = {}
        self.versions: dict[int, Any] = {}
        self.calendars: dict[tuple[int, str | None], Any] = {}
        self.reports: dict[int, dict[str, Any]] = {}  # summons id → its report-in event
        self.plan = Plan(
            next_ids={
                m.__name__: (m.select(m.id).order_by(m.id.desc()).scalar() or 0) + 1
                for m in (Item, Event, Assignment)
            }
        )

    def calendar(self, definition_id: int, rt: Runtime, table: str | None = None) -> Any:
        key = (definition_id, table)
        if key not in self.calendars:
            spec = rt.body["routing"][table] if table else None
            self.calendars[key] = calendar_for(definition_id, rt.body, spec)
        return self.calendars[key]

    def _raised_at(self) -> dt.datetime:
        """Most items were raised weeks ago and are done; some are recent and under way."""
        hours = (
            self.rng.uniform(0, 96) if self.rng.random() < 0.35 else self.rng.uniform(96, 24 * 90)
        )
        return (self.now - dt.timedelta(hours=hours)).replace(microsecond=0)

    def add(
        self,
        definition: Definition,
        node: OrgNode,
        raiser: int | None,
        *,
        raised: dt.datetime | None = None,
        fixed: Mapping[str, Any] | None = None,
    ) -> None:
        """Plan one item and its story up to now.

        :param raised: when it was raised (default: drawn, mostly weeks ago).
        :param fixed: answers given outright, e.g. a platform's number.
        """
        if definition.id not in self.versions:
            self.versions[definition.id] = current_version(definition)
        version = self.versions[definition.id]
        rt = runtime(version)
        story = self.teller.begin(rt.body["schema"])
        data = self.teller.answers(rt.body["schema"], story, fixed)
        raised = raised or self._raised_at()
        # Its dates and times are the day and hour it was raised, not the generator's.
        data.update((k, v) for k, v in _dates_of(rt.body["schema"], raised).items() if k in data)
        initial = rt.workflow["initial"]
        item = {
            "id": self.plan.take_id("Item"),
            "definition": definition.id,
            "version": version.id,
            "node": node.id,
            "node_path": node.path,
            "title": "",
            "state": initial,
            "priority": 0,
            "data": data,
            "raised_by": raiser,
            "raised_at": raised,
            "state_since": raised,
            "due_at": kernel.initial_due(rt, self.calendar(definition.id, rt), raised),
            "resolved_at": None,
            "resolution_seconds": None,
            "satisfaction": None,
            "closed": False,
            "lock": 1,
            "reopen_count": 0,
        }
        row = ItemRow(item)
        summons: list[dict[str, Any]] = []
        doc = self._doc(row, definition, node, summons, raised)
        item["title"] = kernel.title(rt, doc, data)
        self._event(
            item["id"],
            raised,
            raiser,
            "item.raise",
            None,
            {"state": initial, "data": data, "version": rt.number},
            None,
        )
        for effect in rt.workflow.get("on_create", []):
            self._effect(effect, row, rt, definition, node, summons, raised, {})
        self._steps(row, rt, definition, node, summons, raiser, story)
        self.plan.items.append(item)
        self.plan.assignments += summons
        self.reports.clear()  # the item's story is told: its summonses change no more
        if len(self.plan.items) >= 5000:
            self.plan.flush()

    def _doc(
        self,
        row: ItemRow,
        definition: Definition,
        node: OrgNode,
        summons: list[dict[str, Any]],
        at: dt.datetime,
        form: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        return kernel.rule_doc(
            kernel.ItemFacts.of(row, definition.key),
            node,
            data=row.data,
            now=at,
            counts=kernel.summons_counts([ItemRow(s) for s in summons], at),
            form=form,
        )

    def _effect(
        self,
        effect: Mapping[str, Any],
        row: ItemRow,
        rt: Runtime,
        definition: Definition,
        node: OrgNode,
        summons: list[dict[str, Any]],
        at: dt.datetime,
        form: Mapping[str, Any],
    ) -> None:
        """The effects a demo story needs: summonses (through routing) and ``set``."""
        if "summon" in effect:
            summons += self._summon(row, rt, definition, effect["summon"], node, summons, at, form)
        elif "set" in effect:
            doc = self._doc(row, definition, node, summons, at, form)
            for name, rule in effect["set"].items():
                try:
                    value = rules.compile(rule)(doc)
                except rules.RuleError:
                    continue
                if name.startswith("data."):
                    row.row["data"] = {**row.data, name[5:]: value}
                else:
                    row.row[name] = int(value) if value is not None else None

    def _steps(
        self,
        row: ItemRow,
        rt: Runtime,
        definition: Definition,
        node: OrgNode,
        summons: list[dict[str, Any]],
        raiser: int | None,
        story: dict[str, Any],
    ) -> None:
        """Walk the workflow from the raise until now: each step at a working moment after
        the last, its branch and effects decided by the kernel on the whole document."""
        item = row.row
        at = item["raised_at"]
        taken: dict[str, int] = {}
        for _ in range(12):
            state = item["state"]
            options = [
                (t, w)
                for t, w in self._options(rt, state, story["fate"], taken)
                if self._guard_holds(t, row, definition, node, summons, at)
            ]
            if not options:
                break  # at its end, or a stalled story waiting for someone
            chosen = self.rng.choices([t for t, _w in options], [w for _t, w in options])[0]
            taken[chosen["key"]] = taken.get(chosen["key"], 0) + 1
            when = self._when(rt, definition, state, chosen, at, story)
            waiting = [s for s in summons if s["open"]]
            if when is not None and rt.is_resolved(chosen["to"]) and waiting:
                # Resolved once the summoned units have done their part, not before.
                if any(s["reported_at"] is None for s in waiting):
                    break
                last = max(s["reported_at"] for s in waiting)
                when = max(when, self.calendar(definition.id, rt).due(last, 1.0) or last)
            if when is None or when >= self.now:
                break  # the story is still unfolding
            at = when.replace(microsecond=0)
            for summons_row in summons:
                if (
                    summons_row["open"]
                    and summons_row["state"] == "reported"
                    and summons_row["reported_at"] < at
                ):
                    reply = self.teller.reply(
                        story, summons_row["role"], self.nodes[summons_row["unit"]].key
                    )
                    summons_row.update(
                        state="done", done_at=at, open=False, next_due_at=None, reply=reply
                    )
                    self._summons_event(row.id, summons_row, at, "complete", "reported", reply)
            form = (
                self.teller.answers(chosen["form"], story, _dates_of(chosen["form"], at))
                if "form" in chosen
                else {}
            )
            to, _faults = kernel.target(
                rt, chosen, self._doc(row, definition, node, summons, at, form)
            )
            move = kernel.move(
                rt, row, chosen, to, form, calendar=self.calendar(definition.id, rt), now=at
            )
            item.update(move.changes)
            if move.closes:
                cancelled = [s["id"] for s in summons if s["open"]]
                for summons_row in summons:
                    if summons_row["open"] and (summons_row["reported_at"] or at) > at:
                        # Closed before the unit would have reported in: it never did.
                        self.plan.events.remove(self.reports.pop(summons_row["id"]))
                        summons_row.update(state="summoned", reported_at=None)
                    if summons_row["open"]:
                        summons_row.update(
                            state="cancelled", open=False, done_at=at, next_due_at=None
                        )
                if cancelled:
                    self._event(
                        row.id, at, None, "summons.cancel", None, {"cancelled": cancelled}, None
                    )
            event = move.event
            by = self.actors.pick(chosen["roles"], node, raiser)
            if move.gate is not None:  # the decision at a gate, as the one-row writer records it
                self.plan.gate_decisions.append(
                    {"item": row.id, "node_path": node.path, "by": by, "at": at, **move.gate}
                )
                self._event(row.id, at, by, "gate.decide", None, dict(move.gate), None)
            self._event(
                item["id"],
                at,
                by,
                event["action"],
                event["before"],
                event["after"],
                event["detail"],
            )
            for effect in chosen.get("effects", []):
                self._effect(effect, row, rt, definition, node, summons, at, form)
        item["priority"] = max([item["priority"], *(s["priority"] for s in summons)])

    def _guard_holds(
        self,
        spec: Mapping[str, Any],
        row: ItemRow,
        definition: Definition,
        node: OrgNode,
        summons: list[dict[str, Any]],
        at: dt.datetime,
    ) -> bool:
        """A story takes a transition only when its guard holds (an agreement after a
        session). A guard that reads the form is judged when the form is filled, and one
        that reads the summonses is the story's own timing (resolved once the units are
        done, in ``_steps``)."""
        if "guard" not in spec:
            return True
        reads = json.dumps(spec["guard"])
        if "form." in reads or "assignments." in reads:
            return True
        try:
            return bool(rules.compile(spec["guard"])(self._doc(row, definition, node, summons, at)))
        except rules.RuleError:
            return False

    @staticmethod
    def _options(
        rt: Runtime, state: str, fate: str, taken: Mapping[str, int]
    ) -> list[tuple[dict[str, Any], float]]:
        """The transitions a story of this fate takes from ``state``, weighted.

        A ``resolved`` story never closes unresolved; a ``declined`` one closes unresolved
        at its first chance (else it runs to its end); a ``stalled`` one never reaches a
        resolved state. A transition already taken (a second whistle, a reopening) is
        ever less likely, and none is taken a third time, so loops end: a stalled story
        whose only way on is a loop (escalating again) waits after the second.
        """
        if rt.is_final(state):
            return []
        # A person's moves: a transition nobody may take is the sweep's (on_timeout).
        options = [t for t in rt.workflow["transitions"] if state in t["from"] and t["roles"]]
        refusals = [t for t in options if rt.is_final(t["to"]) and not rt.is_resolved(t["to"])]
        if fate == "declined" and refusals:
            return [(t, 1.0) for t in refusals]
        kept = [t for t in options if t not in refusals]
        if fate == "stalled":
            kept = [t for t in kept if not rt.is_resolved(t["to"])]
        return [
            (t, 0.25 ** taken.get(t["key"], 0) * (0.3 if t["to"] == state else 1.0))
            for t in kept
            if taken.get(t["key"], 0) < LOOPS_TAKEN
        ]

    def _when(
        self,
        rt: Runtime,
        definition: Definition,
        state: str,
        chosen: Mapping[str, Any],
        at: dt.datetime,
        story: dict[str, Any],
    ) -> dt.datetime | None:
        """When the next step is taken: within the state's deadline (its ``hours``) mostly,
        on the pack's calendar when staff take it, in natural hours when the raiser does;
        a late step marks the story late (its rating is drawn from the late weights)."""
        hours = float(rt.workflow["states"].get(state, {}).get("hours") or 24)
        pace = self.teller.pace()
        if pace > 1:
            story["late"] = True
        wait = max(hours * pace, 0.05)
        if any(r != "raiser" for r in chosen["roles"]):
            return self.calendar(definition.id, rt).due(at, wait)
        return at + dt.timedelta(hours=wait)

    def _resolve(self, unit: Mapping[str, str], node: OrgNode) -> tuple[OrgNode, str] | None:
        if "unit" in unit:
            found = self.by_key.get(unit["unit"])
            return (found, "department") if found is not None else None
        for ancestor in reversed([int(p) for p in node.path.strip("/").split("/")]):
            if self.nodes[ancestor].kind == "compound":
                return self.nodes[ancestor], unit["role"]
        return node, unit["role"]

    def _summon(
        self,
        row: ItemRow,
        rt: Runtime,
        definition: Definition,
        table: str,
        node: OrgNode,
        summons: list[dict[str, Any]],
        at: dt.datetime,
        form: Mapping[str, Any],
    ) -> list[dict[str, Any]]:
        """The kernel's summonses; each unit reports in at a working moment, or not yet."""
        plan = kernel.summon(
            rt,
            table,
            self._doc(row, definition, node, summons, at, form),
            resolve=lambda unit: self._resolve(unit, node),
            already={(s["unit"], s["role"]) for s in summons if s["open"]},
            calendar=self.calendar(definition.id, rt, table),
            now=at,
        )
        self._event(row.id, at, None, "route", None, None, plan.detail(rt))
        rows = []
        for planned in plan.summonses:
            summons_row = {
                "id": self.plan.take_id("Assignment"),
                **planned.row(row.id),
                "state": "summoned",
                "reported_at": None,
                "done_at": None,
                "reply": "",
                "open": True,
            }
            report_hours = (
                (planned.report_due_at - at).total_seconds() / 3600 if planned.report_due_at else 4
            )
            reported = self.calendar(definition.id, rt, table).due(
                at, self.rng.uniform(0.1, max(report_hours, 0.2) * 1.3)
            )
            if reported is not None and reported < self.now:
                summons_row.update(
                    state="reported",
                    reported_at=reported.replace(microsecond=0),
                    next_due_at=planned.handle_due_at,
                )
                self._summons_event(
                    row.id, summons_row, summons_row["reported_at"], "report_in", "summoned", None
                )
                self.reports[summons_row["id"]] = self.plan.events[-1]
            rows.append(summons_row)
        return rows

    def _summons_event(
        self,
        item_id: int,
        summons_row: dict[str, Any],
        at: dt.datetime,
        action: str,
        before: str,
        reply: str | None,
    ) -> None:
        """A summoned unit's own step, by a user of that unit, as dispatch records it."""
        unit = self.nodes[summons_row["unit"]]
        self._event(
            item_id,
            at,
            self.actors.pick([summons_row["role"]], unit, None),
            f"summons.{action}",
            {"state": before},
            {"state": summons_row["state"], "unit": unit.key, "reply": reply or None},
            None,
            target=f"assignment:{summons_row['id']}",
        )

    def _event(
        self,
        item_id: int,
        at: dt.datetime,
        actor: int | None,
        action: str,
        before: Any,
        after: Any,
        detail: Any,
        *,
        target: str | None = None,
    ) -> None:
        self.plan.events.append(
            {
                "id": self.plan.take_id("Event"),
                "at": at,
                "actor": actor,
                "action": action,
                "item": item_id,
                "target": target or f"item:{item_id}",
                "before": before,
                "after": after,
                "detail": detail,
            }
        )

    def finish(self) -> None:
        """Write what is left and move the id sequences past the explicit ids."""
        self.plan.flush()
        move_sequences("item", "event", "assignment")


def move_sequences(*tables: str) -> None:
    """Move the id sequences of ``tables`` past the ids inserted explicitly."""
    backend().reset_sequences((table, "id") for table in tables)


def _dates_of(schema: Mapping[str, Any], at: dt.datetime) -> dict[str, str]:
    """A form's dates are the day it is filled in (a session's date), its times the next
    full hour after (a visit wished for, a repair expected), local."""
    local = clock.local(at)
    assert local is not None
    hour = (local + dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    shown = {"date": local.date().isoformat(), "date-time": hour.isoformat(timespec="seconds")}
    return {
        name: shown[prop["format"]]
        for name, prop in schema.get("properties", {}).items()
        if prop.get("format") in shown
    }

"""Due escalation steps (超时预警, 督办, 升级) applied a batch per transaction, each once.

A batch locks its items (in id order on PostgreSQL, so two sweepers cannot deadlock;
SQLite's write transaction already holds the one write lock), re-checks that each
step's subject is still due, then inserts the batch's :class:`Escalation` rows with
``ON CONFLICT DO NOTHING RETURNING``: only the rows this sweeper inserted get their
actions, the others were applied by a sweeper that got there first. The actions —
notifications, summonses through routing, priority and urge counters, outbox messages
and audit events — are worked out on the rows loaded once and written in bulk at the
end (``engine/workflow/escalation_writes.py``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from engine.core.errors import Conflict
from engine.definitions.definitions import runtime
from engine.org.org import ancestor_ids
from engine.store.db import backend, insert_returning, write_transaction
from engine.store.models import Assignment, Definition, Escalation, Grant, Item, OrgNode, User
from engine.trail.outbox import item_summary
from engine.workflow import kernel
from engine.workflow.deadlines import calendar_for
from engine.workflow.dispatch import record_faults, unit_node
from engine.workflow.escalation_writes import Writes

if TYPE_CHECKING:
    from engine.core.calendar import Calendar
    from engine.workflow.escalation import DueStep

SUMMONS_REPORT = (
    "summons_report"  # a step's "on", as in engine.workflow.escalation (which imports this module)
)


class SweepCache:
    """What a sweep looks up again and again: role holders, users, nodes, definitions."""

    def __init__(self) -> None:
        self._grants: dict[str, dict[int, list[User]]] = {}
        self._users: dict[int, User] = {}
        self.nodes: dict[Any, OrgNode | None] = {}  # by id, and by routing unit key
        self.definitions: dict[int, Definition] = {}
        self.calendars: dict[tuple[int, int, str], Calendar] = {}

    def holders(self, roles: Sequence[str], path: str) -> list[User]:
        """Active users holding any of ``roles`` at the node on ``path`` or an ancestor."""
        found: dict[int, User] = {}
        ancestors = ancestor_ids(path)
        for role in roles:
            by_node = self._by_node(role)
            for node_id in ancestors:
                for user in by_node.get(node_id, ()):
                    found.setdefault(user.id, user)
        return list(found.values())

    def _by_node(self, role: str) -> dict[int, list[User]]:
        if role not in self._grants:
            by_node: dict[int, list[User]] = defaultdict(list)
            query = (
                User.select(User, Grant.node)
                .join(Grant)
                .where((Grant.role == role) & User.active)
                .order_by(User.id)
            )
            for user in query:
                by_node[user.grant.node_id].append(user)
            self._grants[role] = by_node
        return self._grants[role]

    def user(self, user_id: int) -> User:
        if user_id not in self._users:
            self._users[user_id] = User.get_by_id(user_id)
        return self._users[user_id]

    def node(self, node_id: int, *, with_ids: Sequence[int] = ()) -> OrgNode:
        """The node ``node_id``; a miss loads it together with the nodes ``with_ids``."""
        if node_id not in self.nodes:
            wanted = {node_id, *(i for i in with_ids if i not in self.nodes)}
            self.nodes.update(
                {n.id: n for n in OrgNode.select().where(OrgNode.id.in_(list(wanted)))}
            )
        node = self.nodes[node_id]
        assert node is not None
        return node

    def compound(self, node_id: int) -> OrgNode | None:
        """:func:`engine.org.compound_of` the node: itself or its nearest compound ancestor."""
        path = ancestor_ids(self.node(node_id).path)
        for ancestor_id in reversed(path):
            if self.node(ancestor_id, with_ids=path).kind == "compound":
                return self.node(ancestor_id)
        return None

    def definition(self, definition_id: int) -> Definition:
        if definition_id not in self.definitions:
            self.definitions[definition_id] = Definition.get_by_id(definition_id)
        return self.definitions[definition_id]


def apply_batch(steps: Sequence[DueStep], *, now: dt.datetime, cache: SweepCache) -> list[str]:
    """Apply ``steps`` in one transaction; an outcome per step: applied, raced, moved or busy.

    :param cache: the sweep's look-ups, shared by its batches.
    :returns: ``busy`` for every step when the database stayed locked (nothing was
        written; the next sweep retries them).
    """
    try:
        with write_transaction():
            return _Batch(steps, now, cache).run()
    except Conflict:
        return ["busy"] * len(steps)


def _locked_items(item_ids: list[int]) -> dict[int, Item]:
    query = Item.select().where(Item.id.in_(item_ids)).order_by(Item.id)
    return {i.id: i for i in backend().for_update(query)}  # SQLite: BEGIN IMMEDIATE


def still_due(due: DueStep, item: Item | None, assignment: Assignment | None) -> bool:
    """Whether the step's subject is where it was when the step fell due."""
    if item is None or item.closed:
        return False
    if due.assignment_id is None:
        return due.subject == f"state:{item.state}:{item.lock}"
    if assignment is None or not assignment.open:
        return False
    return due.step["on"] != SUMMONS_REPORT or assignment.state == "summoned"


def _claim(steps: list[DueStep], now: dt.datetime) -> set[tuple[int, str, str]]:
    """Insert the steps' Escalation rows; the keys this sweeper inserted (won)."""
    if not steps:
        return set()
    rows = [
        {
            "item": d.item_id,
            "subject": d.subject,
            "step": d.step["key"],
            "kind": d.step["on"],
            "assignment": d.assignment_id,
            "due_at": d.deadline,
            "at": now,
            "detail": None,
        }
        for d in steps
    ]
    key = ("item_id", "subject", "step")
    return {
        (item_id, subject, step)
        for item_id, subject, step in insert_returning(
            Escalation, rows, returning=key, skip_conflicts_on=key
        )
    }


class _Batch:
    """One batch: the rows it locked and loaded, and the writes its steps make."""

    def __init__(self, steps: Sequence[DueStep], now: dt.datetime, cache: SweepCache) -> None:
        self.steps, self.now, self.cache = steps, now, cache
        self.writes = Writes(now)
        self.summaries: dict[int, dict[str, Any] | None] = {}
        self._summonses: dict[int, list[Assignment]] | None = None

    def run(self) -> list[str]:
        self.items = _locked_items(sorted({d.item_id for d in self.steps}))
        self.node_ids = [
            i.node_id for i in self.items.values()
        ]  # loaded together on the first miss
        assignment_ids = [d.assignment_id for d in self.steps if d.assignment_id is not None]
        self.assignments = (
            {
                a.id: a
                for a in Assignment.select(Assignment, OrgNode)
                .join(OrgNode)
                .where(Assignment.id.in_(assignment_ids))
            }
            if assignment_ids
            else {}
        )
        outcomes = ["moved"] * len(self.steps)
        live = [
            n
            for n, d in enumerate(self.steps)
            if still_due(d, self.items.get(d.item_id), self.assignments.get(d.assignment_id or 0))
        ]
        won = _claim([self.steps[n] for n in live], self.now)
        for n in live:
            due = self.steps[n]
            if (due.item_id, due.subject, due.step["key"]) not in won:
                outcomes[n] = "raced"
                continue
            outcomes[n] = "applied"
            self._apply(due)
        self.writes.flush()
        return outcomes

    def _apply(self, due: DueStep) -> None:
        item = self.items[due.item_id]
        assignment = self.assignments.get(due.assignment_id) if due.assignment_id else None
        did = self._act(item, assignment, due)
        self.writes.record(
            "escalation",
            item.id,
            f"assignment:{assignment.id}" if assignment else f"item:{item.id}",
            {
                "step": due.step["key"],
                "label": due.step.get("label", due.step["key"]),
                "on": due.step["on"],
                "subject": due.subject,
                "unit": assignment.unit.name if assignment else None,
                "deadline": due.deadline.isoformat(),
                "due_at": due.fire_at.isoformat(),
                "did": did,
            },
        )

    def _act(self, item: Item, assignment: Assignment | None, due: DueStep) -> list[dict[str, Any]]:
        """Run the step's actions in order; return what each did, as a code and its
        parameters (pages say it in the reader's language)."""
        step, writes = due.step, self.writes
        label = step.get("label", step["key"])
        did: list[dict[str, Any]] = []
        for action in step["do"]:
            if "notify" in action:
                spec = action["notify"]
                default = f"【{label}】{item.title}" + (
                    f"({assignment.unit.name})" if assignment else ""
                )
                count = writes.notify(
                    self._recipients(item, assignment, spec["roles"]),
                    item,
                    spec.get("message") or default,
                    lambda: self._summary(item),
                )
                did.append({"code": "notify", "roles": list(spec["roles"]), "count": count})
            elif "raise_priority" in action:
                before = item.priority
                item.priority = writes.priority[item.id] = min(
                    9, before + int(action["raise_priority"])
                )
                if assignment is not None:
                    assignment.priority = writes.assignment_priority[assignment.id] = max(
                        assignment.priority, item.priority
                    )
                did.append({"code": "priority", "from": before, "to": item.priority})
            elif "urge" in action:
                writes.urges["item", item.id] += 1
                if assignment is not None:
                    writes.urges["assignment", assignment.id] += 1
                message = (
                    action["urge"].get("message") if isinstance(action["urge"], dict) else None
                )
                did.append({"code": "urge", "message": message or None})
            elif "summon" in action:
                did.append(self._summon(item, assignment, due, action["summon"]))
        return did

    def _recipients(
        self, item: Item, assignment: Assignment | None, roles: list[str]
    ) -> list[User]:
        """Users to notify: role holders over the item's node, its raiser, the summoned units' users."""
        users = self.cache.holders(
            [r for r in roles if r not in ("raiser", "assignee")], item.node_path
        )
        if "raiser" in roles and item.raised_by_id:
            users.append(self.cache.user(item.raised_by_id))
        if "assignee" in roles:
            summoned = (
                [assignment]
                if assignment is not None
                else [a for a in self._summonses_of(item.id) if a.open]
            )
            for a in summoned:
                users += self.cache.holders([a.role], a.unit_path)
        return users

    def _summary(self, item: Item) -> dict[str, Any] | None:
        """The item as a receiver sees it now: loaded once, with the priority the steps left."""
        if item.id not in self.summaries:
            self.summaries[item.id] = item_summary(item.id)
        summary = self.summaries[item.id]
        return None if summary is None else {**summary, "priority": item.priority}

    # -- summoning the next level (as engine.workflow.dispatch.summon, on the rows in memory) ------

    def _summonses_of(self, item_id: int) -> list[Assignment]:
        """Every summons of the batch's item, those this batch made included."""
        if self._summonses is None:
            self._summonses = defaultdict(list)
            # What assignment_counts, the seen-units check and "assignee" recipients read.
            query = (
                Assignment.select(
                    Assignment.id,
                    Assignment.item,
                    Assignment.unit,
                    Assignment.unit_path,
                    Assignment.role,
                    Assignment.state,
                    Assignment.open,
                    Assignment.next_due_at,
                )
                .where(Assignment.item.in_(list(self.items)))
                .order_by(Assignment.id)
            )
            for a in query:
                self._summonses[a.item_id].append(a)
        return self._summonses[item_id]

    def _doc(self, item: Item, assignment: Assignment | None, due: DueStep) -> dict[str, Any]:
        """The rule document :func:`engine.workflow.context.item_doc` gives, from the rows in memory."""
        definition = self.cache.definition(item.definition_id)
        doc = kernel.rule_doc(
            kernel.ItemFacts.of(item, definition.key),
            self.cache.node(item.node_id, with_ids=self.node_ids),
            data=item.data,
            now=self.now,
            counts=kernel.summons_counts(self._summonses_of(item.id), self.now),
        )
        doc["escalation"] = {
            "step": due.step["key"],
            "on": due.step["on"],
            "unit": assignment.unit.key if assignment else None,
            "hours_overdue": round((self.now - due.deadline).total_seconds() / 3600, 4),
        }
        return doc

    def _summon(
        self, item: Item, assignment: Assignment | None, due: DueStep, table: str
    ) -> dict[str, Any]:
        """The kernel's summons plan, written with the batch's bulk writer."""
        rt = runtime(item.version_id)
        spec = rt.body["routing"][table]
        key = (item.definition_id, item.version_id, table)
        if key not in self.cache.calendars:
            self.cache.calendars[key] = calendar_for(item.definition_id, rt.body, spec)
        summonses = self._summonses_of(item.id)
        plan = kernel.summon(
            rt,
            table,
            self._doc(item, assignment, due),
            resolve=lambda unit: self._unit_node(unit, item),
            already={(a.unit_id, a.role) for a in summonses if a.open},
            calendar=self.cache.calendars[key],
            now=self.now,
        )
        record_faults(rt, item, plan.faults, self.now)
        for planned in plan.summonses:
            row = planned.row(item.id)
            self.writes.assignments.append(row)
            summonses.append(Assignment(**row))
            item.priority = max(item.priority, row["priority"])
            self.writes.notify(
                self.cache.holders([planned.role], planned.unit.path),
                item,
                kernel.summons_message(self.cache.definition(item.definition_id).name, item.title),
                lambda: self._summary(item),
            )
        if plan.summonses:
            self.writes.priority[item.id] = item.priority
        summoned = plan.summoned()
        self.writes.record("route", item.id, f"item:{item.id}", plan.detail(rt))
        if summoned and self.writes.subscribers("item.summoned"):
            self.writes.forward(
                "item.summoned",
                item,
                {
                    "action": "route",
                    "target": f"item:{item.id}",
                    "actor": None,
                    "item": self._summary(item),
                    "before": None,
                    "after": {"table": table, "summoned": summoned},
                },
            )
        return {"code": "summon", "table": table, "units": [s["name"] for s in summoned]}

    def _unit_node(self, unit: dict[str, str], item: Item) -> tuple[OrgNode, str] | None:
        """:func:`engine.workflow.dispatch.unit_node` on the sweep's cached nodes."""
        if "unit" in unit:
            key = ("unit", unit["unit"])
            if key not in self.cache.nodes:
                found = unit_node(unit, item)
                self.cache.nodes[key] = found[0] if found is not None else None
            node = self.cache.nodes[key]
            return (node, "department") if node is not None else None
        return self.cache.compound(item.node_id) or self.cache.node(item.node_id), unit["role"]

"""The deadline sweep: escalation steps (超时预警, 督办, 升级) applied exactly once.

An item type's ``escalation`` lists steps; each watches one deadline — a summons'
report-in (报到) deadline, its handling deadline, or the item's state deadline — and
falls due ``before_hours`` before it or ``after_hours`` after it, on the calendar
the deadline itself runs on. :func:`sweep` finds the steps that have fallen due and
applies each in a transaction of its own that first inserts an :class:`Escalation`
row: its unique key (item, subject, step) makes the step happen once, however many
processes on however many hosts sweep at the same moment.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from peewee import IntegrityError

from engine import audit
from engine.calendar import Calendar
from engine.context import item_doc
from engine.db import is_postgres, write_transaction
from engine.deadlines import calendar_for
from engine.definitions import Runtime, runtime
from engine.dispatch import summon
from engine.errors import Conflict
from engine.models import Assignment, Definition, DefinitionVersion, Escalation, Item
from engine.notify import notify_users, users_with_roles

SUMMONS_REPORT, SUMMONS_HANDLE, STATE = "summons_report", "summons_handle", "state"
CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True)
class DueStep:
    """One escalation step that has fallen due on one subject (a summons or a state visit)."""

    item_id: int
    assignment_id: int | None
    subject: str
    step: Mapping[str, Any]
    deadline: dt.datetime
    fire_at: dt.datetime
    type_key: str


@dataclass
class SweepResult:
    """What one sweep did: subjects looked at, steps applied by ``type/step``, races lost."""

    summons_checked: int = 0
    items_checked: int = 0
    applied: Counter[str] = field(default_factory=Counter)
    raced: int = 0  # another sweeper applied the step first
    moved: int = 0  # the subject moved on (reported in, transitioned) before the step ran
    busy: int = 0  # the database stayed locked; the next sweep retries

    @property
    def total(self) -> int:
        return sum(self.applied.values())

    def __str__(self) -> str:
        steps = ", ".join(f"{k} {n}" for k, n in sorted(self.applied.items())) or "none"
        return (f"checked {self.summons_checked} summons and {self.items_checked} items; "
                f"applied {self.total} step(s): {steps}; "
                f"already done elsewhere {self.raced}; moved on {self.moved}; busy {self.busy}")


def fire_at(calendar: Calendar, deadline: dt.datetime, step: Mapping[str, Any]) -> dt.datetime:
    """When ``step`` falls due for ``deadline``: before or after it, in calendar time."""
    if "before_hours" in step:
        return calendar.before(deadline, float(step["before_hours"]))
    due = calendar.due(deadline, float(step.get("after_hours", 0)))
    assert due is not None
    return due


def _escalating() -> dict[int, Runtime]:
    """Runtimes of every published item-type version that declares escalation steps."""
    versions = (
        DefinitionVersion.select(DefinitionVersion.id).join(Definition)
        .where(Definition.kind == "item_type")
    )
    found = {v.id: runtime(v.id) for v in versions}
    return {vid: rt for vid, rt in found.items() if rt.body.get("escalation")}


class _Calendars:
    """Calendars by (version, routing table), looked up once per sweep."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, str | None], Calendar] = {}

    def get(self, definition_id: int, version_id: int, rt: Runtime, table: str | None) -> Calendar:
        key = (version_id, table)
        if key not in self._cache:
            spec = (rt.body.get("routing") or {}).get(table) if table else None
            self._cache[key] = calendar_for(definition_id, rt.body, spec)
        return self._cache[key]


def _horizon(now: dt.datetime, versions: Mapping[int, Runtime], calendars: _Calendars) -> dt.datetime:
    """The latest deadline any ``before_hours`` step could already be due for."""
    horizon = now
    definition_ids = dict(
        DefinitionVersion.select(DefinitionVersion.id, DefinitionVersion.definition)
        .where(DefinitionVersion.id.in_(list(versions))).tuples()
    )
    for vid, rt in versions.items():
        befores = [float(s["before_hours"]) for s in rt.body["escalation"] if "before_hours" in s]
        if not befores:
            continue
        tables: list[str | None] = [None, *(rt.body.get("routing") or {})]
        for table in tables:
            calendar = calendars.get(definition_ids[vid], vid, rt, table)
            horizon = max(horizon, calendar.due(now, max(befores)) or now)
    return horizon


def _done(item_ids: list[int]) -> set[tuple[int, str, str]]:
    done: set[tuple[int, str, str]] = set()
    for start in range(0, len(item_ids), CHUNK):
        rows = (Escalation.select(Escalation.item, Escalation.subject, Escalation.step)
                .where(Escalation.item.in_(item_ids[start:start + CHUNK])).tuples())
        done.update(rows)
    return done


def _falls_due(calendar: Calendar, deadline: dt.datetime, step: Mapping[str, Any], now: dt.datetime) -> dt.datetime | None:
    """When the step fell due, or None if it has not (or is a warning the deadline outran)."""
    when = fire_at(calendar, deadline, step)
    if when > now or ("before_hours" in step and now >= deadline):
        return None  # a warning that comes after the deadline would mislead
    return when


def due_steps(now: dt.datetime, result: SweepResult | None = None) -> Iterator[DueStep]:
    """Every escalation step due at ``now`` and not yet applied, summons first."""
    result = result if result is not None else SweepResult()
    versions = _escalating()
    if not versions:
        return
    calendars = _Calendars()
    horizon = _horizon(now, versions, calendars)
    summonses = list(
        Assignment.select(Assignment, Item.id, Item.definition, Item.version)
        .join(Item)
        .where(Assignment.open & Item.version.in_(list(versions)) & ~Item.closed
               & ((Assignment.next_due_at <= horizon) | (Assignment.handle_due_at <= horizon)))
        .order_by(Assignment.id)
    )
    items = list(
        Item.select(Item.id, Item.definition, Item.version, Item.state, Item.lock, Item.due_at)
        .where(~Item.closed & (Item.due_at <= horizon) & Item.version.in_(list(versions)))
        .order_by(Item.id)
    )
    result.summons_checked, result.items_checked = len(summonses), len(items)
    done = _done(sorted({a.item_id for a in summonses} | {i.id for i in items}))
    for a in summonses:
        rt = versions[a.item.version_id]
        calendar = calendars.get(a.item.definition_id, a.item.version_id, rt, a.table)
        subject = f"summons:{a.id}"
        for step in rt.body["escalation"]:
            if step["on"] == STATE or (a.item_id, subject, step["key"]) in done:
                continue
            if a.table not in step.get("tables", [a.table]) or a.role not in step.get("roles", [a.role]):
                continue
            deadline = a.report_due_at if step["on"] == SUMMONS_REPORT else a.handle_due_at
            if deadline is None or (step["on"] == SUMMONS_REPORT and a.state != "summoned"):
                continue
            when = _falls_due(calendar, deadline, step, now)
            if when is not None:
                yield DueStep(a.item_id, a.id, subject, step, deadline, when, rt.key)
    for item in items:
        rt = versions[item.version_id]
        calendar = calendars.get(item.definition_id, item.version_id, rt, None)
        subject = f"state:{item.state}:{item.lock}"
        for step in rt.body["escalation"]:
            if step["on"] != STATE or (item.id, subject, step["key"]) in done:
                continue
            if item.state not in step.get("states", [item.state]):
                continue
            when = _falls_due(calendar, item.due_at, step, now)
            if when is not None:
                yield DueStep(item.id, None, subject, step, item.due_at, when, rt.key)


def sweep(*, now: dt.datetime) -> SweepResult:
    """Apply every escalation step due at ``now``, each once; safe to run concurrently.

    :param now: naive UTC; the caller reads the clock.
    """
    result = SweepResult()
    for due in list(due_steps(now, result)):
        outcome = apply_step(due, now=now)
        if outcome == "applied":
            result.applied[f"{due.type_key}/{due.step['key']}"] += 1
        else:
            setattr(result, outcome, getattr(result, outcome) + 1)
    return result


def _locked_item(item_id: int) -> Item:
    query = Item.select().where(Item.id == item_id)
    return (query.for_update() if is_postgres() else query).get()  # SQLite: BEGIN IMMEDIATE


def _still_due(due: DueStep, item: Item, assignment: Assignment | None) -> bool:
    if item.closed:
        return False
    if assignment is None:
        return due.subject == f"state:{item.state}:{item.lock}"
    if not assignment.open:
        return False
    return due.step["on"] != SUMMONS_REPORT or assignment.state == "summoned"


def apply_step(due: DueStep, *, now: dt.datetime) -> str:
    """Apply one due step in its own transaction: ``applied``, ``raced``, ``moved`` or ``busy``.

    The Escalation row is inserted first; if another sweeper inserted it already, the
    unique key refuses ours and everything this step did is rolled back.
    """
    try:
        with write_transaction():
            item = _locked_item(due.item_id)
            assignment = Assignment.get_by_id(due.assignment_id) if due.assignment_id else None
            if not _still_due(due, item, assignment):
                return "moved"
            Escalation.create(
                item=item, subject=due.subject, step=due.step["key"], kind=due.step["on"],
                assignment=assignment, due_at=due.deadline, at=now,
            )
            did = _act(item, assignment, due, now=now)
            audit.record(
                "escalation", at=now, actor=None, item=item,
                target=f"assignment:{assignment.id}" if assignment else f"item:{item.id}",
                detail={
                    "step": due.step["key"], "label": due.step.get("label", due.step["key"]),
                    "on": due.step["on"], "subject": due.subject,
                    "unit": assignment.unit.name if assignment else None,
                    "deadline": due.deadline.isoformat(), "due_at": due.fire_at.isoformat(),
                    "did": did,
                },
            )
    except IntegrityError:
        return "raced"
    except Conflict:
        return "busy"
    return "applied"


def _act(item: Item, assignment: Assignment | None, due: DueStep, *, now: dt.datetime) -> list[str]:
    """Run the step's actions in order; return a line per action for the timeline."""
    step = due.step
    label = step.get("label", step["key"])
    did: list[str] = []
    for action in step["do"]:
        if "notify" in action:
            spec = action["notify"]
            default = f"【{label}】{item.title}" + (f"({assignment.unit.name})" if assignment else "")
            count = notify_users(_recipients(item, assignment, spec["roles"]), item,
                                 spec.get("message") or default, now=now)
            did.append(f"notify {','.join(spec['roles'])}: {count}")
        elif "raise_priority" in action:
            fresh = Item.get_by_id(item.id)
            priority = min(9, fresh.priority + int(action["raise_priority"]))
            Item.update(priority=priority).where(Item.id == item.id).execute()
            if assignment is not None:
                Assignment.update(priority=max(assignment.priority, priority)).where(
                    Assignment.id == assignment.id).execute()
            did.append(f"priority {fresh.priority} → {priority}")
        elif "urge" in action:
            Item.update(urge_count=Item.urge_count + 1).where(Item.id == item.id).execute()
            if assignment is not None:
                Assignment.update(urge_count=Assignment.urge_count + 1).where(
                    Assignment.id == assignment.id).execute()
            message = action["urge"].get("message") if isinstance(action["urge"], dict) else None
            did.append(f"urged{': ' + message if message else ''}")
        elif "summon" in action:
            doc = item_doc(Item.get_by_id(item.id), actor=None, now=now)
            doc["escalation"] = {
                "step": step["key"], "on": step["on"],
                "unit": assignment.unit.key if assignment else None,
                "hours_overdue": round((now - due.deadline).total_seconds() / 3600, 4),
            }
            created = summon(Item.get_by_id(item.id), action["summon"], doc, now=now, actor=None)
            did.append(f"summon {action['summon']}: {', '.join(a.unit.name for a in created) or '-'}")
    return did


def _recipients(item: Item, assignment: Assignment | None, roles: list[str]) -> list[Any]:
    """Users to notify: role holders over the item's node, its raiser, the summoned units' users."""
    users = users_with_roles([r for r in roles if r not in ("raiser", "assignee")], item.node_path)
    if "raiser" in roles and item.raised_by_id:
        users.append(item.raised_by)
    if "assignee" in roles:
        summoned = [assignment] if assignment is not None else list(
            Assignment.select().where((Assignment.item == item) & Assignment.open))
        for a in summoned:
            users += users_with_roles([a.role], a.unit_path)
    return users

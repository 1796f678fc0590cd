"""The deadline sweep: escalation steps (超时预警, 督办, 升级) applied exactly once.

An item type's ``escalation`` lists steps; each watches one deadline — a summons'
report-in (报到) deadline, its handling deadline, or the item's state deadline — and
falls due ``before_hours`` before it or ``after_hours`` after it, on the calendar
the deadline itself runs on. :func:`sweep` finds the steps that have fallen due and
applies them a batch per transaction (``engine/workflow/escalation_batch.py``) that first inserts
their :class:`Escalation` rows: the unique key (item, subject, step) makes each step
happen once, however many processes on however many hosts sweep at the same moment.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.core.calendar import Calendar
from engine.definitions.definitions import Runtime, runtime
from engine.store.models import Assignment, Definition, DefinitionVersion, Escalation, Item
from engine.workflow.deadlines import calendar_for
from engine.workflow.escalation_batch import SweepCache, apply_batch

SUMMONS_REPORT, SUMMONS_HANDLE, STATE = "summons_report", "summons_handle", "state"
CHUNK = 500  # ids per IN (...) list
BATCH = 250  # steps per transaction: short enough for other writers, long enough to amortize


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
        return (
            f"checked {self.summons_checked} summons and {self.items_checked} items; "
            f"applied {self.total} step(s): {steps}; "
            f"already done elsewhere {self.raced}; moved on {self.moved}; busy {self.busy}"
        )


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
        DefinitionVersion.select(DefinitionVersion.id)
        .join(Definition)
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


def _horizon(
    now: dt.datetime, versions: Mapping[int, Runtime], calendars: _Calendars
) -> dt.datetime:
    """The latest deadline any ``before_hours`` step could already be due for."""
    horizon = now
    definition_ids = dict(
        DefinitionVersion.select(DefinitionVersion.id, DefinitionVersion.definition)
        .where(DefinitionVersion.id.in_(list(versions)))
        .tuples()
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
        rows = (
            Escalation.select(Escalation.item, Escalation.subject, Escalation.step)
            .where(Escalation.item.in_(item_ids[start : start + CHUNK]))
            .tuples()
        )
        done.update(rows)
    return done


def _falls_due(
    calendar: Calendar, deadline: dt.datetime, step: Mapping[str, Any], now: dt.datetime
) -> dt.datetime | None:
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
        .where(
            Assignment.open
            & Item.version.in_(list(versions))
            & ~Item.closed
            & ((Assignment.next_due_at <= horizon) | (Assignment.handle_due_at <= horizon))
        )
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
            if a.table not in step.get("tables", [a.table]) or a.role not in step.get(
                "roles", [a.role]
            ):
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


def sweep(*, now: dt.datetime, batch: int = BATCH) -> SweepResult:
    """Apply every escalation step due at ``now``, each once; safe to run concurrently.

    :param now: naive UTC; the caller reads the clock.
    :param batch: steps applied per transaction.
    """
    result = SweepResult()
    steps = list(due_steps(now, result))
    cache = SweepCache()
    for start in range(0, len(steps), batch):
        chunk = steps[start : start + batch]
        for due, outcome in zip(chunk, apply_batch(chunk, now=now, cache=cache), strict=True):
            if outcome == "applied":
                result.applied[f"{due.type_key}/{due.step['key']}"] += 1
            else:
                setattr(result, outcome, getattr(result, outcome) + 1)
    return result

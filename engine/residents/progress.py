"""An item as its resident follows it: the state in the words the definition gives
residents, who is handling it now and by when, and the staff's internal steps (routing,
re-routing, escalation, 督办) only as their outcome: who was told.

Nothing here renders: the page turns these into words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.definitions.definitions import Runtime
from engine.store.models import Assignment, Item

# Events whose outcome a resident is told: the units they summoned ("已通知：…").
SUMMONING = ("route", "item.reroute")
# Who acts on an item beside the named roles of the pack: not a party a resident waits for.
_NOT_STAFF = ("raiser", "assignee")


def state_word(rt: Runtime, state: str) -> str:
    """The state as a resident reads it: its ``resident_label``, else its label."""
    spec = rt.states.get(state, {})
    return str(spec.get("resident_label") or rt.state_label(state))


def unit_word(name: str, role: str, labels: Mapping[str, str]) -> str:
    """A summoned unit as a resident knows it: a department by its name (区消防大队), a
    party of the compound by its role (物业服务企业)."""
    return name if role == "department" else labels.get(role, role)


def notified(event_action: str, detail: Any, after: Any, labels: Mapping[str, str]) -> list[str]:
    """Who a routing or re-routing event told, as a resident knows them (empty: nobody new)."""
    part = detail if event_action == "route" else after
    summoned = part.get("summoned") if isinstance(part, Mapping) else None
    words: list[str] = []
    for unit in summoned or []:
        if isinstance(unit, Mapping):
            word = unit_word(str(unit.get("name", "")), str(unit.get("role", "")), labels)
            if word and word not in words:
                words.append(word)
    return words


@dataclass(frozen=True)
class NextStep:
    """Who is to act next on an item and by when (None: no deadline)."""

    who: str
    due: dt.datetime | None
    reply: bool  # a summoned unit's answer, not a step of the item's own workflow


def next_steps(
    item: Item, rt: Runtime, assignments: Iterable[Assignment], labels: Mapping[str, str]
) -> list[NextStep]:
    """Who handles ``item`` now: each summoned unit still open, by its next deadline; else
    the roles that may move it out of its state (the resident's own turn is an offer, not
    a step), by the state's deadline. Nothing for a closed item."""
    if item.closed:
        return []
    steps: list[NextStep] = []
    seen: set[str] = set()
    for a in assignments:
        if not a.open:
            continue
        who = unit_word(a.unit.name, a.role, labels)
        if who in seen:
            continue
        seen.add(who)
        steps.append(NextStep(who, a.next_due_at or a.handle_due_at or a.report_due_at, True))
    if steps:
        return steps
    for spec in rt.workflow["transitions"]:
        if item.state not in spec["from"]:
            continue
        for role in spec["roles"]:
            who = labels.get(role)
            if role in _NOT_STAFF or who is None or who in seen:
                continue
            seen.add(who)
            steps.append(NextStep(who, item.due_at, False))
    return steps[:1]  # the first role that may act is the one the resident waits for

"""An item's progress as its resident reads it: raised, moved, who was told, who answered.

The staff's own steps (督办, escalation, re-assigning, a look at personal data) are left
out; routing and re-routing show only their outcome, the units told ("已通知：…").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.definitions.definitions import Runtime
from engine.org.scope import role_labels
from engine.residents.progress import SUMMONING, notified, state_word
from engine.store.models import Assignment, Item
from engine.trail import privacy
from engine.workflow import items
from pages.itemviews import STAFF_ONLY, timeline_view


@dataclass(frozen=True)
class Step:
    """One line of the progress: ``kind`` is raise, move, notified or reply."""

    at: Any
    kind: str
    who: str = ""
    label: str = ""
    state: str = ""
    names: tuple[str, ...] = ()
    reply: str = ""
    specs: tuple[Any, ...] = ()
    answers: Mapping[str, Any] = field(default_factory=dict)


def _move(e: Any, rt: Runtime) -> Step:
    spec = rt.transition(e.action.removeprefix("transition.")) or {}
    answers = (e.after or {}).get("form") or {}
    specs = (
        privacy.type_fields(rt, e.action.removeprefix("transition."))
        if spec.get("form") and answers
        else ()
    )
    return Step(
        e.at,
        "move",
        who=e.actor_name or "",
        label=str((e.detail or {}).get("label") or spec.get("label", "")),
        state=state_word(rt, (e.after or {}).get("state", "")),
        specs=specs,
        answers=answers,
    )


def progress(
    item: Item, rt: Runtime, view: privacy.Sight, assignments: list[Assignment]
) -> list[Step]:
    """The item's progress for its resident, oldest first."""
    labels = role_labels()
    # A department answers by its name; a party of the compound (all three share the
    # compound as their unit) by the role its user acted in, as timeline_view names it.
    departments = {a.unit.key: a.unit.name for a in assignments if a.role == "department"}
    events = items.timeline_rows(item)
    kept = [e for e in events if e.action not in SUMMONING and e.action not in STAFF_ONLY]
    paths = [a.unit_path for a in assignments]
    shown = dict(
        zip(
            map(id, kept),
            timeline_view(item, rt, view, "resident", kept, unit_paths=paths),
            strict=True,
        )
    )
    steps: list[Step] = []
    for e in events:
        if e.action in SUMMONING:
            names = notified(e.action, e.detail, e.after, labels)
            if names:
                steps.append(Step(e.at, "notified", names=tuple(names)))
            continue
        s = shown.get(id(e))
        if s is None:
            continue
        if s.action == "item.raise":
            steps.append(
                Step(s.at, "raise", who=s.actor_name or "", state=state_word(rt, s.after["state"]))
            )
        elif s.action.startswith("transition."):
            steps.append(_move(s, rt))
        elif s.action == "summons.complete":
            unit = departments.get((s.after or {}).get("unit"), s.actor_name or "")
            steps.append(Step(s.at, "reply", who=unit, reply=(s.after or {}).get("reply") or ""))
    return steps

"""The one JSON document a rule sees (docs/pack-format.md, "What a rule sees")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from engine import clock
from engine.actors import Actor
from engine.models import Assignment, Item, OrgNode


def node_doc(node: OrgNode) -> dict[str, Any]:
    return {"key": node.key, "kind": node.kind, "name": node.name,
            "path": list(node.keys), "profile": node.profile or {}}


def actor_doc(actor: Actor | None, node_path: str = "/") -> dict[str, Any]:
    if actor is None:
        return {"username": None, "roles": []}
    return {"username": actor.user.username, "roles": sorted(actor.roles_at(node_path))}


def assignment_counts(
    item: Item, now: dt.datetime, assignments: Iterable[Assignment] | None = None
) -> dict[str, int]:
    counts = {"total": 0, "open": 0, "done": 0, "declined": 0, "overdue": 0, "reported": 0}
    for a in Assignment.select().where(Assignment.item == item) if assignments is None else assignments:
        counts["total"] += 1
        counts[a.state] = counts.get(a.state, 0) + 1
        if a.open:
            counts["open"] += 1
            if a.next_due_at is not None and a.next_due_at < now:
                counts["overdue"] += 1
    return counts


def item_doc(
    item: Item, *, actor: Actor | None, now: dt.datetime,
    form: Mapping[str, Any] | None = None, data: Mapping[str, Any] | None = None,
    assignments: Iterable[Assignment] | None = None,
) -> dict[str, Any]:
    """The rule document for ``item`` as ``actor`` sees it at ``now``.

    :param assignments: all the item's summonses, when the caller has them already.
    """
    return {
        "data": dict(item.data if data is None else data),
        "form": dict(form or {}),
        "item": {
            "id": item.id, "type": item.definition.key, "state": item.state,
            "priority": item.priority, "satisfaction": item.satisfaction,
            "raised_at": clock.iso(item.raised_at),
            "age_hours": round((now - item.raised_at).total_seconds() / 3600, 4),
            "state_since": clock.iso(item.state_since),
            "hours_in_state": round((now - item.state_since).total_seconds() / 3600, 4),
        },
        "node": node_doc(item.node),
        "actor": actor_doc(actor, item.node_path),
        "assignments": assignment_counts(item, now, assignments),
        "now": clock.iso(now),
    }


def new_item_doc(
    node: OrgNode, data: Mapping[str, Any], *, type_key: str, actor: Actor | None, now: dt.datetime
) -> dict[str, Any]:
    """The rule document for an item being raised (no id, no summons yet)."""
    return {
        "data": dict(data), "form": {},
        "item": {"id": None, "type": type_key, "state": None, "priority": 0,
                 "satisfaction": None, "raised_at": clock.iso(now), "age_hours": 0,
                 "state_since": clock.iso(now), "hours_in_state": 0},
        "node": node_doc(node),
        "actor": actor_doc(actor, node.path),
        "assignments": {"total": 0, "open": 0, "done": 0, "declined": 0, "overdue": 0, "reported": 0},
        "now": clock.iso(now),
    }

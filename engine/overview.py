"""Numbers for supervisors: open, overdue and resolved items per org node in scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from peewee import fn

from engine.actors import Actor
from engine.models import Item, OrgNode
from engine.scope import item_within, visible_items


@dataclass(frozen=True)
class NodeCounts:
    node: OrgNode
    open: int
    overdue: int
    resolved: int
    total: int
    median_hours: float | None

    @property
    def resolution_rate(self) -> float | None:
        return round(100 * self.resolved / self.total, 1) if self.total else None


def counts_by_child(actor: Actor, parent: OrgNode, *, now: dt.datetime) -> list[NodeCounts]:
    """For each child of ``parent``: open, overdue, resolved and total items in scope."""
    rows: list[NodeCounts] = []
    for child in OrgNode.select().where(OrgNode.parent == parent).order_by(OrgNode.id):
        if child.kind in ("building", "department"):
            continue
        query = visible_items(actor).where(item_within(child.path))
        total = query.count()
        if not total:
            rows.append(NodeCounts(child, 0, 0, 0, 0, None))
            continue
        open_ = query.where(~Item.closed).count()
        overdue = query.where(~Item.closed & (Item.due_at < now)).count()
        resolved = query.where(Item.resolved_at.is_null(False)).count()
        seconds = sorted(
            s for (s,) in query.select(Item.resolution_seconds)
            .where(Item.resolution_seconds.is_null(False)).tuples()
        )
        median = round(seconds[len(seconds) // 2] / 3600, 1) if seconds else None
        rows.append(NodeCounts(child, open_, overdue, resolved, total, median))
    return rows


def overdue_items(actor: Actor, *, now: dt.datetime, limit: int = 100) -> list[Any]:
    return list(
        visible_items(actor).where(~Item.closed & (Item.due_at < now))
        .order_by(Item.due_at).limit(limit)
    )


def totals(actor: Actor, *, now: dt.datetime) -> dict[str, Any]:
    query = visible_items(actor)
    resolved = query.where(Item.resolved_at.is_null(False))
    rated = query.where(Item.satisfaction.is_null(False))
    total = query.count()
    return {
        "total": total,
        "open": query.where(~Item.closed).count(),
        "overdue": query.where(~Item.closed & (Item.due_at < now)).count(),
        "resolved": resolved.count(),
        "rate": round(100 * resolved.count() / total, 1) if total else None,
        "satisfaction": rated.select(fn.AVG(Item.satisfaction)).scalar(),
    }

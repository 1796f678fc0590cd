"""Numbers for supervisors: open, overdue and resolved items per org node in scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from peewee import Case, fn

from engine.org.actors import Actor
from engine.org.scope import item_within, subtree_nodes, visible_items
from engine.store.db import database
from engine.store.models import Item, OrgNode


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


def _count(cond: Any) -> Any:
    return fn.COALESCE(fn.SUM(Case(None, [(cond, 1)], 0)), 0)


def node_with_children(
    *, key: str | None = None, node_id: int | None = None
) -> tuple[OrgNode | None, list[OrgNode]]:
    """The node with ``key`` (or ``node_id``) and its children in id order, in one query."""
    if key is not None:
        inner = OrgNode.alias()
        which = (OrgNode.key == key) | OrgNode.parent.in_(
            inner.select(inner.id).where(inner.key == key)
        )
    else:
        which = (OrgNode.id == node_id) | (OrgNode.parent == node_id)
    rows = list(OrgNode.select().where(which).order_by(OrgNode.id))
    found = next((r for r in rows if (r.key == key if key is not None else r.id == node_id)), None)
    if found is None:
        return None, []
    return found, [r for r in rows if r.parent_id == found.id and r.id != found.id]


def counts_by_child(
    actor: Actor, parent: OrgNode, *, now: dt.datetime, children: list[OrgNode] | None = None
) -> list[NodeCounts]:
    """For each child of ``parent``: open, overdue, resolved and total items in scope.

    Four queries whatever the number of children: the children (none when given), the
    subtree's nodes, the counts grouped by node and the resolution times (each item's
    node is then credited to the child whose path it lies under)."""
    if children is None:
        children = list(OrgNode.select().where(OrgNode.parent == parent).order_by(OrgNode.id))
    children = [child for child in children if child.kind not in ("building", "department")]
    if not children:
        return []
    child_of: dict[int, int] = {}  # node id -> the child of ``parent`` it lies under
    by_path = {child.path: child.id for child in children}
    depth = len(parent.path)
    for node_id, path in subtree_nodes(parent.path):
        head = path[: path.find("/", depth) + 1]  # parent's path + the child's id + "/"
        if head in by_path:
            child_of[node_id] = by_path[head]
    in_scope = visible_items(actor).where(item_within(parent.path))
    numbers: dict[int, list[int]] = {child.id: [0, 0, 0, 0] for child in children}
    grouped = in_scope.select(
        Item.node,
        fn.COUNT(Item.id),
        _count(~Item.closed),
        _count(~Item.closed & (Item.due_at < now)),
        _count(Item.resolved_at.is_null(False)),
    ).group_by(Item.node)
    for node_id, *counts in database.execute(grouped):
        child_id = child_of.get(node_id)
        if child_id is not None:
            totals = numbers[child_id]
            for i, n in enumerate(counts):
                totals[i] += int(n)
    seconds: dict[int, list[float]] = {}
    timed = in_scope.select(Item.node, Item.resolution_seconds).where(
        Item.resolution_seconds.is_null(False)
    )
    for node_id, value in database.execute(timed):  # the raw cursor: no row objects
        child_id = child_of.get(node_id)
        if child_id is not None:
            seconds.setdefault(child_id, []).append(value)
    rows: list[NodeCounts] = []
    for child in children:
        total, open_, overdue, resolved = numbers[child.id]
        values = sorted(seconds.get(child.id, ()))
        median = round(values[len(values) // 2] / 3600, 1) if values else None
        rows.append(NodeCounts(child, open_, overdue, resolved, total, median if total else None))
    return rows


def overdue_items(actor: Actor, *, now: dt.datetime, limit: int = 100) -> list[Any]:
    """The first ``limit`` overdue items in scope by deadline, each with its node."""
    return list(
        visible_items(actor)
        .select_extend(*OrgNode._meta.sorted_fields)
        .join(OrgNode, on=(Item.node == OrgNode.id))
        .where(~Item.closed & (Item.due_at < now))
        .order_by(Item.due_at)
        .limit(limit)
    )


def totals(actor: Actor, *, now: dt.datetime) -> dict[str, Any]:
    """Items in scope: total, open, overdue, resolved, resolution rate, mean rating (one query)."""
    query = visible_items(actor).select(
        fn.COUNT(Item.id),
        _count(~Item.closed),
        _count(~Item.closed & (Item.due_at < now)),
        _count(Item.resolved_at.is_null(False)),
        fn.AVG(Item.satisfaction),
    )
    total, open_, overdue, resolved, satisfaction = database.execute(query).fetchone()
    total, resolved = int(total or 0), int(resolved or 0)
    return {
        "total": total,
        "open": int(open_ or 0),
        "overdue": int(overdue or 0),
        "resolved": resolved,
        "rate": round(100 * resolved / total, 1) if total else None,
        "satisfaction": satisfaction,
    }

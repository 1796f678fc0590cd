"""The overdue board (超期看板): open and overdue counts by street, community, compound and
department, with the items behind each count. Counts are GROUP BY queries over the
scoped query layer, never Python loops over items.
"""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass
from functools import reduce
from typing import Any

from peewee import JOIN, Case, fn

from engine.org.actors import Actor
from engine.org.scope import path_under, role_sees, summons_in_view, visible_items
from engine.store.models import Assignment, Item, OrgNode
from engine.supervision import tallies

AREA_LEVELS = ("street", "community", "compound")
LEVELS = (*AREA_LEVELS, "department")


@dataclass(frozen=True)
class BoardRow:
    node: OrgNode
    open: int  # open items (departments: open summons)
    overdue: int  # overdue items (departments: overdue summons)
    items: int  # distinct items behind ``overdue``


def _count(cond: Any) -> Any:
    return fn.COALESCE(fn.SUM(Case(None, [(cond, 1)], 0)), 0)


def _nodes(actor: Actor, level: str, within: OrgNode | None) -> Any:
    """Nodes of ``level`` to list: departments all; areas only inside the actor's subtrees."""
    query = OrgNode.select().where(OrgNode.kind == level).order_by(OrgNode.id)
    if level == "department":
        return query
    paths = [g.node_path for g in actor.grants if role_sees(g.role) == "subtree"]
    if not paths:
        return query.where(OrgNode.id < 0)
    query = query.where(reduce(operator.or_, [path_under(OrgNode.path, p) for p in paths]))
    if within is not None:
        query = query.where(path_under(OrgNode.path, within.path))
    return query


def board(
    actor: Actor, level: str, *, now: dt.datetime, within: OrgNode | None = None
) -> list[BoardRow]:
    """One row per node of ``level`` (under ``within``), most overdue first.

    :param level: street, community, compound or department.
    """
    if level not in LEVELS:
        raise ValueError(level)
    nodes = list(_nodes(actor, level, within))
    if level == "department":
        counts = _department_counts(actor, now, within)
    else:
        counts = _area_counts(actor, nodes, now, within)
    rows = [BoardRow(node, *counts.get(node.id, (0, 0, 0))) for node in nodes]
    return sorted(rows, key=lambda r: (-r.overdue, -r.open, r.node.id))


def _area_counts(
    actor: Actor, nodes: list[OrgNode], now: dt.datetime, within: OrgNode | None
) -> dict[int, tuple[int, int, int]]:
    """Open and overdue items under each of ``nodes`` (which lie in the actor's subtrees,
    so every item under them is in scope), from the stored counts: the counts of every
    node under the subtrees, each credited to the listed node its path lies under."""
    if not nodes:
        return {}
    listed = {node.id for node in nodes}
    roots = []
    for path in (g.node_path for g in actor.grants if role_sees(g.role) == "subtree"):
        if within is None or within.path.startswith(path):
            roots.append(within.path if within is not None else path)
        elif path.startswith(within.path):
            roots.append(path)
    found: dict[int, list[int]] = {}
    for path, counts in tallies.by_node(roots, now=now).items():
        for part in path.strip("/").split("/"):
            if int(part) in listed:
                numbers = found.setdefault(int(part), [0, 0])
                numbers[0] += counts.open
                numbers[1] += counts.overdue
                break
    return {node: (open_, late, late) for node, (open_, late) in found.items()}


def _area_counts_live(
    actor: Actor, level: str, now: dt.datetime, within: OrgNode | None
) -> dict[int, tuple[int, int, int]]:
    """``_area_counts`` counted from the items (one GROUP BY over the scoped items)."""
    overdue = Item.due_at.is_null(False) & (Item.due_at < now)
    query = (
        visible_items(actor)
        .select(OrgNode.id, fn.COUNT(Item.id), _count(overdue))
        .join(OrgNode, on=Item.node_path.startswith(OrgNode.path))
        .where(~Item.closed & (OrgNode.kind == level))
    )
    if within is not None:
        query = query.where(path_under(Item.node_path, within.path))
    return {node: (open_, late, late) for node, open_, late in query.group_by(OrgNode.id).tuples()}


def _department_counts(
    actor: Actor, now: dt.datetime, within: OrgNode | None
) -> dict[int, tuple[int, int, int]]:
    late = Assignment.next_due_at.is_null(False) & (Assignment.next_due_at < now)
    query = (
        summons_in_view(actor)
        .select(
            Assignment.unit,
            fn.COUNT(Assignment.id),
            _count(late),
            fn.COUNT(fn.DISTINCT(Case(None, [(late, Assignment.item)], None))),
        )
        .join(OrgNode, on=(Assignment.unit == OrgNode.id), join_type=JOIN.INNER)
        .where(Assignment.open & (OrgNode.kind == "department"))
    )
    if within is not None:
        query = query.where(path_under(Item.node_path, within.path))
    return {
        unit: (open_, late_, items)
        for unit, open_, late_, items in query.group_by(Assignment.unit).tuples()
    }


def overdue_items(
    actor: Actor,
    level: str,
    node: OrgNode,
    *,
    now: dt.datetime,
    within: OrgNode | None = None,
    limit: int = 200,
) -> list[Item]:
    """The items behind a board count: overdue items under ``node``, or, for a department,
    the items on which its summons are overdue."""
    query = visible_items(actor).where(~Item.closed)
    if level == "department":
        late = (
            summons_in_view(actor)
            .select(Assignment.item)
            .where(
                Assignment.open
                & (Assignment.unit == node.id)
                & Assignment.next_due_at.is_null(False)
                & (Assignment.next_due_at < now)
            )
        )
        query = query.where(Item.id.in_(late))
        if within is not None:
            query = query.where(path_under(Item.node_path, within.path))
        return list(query.order_by(Item.due_at, Item.id).limit(limit))
    query = query.where(
        path_under(Item.node_path, node.path) & Item.due_at.is_null(False) & (Item.due_at < now)
    )
    return list(query.order_by(Item.due_at, Item.id).limit(limit))


def late_summons(
    actor: Actor, items: list[Item], *, now: dt.datetime
) -> dict[int, list[Assignment]]:
    """Item id → its open summons in the actor's view that are past their deadline."""
    if not items:
        return {}
    found: dict[int, list[Assignment]] = {}
    in_view = summons_in_view(actor).select(Assignment.id)
    query = (
        Assignment.select(Assignment, OrgNode)
        .join(OrgNode, on=(Assignment.unit == OrgNode.id))
        .where(
            Assignment.id.in_(in_view)
            & Assignment.item.in_([i.id for i in items])
            & Assignment.open
            & Assignment.next_due_at.is_null(False)
            & (Assignment.next_due_at < now)
        )
        .order_by(Assignment.next_due_at)
    )
    for assignment in query:
        found.setdefault(assignment.item_id, []).append(assignment)
    return found

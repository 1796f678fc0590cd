"""Numbers for supervisors: open, overdue and resolved items per org node in scope."""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass
from functools import reduce
from typing import Any

from peewee import SQL, Case, Select, fn

from engine.org.actors import Actor
from engine.org.scope import (
    NODE_COLUMNS,
    NODE_ROW_COLUMNS,
    NodeRow,
    item_within,
    role_sees,
    sees_everything,
    subtree_nodes,
    visible_items,
    visible_items_slotted,
    visible_part_shape,
    visible_parts_slotted,
)
from engine.store.as_of import AsOf
from engine.store.db import backend, database
from engine.store.models import Item, OrgNode
from engine.store.prepared import prepared, prepared_cursor
from engine.supervision import medians, tallies


@dataclass(frozen=True)
class NodeCounts:
    node: OrgNode | NodeRow
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


def _by_key(wanted: Any) -> Any:
    inner = OrgNode.alias()
    which = (OrgNode.key == wanted) | OrgNode.parent.in_(
        inner.select(inner.id).where(inner.key == wanted)
    )
    return OrgNode.select(*NODE_COLUMNS).where(which).order_by(backend().unindexed(OrgNode.id))


def _by_id(node: Any) -> Any:
    which = (OrgNode.id == node) | (OrgNode.parent == node)
    return OrgNode.select(*NODE_COLUMNS).where(which).order_by(backend().unindexed(OrgNode.id))


def node_with_children(
    *, key: str | None = None, node_id: int | None = None
) -> tuple[OrgNode | None, list[OrgNode]]:
    """The node with ``key`` (or ``node_id``) and its children in id order, without their
    files (``scope.NODE_COLUMNS``), in one prepared statement."""
    if key is not None:
        rows = list(prepared("node_with_children.key", _by_key, wanted=key))
    else:
        rows = list(prepared("node_with_children.id", _by_id, node=node_id))
    found = next((r for r in rows if (r.key == key if key is not None else r.id == node_id)), None)
    if found is None:
        return None, []
    return found, [r for r in rows if r.parent_id == found.id and r.id != found.id]


def _by_key_with_roots(wanted: Any) -> Any:
    inner = OrgNode.alias()
    which = (
        (OrgNode.key == wanted)
        | OrgNode.parent.in_(inner.select(inner.id).where(inner.key == wanted))
        | OrgNode.parent.is_null()
    )
    return OrgNode.select(*NODE_ROW_COLUMNS).where(which).order_by(backend().unindexed(OrgNode.id))


def _by_id_with_roots(node: Any) -> Any:
    which = (OrgNode.id == node) | (OrgNode.parent == node) | OrgNode.parent.is_null()
    return OrgNode.select(*NODE_ROW_COLUMNS).where(which).order_by(backend().unindexed(OrgNode.id))


def node_with_children_and_roots(
    *, key: str | None = None, node_id: int | None = None
) -> tuple[NodeRow | None, list[NodeRow], list[str]]:
    """``node_with_children`` as ``NodeRow`` tuples, and the paths of the org tree's
    roots, in one prepared statement: ``summary`` needs the roots to know whether the
    actor sees everything (``scope.sees_everything``), which was a statement of its own."""
    if key is not None:
        cursor = prepared_cursor("node_with_children_and_roots.key", _by_key_with_roots, wanted=key)
    else:
        cursor = prepared_cursor("node_with_children_and_roots.id", _by_id_with_roots, node=node_id)
    rows = list(map(NodeRow._make, cursor.fetchall()))
    roots = [r.path for r in rows if r.parent_id is None]
    found = next((r for r in rows if (r.key == key if key is not None else r.id == node_id)), None)
    if found is None:
        return None, [], roots
    return found, [r for r in rows if r.parent_id == found.id and r.id != found.id], roots


def _child_finder(parent: str, children: Any) -> Any:
    """path → the id of the child of the node at ``parent`` whose subtree holds the path
    (None: the parent's own, or outside it)."""
    by_path = {child.path: child.id for child in children}
    depth = len(parent)

    def child_of(path: str) -> int | None:
        if not path.startswith(parent):
            return None
        return by_path.get(path[: path.find("/", depth) + 1])  # parent's path + child id + "/"

    return child_of


# ``summary``'s medians per (children's sources, extra times).
_MEDIANS: AsOf[dict[Any, int | None]] = AsOf()


def summary(
    actor: Actor,
    parent: OrgNode | NodeRow,
    *,
    now: dt.datetime,
    children: list[OrgNode] | list[NodeRow] | None = None,
    roots: list[str] | None = None,
    medians_max_age: float = 0,
) -> tuple[list[NodeCounts], dict[str, Any]]:
    """``counts_by_child`` and ``totals`` together, from the stored counts
    (``engine.supervision.tallies``) when every grant of the actor sees a subtree: the
    stored counts under those subtrees, plus the items the actor raised or was handed
    outside them, read one by one (few). Five queries: the children (none when given),
    the stored counts and today's deadlines, those extra items (or, when a subtree is
    the only root's, the roots, which show there are none: none when given as ``roots``),
    the resolution-time histograms and the times in each median's bucket (``medians``);
    six for who sees everything below the root (the areas' counts for the totals, the
    node's subtree's for its children).

    :param medians_max_age: the medians as worked out at most this many seconds before
        ``now`` for the same children, subtrees and extra times (``engine.store.as_of``;
        the totals' ``medians_as_of`` says when): the histograms are most of the district's
        page at a million items. 0: worked out now.
    """
    subtrees = _subtrees(actor)
    if subtrees is None:  # a grant sees only summoned items: count them one by one
        return counts_by_child_live(actor, parent, now=now, children=children), totals_live(
            actor, now=now
        )
    if children is None:
        children = list(OrgNode.select().where(OrgNode.parent == parent).order_by(OrgNode.id))
    children = [child for child in children if child.kind not in ("building", "department")]
    everything = _sees_every_item(actor, subtrees, roots)
    child_of = _child_finder(parent.path, children)
    numbers = {child.id: tallies.Counts() for child in children}
    total = tallies.Counts()
    extra_seconds: list[tuple[str, int]] = []  # the resolution times of the extra items
    if everything:
        # Who sees everything totals the areas (streets): their stored counts, summed by
        # area in the database (1,696 rows at 1,000,000 items, against 10,325 per
        # node), the root's own items (area 0) in the totals only. The root's children
        # are the areas; a node's below it come from the counts of that node's subtree
        # (the counts of every node of the district took 7.6 ms for a street's at 1M).
        for area, counts in tallies.by_area(now=now).items():
            total.add(counts)
            if area in numbers:
                numbers[area].add(counts)
        if parent.parent_id is not None:
            for path, counts in tallies.by_node([parent.path], now=now, nodes=False).items():
                if (child_id := child_of(path)) is not None:
                    numbers[child_id].add(counts)
    else:
        # The subtrees' nodes are read along, for the overdue list's scope.
        per_path = tallies.by_node(subtrees, now=now)
        for path, value, *columns in _extra_items(actor.user.id, subtrees):  # few rows
            tallies.add_item(per_path.setdefault(path, tallies.Counts()), *columns, now)
            if value is not None:
                extra_seconds.append((path, value))
        for path, counts in per_path.items():
            total.add(counts)
            if (child_id := child_of(path)) is not None:
                numbers[child_id].add(counts)
    items, resolved = total.items, total.resolved
    summed = {
        "total": items,
        "open": total.open,
        "overdue": total.overdue,
        "resolved": resolved,
        "rate": round(100 * resolved / items, 1) if items else None,
        "satisfaction": total.satisfaction,
    }
    if not children:
        return [], summed
    # Medians from the stored histograms (``medians``): each child's subtree where the
    # actor sees all of it, else the actor's subtrees inside it; plus the extra items.
    roots = {g.node_path: g.node_id for g in actor.grants}
    extra: dict[int, list[int]] = {}
    for path, value in extra_seconds:
        if (child_id := child_of(path)) is not None:
            extra.setdefault(child_id, []).append(value)
    sources = {c.id: medians.sources_for(c.id, c.path, roots) for c in children}
    middle, summed["medians_as_of"] = _MEDIANS.get(
        (
            "medians",
            tuple((key, tuple(found)) for key, found in sources.items()),
            tuple((key, tuple(times)) for key, times in sorted(extra.items())),
        ),
        lambda: medians.medians(sources, extra),
        now=now,
        max_age=medians_max_age,
    )
    rows: list[NodeCounts] = []
    for child in children:
        c = numbers[child.id]
        value = middle.get(child.id)
        median = round(value / 3600, 1) if value is not None else None
        rows.append(
            NodeCounts(child, c.open, c.overdue, c.resolved, c.items, median if c.items else None)
        )
    return rows, summed


def _sees_every_item(actor: Actor, subtrees: list[str], roots: list[str] | None = None) -> bool:
    """Whether one of ``subtrees`` is the only root's: then no item the actor raised or
    was handed lies outside them (the admin raised 100,000 at 1,000,000 items, each read
    to find none). The roots are read (``sees_everything``) only when a subtree is a
    root's (a path of one id) and not given (``roots``): a street's page runs no
    statement more."""
    return any(p.count("/") == 2 for p in subtrees) and sees_everything(actor, roots)


def _extra_items(user_id: int, subtrees: list[str]) -> Any:
    """The items ``user_id`` raised or was handed outside ``subtrees``: path, resolution
    time, closed, deadline, resolution time and rating (one prepared statement per number
    of separate subtrees; the dates converted as peewee does)."""

    def build(user: Any, **bounds: Any) -> Any:
        # Ids from two parts in a UNION, each on its own covering index with the paths
        # outside the subtrees as ranges of it (``path_outside``): an OR of the two, or
        # reading more columns there, is a full scan once the planner's statistics see
        # that almost every item has no handler. The items inside the subtrees (the stored
        # counts hold them) are never read: a street's supervisor raised 5,404 items at
        # 1,000,000, all in its street (3.4 -> 0.4 ms when left out on each row, 0.005
        # as ranges).
        def outside(own: Any) -> Any:
            return own & backend().path_outside(Item.node_path, bounds) if bounds else own

        mine = (
            Item.select(Item.id)
            .where(outside(Item.raised_by == user))
            .union(Item.select(Item.id).where(outside(Item.handler == user)))
        )
        return (
            Item.select(
                Item.node_path,
                Item.resolution_seconds,
                Item.closed,
                Item.due_at,
                Item.resolved_at,
                Item.satisfaction,
            )
            .where(Item.id.in_(mine))
            .tuples()
        )

    bounds = backend().outside_values(subtrees)
    return prepared(("summary_extra", len(bounds)), build, user=user_id, **bounds)


def _subtrees(actor: Actor) -> list[str] | None:
    """The paths of the subtrees the actor sees, or None when a grant sees otherwise."""
    paths: list[str] = []
    for grant in actor.grants:
        if role_sees(grant.role) != "subtree":
            return None
        paths.append(grant.node_path)
    return paths


def counts_by_child(
    actor: Actor, parent: OrgNode, *, now: dt.datetime, children: list[OrgNode] | None = None
) -> list[NodeCounts]:
    """For each child of ``parent``: open, overdue, resolved and total items in scope."""
    return summary(actor, parent, now=now, children=children)[0]


def counts_by_child_live(
    actor: Actor, parent: OrgNode, *, now: dt.datetime, children: list[OrgNode] | None = None
) -> list[NodeCounts]:
    """``counts_by_child`` counted from the items themselves.

    Four queries whatever the number of children: the children (none when given), the
    subtree's nodes, the counts grouped by node and the resolution times (each item's
    node is then credited to the child whose path it lies under)."""
    if children is None:
        children = list(OrgNode.select().where(OrgNode.parent == parent).order_by(OrgNode.id))
    children = [child for child in children if child.kind not in ("building", "department")]
    if not children:
        return []
    child_of: dict[int, int] = {}  # node id -> the child of ``parent`` it lies under
    find_child = _child_finder(parent.path, children)
    for node_id, path in subtree_nodes(parent.path):
        if (child_id := find_child(path)) is not None:
            child_of[node_id] = child_id
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


@dataclass(frozen=True)
class OverdueItem:
    """An overdue item as the review home lists it."""

    id: int
    title: str
    node_name: str
    due_at: dt.datetime


def overdue_items(
    actor: Actor, *, now: dt.datetime, limit: int = 100, everything: bool = False
) -> list[OverdueItem]:
    """The first ``limit`` overdue items in scope by deadline, each with its node's name
    (only the shown columns, as tuples: a hundred items are not built as models). One
    prepared statement per shape of the actor's grants (``scope.visible_part_shape``).

    :param everything: ``scope.sees_everything(actor)``, known by the caller: every item
        is in scope, so the statement has no scope condition (nor the subtree's ids).
    """
    ways, values = ((), {}) if everything else visible_part_shape(actor)

    def build(now: Any, **slots: Any) -> Any:
        def overdue(items: Any) -> Any:
            return (
                items.select(Item.id, Item.title, OrgNode.name, Item.due_at)
                .join(OrgNode, on=(Item.node == OrgNode.id))
                # ``closed = false``, not ``NOT closed``: SQLite then reads the (closed,
                # due_at) index in deadline order and stops after ``limit`` (a bare flag
                # is a filter only).
                .where((Item.closed == False) & (Item.due_at < now))
                .order_by(Item.due_at)
                .limit(limit)
            )

        if everything:
            return overdue(Item.select()).tuples()
        if not backend().plans_kept:  # planned on every run: one OR (its arms cost more)
            return overdue(visible_items_slotted(ways, slots)).tuples()
        # Each way the actor sees items (its subtrees, what it raised, what it was handed)
        # read on its own index in deadline order, a page each, merged after: as one OR,
        # every overdue item of the district was read in deadline order and each row
        # looked up to test the OR (a street of the stress million, 2.6 ms; 0.25). On
        # PostgreSQL, which plans a statement on every run, the three arms cost more to
        # plan than the OR to read (a street at the ten-year million 1.4 -> 2.3 ms).
        each = [
            Select([overdue(part).alias(f"way{i}")], [SQL("*")])
            for i, part in enumerate(visible_parts_slotted(ways, slots))
        ]
        return reduce(operator.add, each).bind(database).tuples()

    key = ("overview.overdue_items", everything, ways, limit)
    rows = prepared_cursor(key, build, now=now, **values)
    due_at = Item.due_at.python_value  # SQLite's text read by fromisoformat (db.DateTimeField)
    found = {i: OverdueItem(i, title, name, due_at(due)) for i, title, name, due in rows}
    return sorted(found.values(), key=lambda o: (o.due_at, o.id))[:limit]  # an item once


def totals(actor: Actor, *, now: dt.datetime) -> dict[str, Any]:
    """Items in scope: total, open, overdue, resolved, resolution rate, mean rating."""
    root = OrgNode.get_by_id(actor.grants[0].node_id) if actor.grants else None
    if root is None:
        return totals_live(actor, now=now)
    return summary(actor, root, now=now, children=[])[1]


def totals_live(actor: Actor, *, now: dt.datetime) -> dict[str, Any]:
    """``totals`` counted from the items (one query)."""
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

"""The overdue board (超期看板): open and overdue counts by street, community, compound and
department, with the items behind each count. Counts are GROUP BY queries over the
scoped query layer, never Python loops over items.
"""

from __future__ import annotations

import datetime as dt
import operator
from functools import reduce
from typing import Any, NamedTuple

from peewee import JOIN, SQL, Case, Value, fn

from engine.org.actors import Actor
from engine.org.org import ancestor_ids, area_of, is_area
from engine.org.scope import (
    NODE_ROW_COLUMNS,
    NodeRow,
    path_like,
    path_pattern,
    path_under,
    role_sees,
    sees_everything,
    summons_in_view,
    visible_items,
)
from engine.store.db import backend
from engine.store.models import (
    Assignment,
    Item,
    OrgNode,
    SummonsDueTally,
    SummonsPairDue,
    SummonsTally,
)
from engine.store.prepared import padded, padded_slots, prepared_cursor
from engine.supervision import tallies

AREA_LEVELS = ("street", "community", "compound")
LEVELS = (*AREA_LEVELS, "department")


class BoardRow(NamedTuple):
    """A row of the board. Rows and nodes are named tuples: a frozen dataclass set each
    field through ``object.__setattr__`` (1,000 rows, 1 ms), and node models decoded
    their keys (the district's 1,000 compounds 12.0 -> 2.2 ms)."""

    node: NodeRow
    open: int  # open items (departments: open summons)
    overdue: int  # overdue items (departments: overdue summons)
    items: int  # distinct items behind ``overdue``


def _count(cond: Any) -> Any:
    return fn.COALESCE(fn.SUM(Case(None, [(cond, 1)], 0)), 0)


def _nodes(actor: Actor, level: str, within: OrgNode | None) -> list[NodeRow]:
    """Areas of ``level`` to list, without their files (``NODE_ROW_COLUMNS``): only inside the
    actor's subtrees (one prepared statement per number of subtrees, with or without
    ``within``)."""
    paths = [g.node_path for g in actor.grants if role_sees(g.role) == "subtree"]
    if not paths:
        return []
    values = {f"path{i}": path_pattern(p) for i, p in enumerate(paths)}
    if within is not None:
        values["within"] = path_pattern(within.path)
    key = ("board.nodes", len(paths), within is not None)
    return [NodeRow(*row) for row in prepared_cursor(key, _nodes_of, level=level, **values)]


def _nodes_of(level: Any, **patterns: Any) -> Any:
    within = patterns.pop("within", None)
    query = OrgNode.select(*NODE_ROW_COLUMNS).where(
        (OrgNode.kind == level)
        & reduce(operator.or_, [path_like(OrgNode.path, p) for p in patterns.values()])
    )
    if within is not None:
        query = query.where(path_like(OrgNode.path, within))
    return query.order_by(OrgNode.id)


def board(
    actor: Actor, level: str, *, now: dt.datetime, within: OrgNode | None = None
) -> list[BoardRow]:
    """One row per node of ``level`` (under ``within``), most overdue first.

    :param level: street, community, compound or department.
    """
    if level not in LEVELS:
        raise ValueError(level)
    if level == "department":  # with the roots: does the actor see everything (no query more)
        found = [
            NodeRow(*row)
            for row in prepared_cursor(
                "board.departments",
                lambda kind: (
                    OrgNode.select(*NODE_ROW_COLUMNS)
                    .where((OrgNode.kind == kind) | OrgNode.parent.is_null())
                    .order_by(backend().unindexed(OrgNode.id))
                ),
                kind=level,
            )
        ]
        nodes = [n for n in found if n.kind == level]
        roots = [n.path for n in found if n.parent_id is None]
        everything = within is None and sees_everything(actor, roots)
        units = [n.id for n in nodes]
        counts = _department_counts(actor, now, within, everything=everything, units=units)
    else:
        nodes = _nodes(actor, level, within)
        counts = _area_counts(actor, nodes, now, within)
    rows = [BoardRow(node, *counts.get(node.id, (0, 0, 0))) for node in nodes]
    return sorted(rows, key=lambda r: (-r.overdue, -r.open, r.node.id))


def _area_counts(
    actor: Actor, nodes: list[NodeRow], now: dt.datetime, within: OrgNode | None
) -> dict[int, tuple[int, int, int]]:
    """Open and overdue items under each of ``nodes`` (which lie in the actor's subtrees,
    so every item under them is in scope), from the stored counts: an area's (a street's)
    kept per area, others the counts of every node under the subtrees, each credited to
    the listed node its path lies under (the district's streets: 1,696 rows at 1,000,000
    items against 10,325)."""
    if not nodes:
        return {}
    if all(is_area(node.path) for node in nodes):  # the streets: their counts kept per area
        areas = tallies.by_area(now=now)
        return {n.id: (c.open, c.overdue, c.overdue) for n in nodes if (c := areas.get(n.id))}
    listed = {node.id for node in nodes}
    roots = []
    for path in (g.node_path for g in actor.grants if role_sees(g.role) == "subtree"):
        if within is None or within.path.startswith(path):
            roots.append(within.path if within is not None else path)
        elif path.startswith(within.path):
            roots.append(path)
    found: dict[int, list[int]] = {}
    for path, counts in tallies.by_node(roots, now=now, nodes=False).items():
        for node_id in ancestor_ids(path):
            if node_id in listed:
                numbers = found.setdefault(node_id, [0, 0])
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
    actor: Actor,
    now: dt.datetime,
    within: OrgNode | None,
    *,
    everything: bool | None = None,
    units: list[int] | None = None,
) -> dict[int, tuple[int, int, int]]:
    """Open summons per department from the stored counts (``summons_tally``: a few rows
    per unit and node); the late ones and their distinct items, for who sees the whole
    tree or whole areas (``_whole_areas``), from the counts kept by deadline
    (``_kept_counts``), for others from the late summons themselves, read from the
    (open, next_due_at, unit, item) index and matched to the scope by their items. One
    statement (UNION ALL).

    :param everything: ``sees_everything(actor)``, when the caller knows it.
    :param units: the departments' ids, when the caller read them.
    """
    if everything is None:
        everything = within is None and sees_everything(actor)
    areas = None if everything else _whole_areas(actor, within)
    if everything or areas:
        if units is None:
            units = [n.id for n in OrgNode.select(OrgNode.id).where(OrgNode.kind == "department")]
        return _kept_counts(units, now, areas)
    departments: Any = units
    if departments is None:
        departments = OrgNode.select(OrgNode.id).where(OrgNode.kind == "department")
    t = SummonsTally
    stored = t.select(Value("stored"), t.unit, fn.SUM(t.open), Value(0), Value(0))
    stored = stored.where(t.unit.in_(departments)).group_by(t.unit)
    by_unit = Assignment.unit + 0  # not the bare column: see below
    late = (
        (Assignment.open == True)
        & Assignment.next_due_at.is_null(False)
        & (Assignment.next_due_at < now)
        & by_unit.in_(departments)
    )
    summons = Assignment.select()  # who sees everything: late summons on the index alone
    if not everything:
        # Each summons is matched to the scope by its item row, the summons driving the
        # join (CROSS JOIN: SQLite keeps the left table outside, rather than visit every
        # summons of the area).
        node = OrgNode.alias("item_node")
        unit_node = OrgNode.alias("unit_node")
        stored = stored.join(unit_node, on=(t.unit == unit_node.id)).join(
            node, on=(t.node == node.id)
        )
        stored = stored.where(summons_scope(actor, node.path, unit_node.path))
        scope = summons_scope(actor, Item.node_path, Assignment.unit_path)
        if within is not None or any(role_sees(g.role) == "subtree" for g in actor.grants):
            summons = summons.join(Item, JOIN.CROSS).where(Assignment.item == Item.id)
        summons = summons.where(scope)
        if within is not None:
            stored = stored.where(path_under(node.path, within.path))
            summons = summons.where(path_under(Item.node_path, within.path))
    # Grouped by unit_id + 0: by the bare column SQLite picks an index that starts with the
    # unit (to skip the GROUP BY's sort) and visits every summons row.
    live = summons.select(
        Value("late"),
        by_unit,
        Value(0),
        fn.COUNT(Assignment.id),
        fn.COUNT(fn.DISTINCT(Assignment.item)),
    )
    live = live.where(late).group_by(by_unit)
    rows = list((stored + live).tuples())
    found = {unit_id: (int(n), 0, 0) for part, unit_id, n, _, _ in rows if part == "stored" and n}
    for part, unit_id, _, late_, items in rows:
        if part == "late" and unit_id in found:  # a late summons is open: its unit is listed
            found[unit_id] = (found[unit_id][0], int(late_), int(items))
    return found


def _whole_areas(actor: Actor, within: OrgNode | None) -> list[str] | None:
    """The paths of the areas (streets) whose kept late-summons counts are the actor's
    board by department: its subtrees when each is an area's (a street supervisor), or
    the area ``within`` when it lies in one of them; None when the board must count
    from the summonses (a unit's sight, a subtree below an area)."""
    sights = [(role_sees(g.role), g.node_path) for g in actor.grants]
    if any(sees == "summoned" for sees, _ in sights):
        return None
    paths = [path for sees, path in sights if sees == "subtree"]
    if within is not None:
        inside = is_area(within.path) and any(within.path.startswith(p) for p in paths)
        return [within.path] if inside else None
    return paths if paths and all(is_area(p) for p in paths) else None


def _kept_counts(
    units: list[int], now: dt.datetime, areas: list[str] | None
) -> dict[int, tuple[int, int, int]]:
    """``_department_counts`` of the whole tree (``areas`` None) or of whole areas (their
    paths), from the stored counts alone but this hour's passed deadlines: the open
    summonses per unit (``summons_tally``), the late ones and their distinct items by the
    day and hour of their deadlines and their pairs' earliest (``summons_due_tally``: the
    days before today, today's hours before this one), and this hour's from the rows. One
    prepared statement (UNION ALL) per padded number of units and number of areas:
    70,000 late summonses at the stress million were read and sorted twice, by unit and
    by item (57 ms for the district; a street's matched to its items, 55-80)."""
    if not units:
        return {}
    ids = padded("unit", units)
    places = {}
    for i, path in enumerate(areas or []):
        places[f"area{i}"] = area_of(path)
        places[f"area_path{i}"] = path_pattern(path)
    # From noon, today's hours before this one are today's whole less its hours from this
    # one on: at most twelve hours of each unit read, not twenty-three (the stress
    # million's twelve departments at 20:50: 2,173 hours' rows for 0.50 ms; now 436 less
    # today's 109 day rows).
    afternoon = tallies.afternoon(now)
    key = ("board.kept", len(ids), len(areas or []), afternoon)
    slots = {**tallies.hour_slots(now), **ids, **places}
    rows = prepared_cursor(
        key, lambda **parts: _kept_parts(afternoon=afternoon, **parts), **slots
    ).fetchall()
    opened = {unit: int(n) for part, unit, n, _, _ in rows if part == 0 and n}
    late: dict[int, list[int]] = {}
    for part, unit, _, summonses, items in rows:
        if part == 1 and unit in opened:  # a late summons is open: its unit is listed
            numbers = late.setdefault(unit, [0, 0])
            numbers[0] += int(summonses or 0)
            numbers[1] += int(items or 0)
    found = {}
    for unit, n in opened.items():
        summonses, items = late.get(unit, (0, 0))
        found[unit] = (n, summonses, items)
    return found


def _kept_parts(*, afternoon: bool, **slots: Any) -> Any:
    units = padded_slots("unit", slots)
    areas = padded_slots("area", slots)
    patterns = padded_slots("area_path", slots)
    t, d, p = SummonsTally, SummonsDueTally, SummonsPairDue
    zero, one = SQL("0"), SQL("1")
    stored = t.select(zero, t.unit, fn.SUM(t.open), zero, zero).where(t.unit.in_(units))
    if patterns:  # the areas' nodes
        under = reduce(operator.or_, [path_like(OrgNode.path, pattern) for pattern in patterns])
        stored = stored.where(t.node.in_(OrgNode.select(OrgNode.id).where(under)))

    def buckets(span: int, since: Any, until: Any, *, less: bool = False) -> Any:
        numbers = [fn.SUM(d.summonses), fn.SUM(d.items)]
        if less:  # hours taken away from the days' sums
            numbers = [n * SQL("-1") for n in numbers]
        sums = d.select(one, d.unit, zero, *numbers)
        kept = d.unit.in_(units) & (d.span == span) & (d.bucket < until)
        if areas:
            kept &= d.area.in_(areas)
        return sums.where(kept if since is None else kept & (d.bucket >= since)).group_by(d.unit)

    day_end, (hour_from, hour_to), less = tallies.today_spans(afternoon)
    days = buckets(backend().DAY, None, slots[day_end])
    hours = buckets(backend().HOUR, slots[hour_from], slots[hour_to], less=less)
    # this hour's passed deadlines: the summonses on (open, next_due_at, unit, item) (in
    # areas, each matched to its item's path), the pairs on (due, area, unit)
    by_unit = Assignment.unit + 0
    due = Assignment.next_due_at
    summonses = Assignment.select(one, by_unit, zero, fn.COUNT(Assignment.id), zero).where(
        (Assignment.open == True)
        & (due >= slots["since"])
        & (due < slots["now"])
        & by_unit.in_(units)
    )
    if patterns:
        in_areas = reduce(
            operator.or_, [path_like(Item.node_path, pattern) for pattern in patterns]
        )
        summonses = summonses.join(Item, JOIN.CROSS).where((Assignment.item == Item.id) & in_areas)
    # (by the unit's index, without the statistics the demo's database has not, SQLite
    # read every pair of the units: 130,073 at the stress million)
    pair_unit = backend().unindexed(p.unit)
    this_hour = (p.due >= slots["since"]) & (p.due < slots["now"]) & pair_unit.in_(units)
    if areas:
        this_hour &= p.area.in_(areas)
    pairs = p.select(one, pair_unit, zero, zero, fn.COUNT(p.item)).where(this_hour)
    return (
        stored.group_by(t.unit)
        + days
        + hours
        + summonses.group_by(by_unit)
        + pairs.group_by(pair_unit)
    )


def summons_scope(actor: Actor, item_path: Any, unit_path: Any) -> Any:
    """``summons_in_view``'s condition on a summons' item path and unit path (stored
    counts keyed by unit and item node)."""
    conds: list[Any] = []
    for grant in actor.grants:
        sees = role_sees(grant.role)
        if sees == "subtree":
            conds.append(path_under(item_path, grant.node_path))
        elif sees == "summoned":
            conds.append(path_under(unit_path, grant.node_path))
    return reduce(operator.or_, conds) if conds else (OrgNode.id < 0)


def _department_counts_live(
    actor: Actor, now: dt.datetime, within: OrgNode | None
) -> dict[int, tuple[int, int, int]]:
    """``_department_counts`` counted from the summons (one GROUP BY over the scoped ones)."""
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

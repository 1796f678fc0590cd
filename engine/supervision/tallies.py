"""Stored counts of items per org node (``node_tally``), for pages that count over a scope.

The database keeps them: triggers on ``item`` (``Backend.tally_triggers``) add and take
away each inserted, updated or deleted item in the same transaction, whichever writer
made the change (the interactive path, the sweep's bulk writes, the demo, a restore).
A page sums a few rows per node instead of visiting every item in its scope:

- items, open, resolved, rated and the sum of ratings: sums of the node's rows;
- open and overdue (deadline before ``now``): the open items of the buckets before
  today's UTC date, plus the open items whose deadline falls today before ``now`` — read
  from the items themselves on the (closed, due_at) index, a day's deadlines at most.
  The counts per area (for who sees the whole tree) are kept by the month, day, hour and
  ten minutes of the deadline (``area_month_tally``, ``area_tally``, ``area_hour_tally``,
  ``area_slot_tally``): the months before this one, this month's days before today,
  today's hours before this one and this hour's ten minutes up to these are summed from
  each's rows, and only these ten minutes' deadlines still to come are read from the
  items (and taken away).

``recount`` counts the same numbers from the items (tests compare both; ``rebuild``
replaces the stored counts by it).

Open summons are stored the same way per (unit, item's node) in ``summons_tally``
(``summons_stored``, ``summons_recount``), for the overdue board by department.
"""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass
from functools import partial, reduce
from typing import Any

from peewee import SQL, Case, Select, fn

from engine.core.memo import remember
from engine.org.actors import is_root
from engine.org.org import area_of
from engine.org.scope import path_like, path_pattern
from engine.store.backends import Backend
from engine.store.db import NO_LIMIT, backend, count_up_to, write_transaction
from engine.store.models import (
    AreaHourTally,
    AreaMonthTally,
    AreaSlotTally,
    AreaTally,
    Assignment,
    Item,
    NodeTally,
    OrgNode,
    SummonsDayTally,
    SummonsDueTally,
    SummonsItemTally,
    SummonsPairDue,
    SummonsTally,
    SummonsUnitDayTally,
    UnitOpenItem,
)
from engine.store.prepared import prepared_cursor
from engine.store.summons_sql import SummonsCountsSQL


@dataclass
class Counts:
    """What a page shows of a set of items."""

    items: int = 0
    open: int = 0
    overdue: int = 0
    resolved: int = 0
    rated: int = 0
    rating_sum: int = 0

    def add(self, other: Counts) -> None:
        self.items += other.items
        self.open += other.open
        self.overdue += other.overdue
        self.resolved += other.resolved
        self.rated += other.rated
        self.rating_sum += other.rating_sum

    @property
    def satisfaction(self) -> float | None:
        return self.rating_sum / self.rated if self.rated else None


def day_start(now: dt.datetime) -> dt.datetime:
    """The start of ``now``'s UTC day (naive UTC, as stored)."""
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def by_node(paths: list[str], *, now: dt.datetime, nodes: bool = True) -> dict[str, Counts]:
    """Node path → the counts of the items at that node (not below), for every node under
    one of ``paths`` that holds items. One statement, a UNION ALL of three parts told
    apart by their first column: every node under the paths (the request keeps them for
    ``scope.subtree_nodes``), the stored counts of those nodes grouped by node, and the
    open items due today before ``now`` — in the ``afternoon`` (UTC), today's stored
    whole less those due from ``now`` to today's end, at most twelve hours of deadlines
    read (a street's 1,345 due today by 23:56 at the stress million, 0.22 ms; its 30 to
    come, 0.01). (Who sees the whole tree reads ``by_area``.)

    :param nodes: whether the request will ask for the subtrees' nodes (a scope's nodes
        are read with the counts); without them the nodes' part is left out (the
        district's view of a street, whose overdue list has no scope: its 152 nodes).
    """
    if not paths:
        return {}
    today = day_start(now)
    patterns = {f"path{i}": path_pattern(p) for i, p in enumerate(paths)}
    # A root among the paths: today's deadlines are read for the whole tree (below)
    rooted = any(is_root(path) for path in paths)
    late = afternoon(now)
    tomorrow = today + dt.timedelta(days=1)
    rows = prepared_cursor(  # once per number of paths, with or without a root, and turn
        ("tallies.by_node", len(patterns), rooted, late, nodes),
        partial(_by_node_parts, rooted=rooted, afternoon=late, nodes=nodes),
        # the days before today (in the afternoon, up to today's end), then today's
        # deadlines from its start to now (in the afternoon, from now to its end)
        bucket=bucket_at(tomorrow if late else today),
        due_from=now if late else today,
        due_to=tomorrow if late else now,
        **patterns,
    ).fetchall()
    found_nodes: list[tuple[int, str]] = []
    stored: list[tuple[Any, ...]] = []
    due_today: list[tuple[Any, ...]] = []
    for row in rows:
        part = row[0]
        if part == 0:
            found_nodes.append((row[1], row[2]))
        elif part == 1:
            stored.append(row)
        else:
            due_today.append(row)
    found: dict[str, Counts] = {}
    for _, _, path, *numbers in stored:
        if numbers[0]:
            found[path] = Counts(*(int(n or 0) for n in numbers))
    found_nodes.sort()  # in id order, as a grouped read gave them
    for root in paths if nodes else ():
        remember(("subtree_nodes", root), [(i, p) for i, p in found_nodes if p.startswith(root)])
    roots = tuple(paths)
    for part, _, path, n, *_ in due_today:  # 3: those to come, taken away
        if path.startswith(roots):
            found.setdefault(path, Counts()).overdue += int(n) if part == 2 else -int(n)
    return found


def hour_start(now: dt.datetime) -> dt.datetime:
    """The start of ``now``'s hour (naive UTC, as stored)."""
    return now.replace(minute=0, second=0, microsecond=0)


# The hour of a UTC day from which a statement summing counts kept by day and hour reads
# today's hours before the present one as the day's whole less its hours from the present
# one on (``afternoon``): at most twelve hours read, never twenty-three.
AFTERNOON = 12


def afternoon(now: dt.datetime) -> bool:
    """Whether today's hours before ``now``'s are read as today less those from it on."""
    return now.hour >= AFTERNOON


def today_spans(afternoon: bool) -> tuple[str, tuple[str, str], bool]:
    """Which of ``hour_slots``' buckets a statement summing counts kept by day and hour up
    to now reads: the days up to (not including) the first, today's hours from the second's
    first up to its second, and whether those hours are taken away. Before noon the days
    before today and today's hours before this one; in the ``afternoon`` the days up to
    today's end, less today's hours from this one on."""
    if afternoon:
        return "next_day", ("hour", "next_first_hour"), True
    return "bucket", ("first_hour", "hour"), False


def hour_slots(now: dt.datetime) -> dict[str, Any]:
    """What a statement summing counts kept by day and hour up to ``now`` reads: today's
    bucket (``bucket``), today's first hour's and this hour's (``first_hour``, ``hour``),
    this hour's start (``since``) and ``now``; tomorrow's bucket and first hour's
    (``next_day``, ``next_first_hour``: today's end, read in the ``afternoon``)."""
    today, hour = day_start(now), hour_start(now)
    tomorrow = today + dt.timedelta(days=1)
    return {
        "bucket": bucket_at(today),
        "first_hour": bucket_at(today, Backend.HOUR),
        "hour": bucket_at(hour, Backend.HOUR),
        "since": hour,
        "now": now,
        "next_day": bucket_at(tomorrow),
        "next_first_hour": bucket_at(tomorrow, Backend.HOUR),
    }


def bucket_at(when: dt.datetime, width: int = Backend.DAY) -> str:
    """The bucket of a deadline at ``when`` in counts kept ``width`` wide (``Backend``'s
    MONTH, DAY, HOUR or SLOT: ``Backend.tally_bucket`` in Python)."""
    return f"{when:%Y-%m-%d %H:%M}"[:width]


def slot_start(now: dt.datetime) -> dt.datetime:
    """The start of ``now``'s ten minutes (naive UTC, as stored)."""
    return now.replace(minute=now.minute - now.minute % 10, second=0, microsecond=0)


def by_area(*, now: dt.datetime) -> dict[int, Counts]:
    """Area (the node below the root, a street; 0 for the root's own items) → the counts
    of the items under it, for who sees the whole tree, in one statement: the stored
    counts per area and month (130 rows at the stress million, where the nodes have
    10,325) with the open items due before this month, those due this month before today
    from the counts per area and day, today before this hour from those per area and
    hour, this hour up to the end of these ten minutes from those per area and ten
    minutes, less those due from ``now`` to that end, read from the items (``by_node``'s
    parts, summed by area).

    These ten minutes' deadlines still to come are read rather than those passed: many
    deadlines fall on the hour (a working day's end; the stress million's 516 of the 540
    due from 14:00 to 14:05), and those are read only in the hour's first instant."""
    slots = {
        **hour_slots(now),
        "month": bucket_at(now, Backend.MONTH),
        "first_day": bucket_at(now.replace(day=1)),
        "first_slot": bucket_at(hour_start(now), Backend.SLOT),
        "slot": bucket_at(now, Backend.SLOT),
        "until": slot_start(now) + dt.timedelta(minutes=10),
    }
    late = afternoon(now)
    rows = prepared_cursor(
        ("tallies.by_area", late), partial(_by_area, afternoon=late), **slots
    ).fetchall()
    found: dict[int, Counts] = {}
    for part, area, _, *numbers in rows:
        if part == 1:
            found.setdefault(int(area), Counts()).add(Counts(*(int(n or 0) for n in numbers)))
        elif part == 3:  # the earlier days, hours and minutes, these minutes' whole
            found.setdefault(int(area), Counts()).overdue += int(numbers[0] or 0)
        else:  # 4: these minutes' deadlines still to come
            found.setdefault(int(area), Counts()).overdue -= int(numbers[0] or 0)
    return {area: counts for area, counts in found.items() if counts.items}


def _sums(t: Any, bucket: Any) -> list[Any]:
    """A group's items, open items, open items due before the bucket ``bucket`` (a day, or
    a month of the counts per month), resolved, rated and sum of ratings, from the stored
    counts ``t`` (per node or per area)."""
    before = (t.bucket < bucket) & (t.bucket != "")
    return [
        fn.SUM(t.items),
        fn.SUM(t.open),
        fn.SUM(Case(None, [(before, t.open)], 0)),
        fn.SUM(t.resolved),
        fn.SUM(t.rated),
        fn.SUM(t.rating_sum),
    ]


def _by_area(*, afternoon: bool, **slots: Any) -> Any:
    t = AreaMonthTally
    none = SQL("NULL")
    stored = t.select(SQL("1"), t.area, none, *_sums(t, slots["month"])).group_by(t.area)

    # This month's days before today, today's hours before this one, then this hour's ten
    # minutes up to these: a range of the (bucket, area) index each, at most 30 days, 23
    # hours and six times ten minutes of each area (the stress million's 1,523 rows by
    # day summed whole took 0.41 ms; its 19,835 items due today by 21:20, read from the
    # items grouped by path, 5.5 ms; the 1,011 due this hour by 13:58, 3.0 ms). In the
    # ``afternoon`` the days up to today's end, less today's hours from this one on (at
    # 22:00 two hours of each area read, not twenty-two: 0.18 -> 0.04 ms at the stress
    # million).
    def earlier(h: Any, start: str, end: str, *, to_end: bool = False, less: bool = False) -> Any:
        until = h.bucket <= slots[end] if to_end else h.bucket < slots[end]
        summed = fn.SUM(h.open) * SQL("-1") if less else fn.SUM(h.open)
        return (
            h.select(SQL("3"), h.area, none, summed, *[none] * 5)
            .where((h.bucket >= slots[start]) & until)
            .group_by(h.area)
        )

    day_end, (hour_from, hour_to), less = today_spans(afternoon)
    days = earlier(AreaTally, "first_day", day_end)
    hours = earlier(AreaHourTally, hour_from, hour_to, less=less)
    minutes = earlier(AreaSlotTally, "first_slot", "slot", to_end=True)
    # These ten minutes' deadlines still to come, from the items (``_due_since``), each
    # node's or path's count summed by area in the statement.
    by_path, each = _due_since(slots["now"], slots["until"], by_area=True, part=4)
    return stored + days + hours + minutes + by_path + each


# Up to this many open items due today before now (by area: in these ten minutes from
# now) are read on the (closed, due_at, id, node) index, grouped by node; more, off the
# (node_path, closed, due_at) index alone.
DUE_TODAY_FEW = 1_000


def _due_since(start: Any, end: Any, *, by_area: bool = False, part: int = 2) -> tuple[Any, Any]:
    """The open items due from ``start`` (today's start, or now) to ``end`` (now, the end
    of its ten minutes, or in the afternoon today's end), counted by node path (a part
    told apart by its first column, ``part``), or summed by area in its second column
    (``by_area``), for the whole tree: two arms of which the database reads one, by a
    count of the deadlines up to ``DUE_TODAY_FEW`` (the other's LIMIT is 0).

    Few are read on the (closed, due_at, id, node) index, grouped by node and each node's
    path looked up (13 items at a million spread over ten years: 0.03 ms, when each row
    was read for its path). Many are read off the path index alone, seeking each path's
    deadlines of the day (SQLite's skip-scan): 7,743 items at a million open at once,
    4.0 ms where each row read cost 16; but the seeks cost the same for few items (2.8 ms
    for those 13), and SQLite's statistics choose them either way."""
    # typed: PostgreSQL takes a bare NULL in a subquery's columns for text
    none = SQL("CAST(NULL AS INTEGER)")
    due = (Item.closed == False) & (Item.due_at >= start) & (Item.due_at < end)
    many = count_up_to(Item.select(SQL("1")).where(due), DUE_TODAY_FEW) >= DUE_TODAY_FEW
    by_path = (
        Item.select(
            SQL(str(part)),
            none,
            Item.node_path.alias("path"),
            fn.COUNT(Item.id).alias("n"),
            *[none] * 5,
        )
        .where(due)
        .group_by(Item.node_path)
        .limit(Case(None, [(many, NO_LIMIT)], 0))
    )
    # In deadline order, which (closed, due_at) gives and the path index does not; a
    # subquery with a LIMIT is not flattened into the outer GROUP BY (which would choose
    # the path index again). The node ids come with the index (closed, due_at, id, node):
    # grouped by node, each group's path looked up by its id, no item's row is read (an
    # hour's 693 deadlines at the stress million: 1.58 -> 0.69 ms).
    rows = (
        Item.select(Item.node.alias("place"))
        .where(due)
        .order_by(Item.due_at)
        .limit(Case(None, [(many, 0)], NO_LIMIT))
        .alias("due_rows")
    )
    named = OrgNode.alias()
    path = named.select(named.path).where(named.id == rows.c.place)
    each = Select(
        [rows],
        [SQL(str(part)), none, path.alias("path"), fn.COUNT(SQL("*")).alias("n"), *[none] * 5],
    )
    each = each.group_by(rows.c.place)
    if not by_area:
        return by_path.select_from(SQL("*")), each
    # Summed by area here rather than in Python (a path's area matched there): an hour's
    # 610 nodes give the district's 18 rows.
    return _summed_by_area(by_path, "due_paths", part), _summed_by_area(each, "due_nodes", part)


def _summed_by_area(counts: Any, name: str, part: int) -> Any:
    """``_due_since``'s rows of ``counts`` (paths and their counts) summed by area."""
    none = SQL("CAST(NULL AS INTEGER)")
    rows = counts.alias(name)
    area = SQL(backend().path_area(f'"{name}"."path"'))
    no_path = SQL("CAST(NULL AS TEXT)")  # the paths' column of the other parts
    sums = [SQL(str(part)), area, no_path, fn.SUM(SQL(f'"{name}"."n"')), *[none] * 5]
    return Select([rows], sums).group_by(area)


def _by_node_parts(
    bucket: Any,
    due_from: Any,
    due_to: Any,
    rooted: bool,
    afternoon: bool,
    nodes: bool,
    **patterns: Any,
) -> Any:
    counts = _by_node_counts(bucket, due_from, due_to, rooted, afternoon, **patterns)
    if not nodes:
        return counts
    none = SQL("NULL")
    under = reduce(operator.or_, [path_like(OrgNode.path, p) for p in patterns.values()])
    return OrgNode.select(SQL("0"), OrgNode.id, OrgNode.path, *[none] * 6).where(under) + counts


def _by_node_counts(
    bucket: Any, due_from: Any, due_to: Any, rooted: bool, afternoon: bool, **patterns: Any
) -> Any:
    """The stored counts of the nodes under ``patterns`` (open items due in buckets before
    ``bucket`` overdue), then the open items due from ``due_from`` to ``due_to`` by path:
    part 2, added, or in the ``afternoon`` part 3, taken away (``by_node`` binds them)."""
    part = 3 if afternoon else 2
    t = NodeTally
    inner, named, listed = OrgNode.alias(), OrgNode.alias(), OrgNode.alias()
    none = SQL("NULL")
    # The stored counts by node id alone, each node's path looked up by its id: grouping
    # the nodes joined to their counts by (id, path) sorted every node of the district
    # in a temporary tree (about a third more than the parts apart).
    path = named.select(named.path).where(named.id == t.node)
    under = reduce(operator.or_, [path_like(inner.path, p) for p in patterns.values()])
    stored = t.select(SQL("1"), t.node, path, *_sums(t, bucket)).group_by(t.node)
    stored = stored.where(t.node.in_(inner.select(inner.id).where(under)))
    # The open items due today before now (or to come), paths matched again in Python.
    # Below the root, each node path of the subtrees is sought on the (node_path, closed,
    # due_at) index: a street's 29 paths with such items at a million, 0.6 ms, where
    # the whole tree's (5,906 items on 557 paths by 15:00 local) took 3.4. A path pattern
    # there made the planner visit every open item under the subtree; for the whole tree
    # the paths one by one cost more (4.4 ms) than reading the day's deadlines whole.
    if rooted:
        by_path, each = _due_since(due_from, due_to, part=part)
        return stored + by_path + each
    within = reduce(operator.or_, [path_like(listed.path, p) for p in patterns.values()])
    due = (
        Item.select(SQL(str(part)), none, Item.node_path, fn.COUNT(Item.id), *[none] * 5)
        # ``closed = false``, not ``NOT closed``: a bare flag is a filter only for SQLite
        .where((Item.closed == False) & (Item.due_at >= due_from) & (Item.due_at < due_to))
        .where(Item.node_path.in_(listed.select(listed.path).where(within)))
        .group_by(Item.node_path)
    )
    return stored + due


def add_item(
    counts: Counts, closed: bool, due_at: Any, resolved_at: Any, rating: Any, now: Any
) -> None:
    """Count one item read from the table (for items a scope adds to the stored counts)."""
    counts.items += 1
    if not closed:
        counts.open += 1
        if due_at is not None and due_at < now:
            counts.overdue += 1
    if resolved_at is not None:
        counts.resolved += 1
    if rating is not None:
        counts.rated += 1
        counts.rating_sum += int(rating)


ITEM_COUNT_FIELDS = Backend.TALLY_COUNTS  # the stored item counts' columns, in order


def _rows(model: Any, keys: tuple[str, ...], counts: tuple[str, ...]) -> dict[Any, Any]:
    """``model``'s rows as (keys…) → (counts…), the rows that count nothing left out."""
    fields = [getattr(model, name) for name in (*keys, *counts)]
    n = len(keys)
    return {r[:n]: r[n:] for r in model.select(*fields).tuples() if any(r[n:])}


def _summed(found: dict[Any, tuple[int, ...]], key: Any) -> dict[Any, tuple[int, ...]]:
    """``found``'s counts summed by ``key`` of each of its keys."""
    sums: dict[Any, list[int]] = {}
    for old, numbers in found.items():
        total = sums.setdefault(key(old), [0] * len(numbers))
        for i, n in enumerate(numbers):
            total[i] += n
    return {k: tuple(v) for k, v in sums.items() if any(v)}


def stored() -> dict[tuple[int, str], tuple[int, ...]]:
    """(node id, bucket) → (items, open, resolved, rated, rating_sum), zero rows left out."""
    return _rows(NodeTally, ("node", "bucket"), ITEM_COUNT_FIELDS)


def recount(width: int = Backend.DAY) -> dict[tuple[int, str], tuple[int, ...]]:
    """What ``stored`` should hold, counted from the items (open ones bucketed by their
    deadline ``width`` wide: its day, or its month, hour or ten minutes for the counts per
    area at those widths)."""
    found: dict[tuple[int, str], list[int]] = {}
    rows = Item.select(
        Item.node, Item.closed, Item.due_at, Item.resolved_at, Item.satisfaction
    ).tuples()
    for node, closed, due_at, resolved_at, rating in rows:
        bucket = "" if closed else ("~" if due_at is None else bucket_at(due_at, width))
        numbers = found.setdefault((node, bucket), [0, 0, 0, 0, 0])
        numbers[0] += 1
        numbers[1] += 0 if closed else 1
        numbers[2] += resolved_at is not None
        numbers[3] += rating is not None
        numbers[4] += rating or 0
    return {key: tuple(v) for key, v in found.items()}


def area_stored() -> dict[tuple[int, str], tuple[int, ...]]:
    """(area, bucket) → (items, open, resolved, rated, rating_sum), zero rows left out."""
    return _rows(AreaTally, ("area", "bucket"), ITEM_COUNT_FIELDS)


def area_recount(width: int = Backend.DAY) -> dict[tuple[int, str], tuple[int, ...]]:
    """What ``area_stored`` should hold: ``recount`` summed by the nodes' areas."""
    nodes = OrgNode.select(OrgNode.id, OrgNode.path).tuples()
    areas = {node_id: area_of(path) for node_id, path in nodes}
    return _summed(recount(width), lambda key: (areas[key[0]], key[1]))


def area_month_stored() -> dict[tuple[int, str], tuple[int, ...]]:
    """(area, bucket by month) → (items, open, resolved, rated, rating_sum), zero rows left
    out."""
    return _rows(AreaMonthTally, ("area", "bucket"), ITEM_COUNT_FIELDS)


def area_month_recount() -> dict[tuple[int, str], tuple[int, ...]]:
    """What ``area_month_stored`` should hold: the items counted by area and month."""
    return area_recount(Backend.MONTH)


def area_hour_stored() -> dict[tuple[int, str], tuple[int, ...]]:
    """(area, bucket by hour) → (items, open, resolved, rated, rating_sum), zero rows left
    out."""
    return _rows(AreaHourTally, ("area", "bucket"), ITEM_COUNT_FIELDS)


def area_hour_recount() -> dict[tuple[int, str], tuple[int, ...]]:
    """What ``area_hour_stored`` should hold: the items counted by area and hour."""
    return area_recount(Backend.HOUR)


def area_slot_stored() -> dict[tuple[int, str], tuple[int, ...]]:
    """(area, bucket by ten minutes) → (items, open, resolved, rated, rating_sum), zero
    rows left out."""
    return _rows(AreaSlotTally, ("area", "bucket"), ITEM_COUNT_FIELDS)


def area_slot_recount() -> dict[tuple[int, str], tuple[int, ...]]:
    """What ``area_slot_stored`` should hold: the items counted by area and ten minutes."""
    return area_recount(Backend.SLOT)


def summons_stored() -> dict[tuple[int, int], int]:
    """(unit id, item node id) → open summons, zero rows left out."""
    t = SummonsTally
    return {(u, n): c for u, n, c in t.select(t.unit, t.node, t.open).tuples() if c}


def open_items_stored() -> dict[tuple[int, int], tuple[str, int, Any]]:
    """(unit id, item id) → the unit's path, the item's type and its deadline: the stored
    pairs of a unit and an open item summoning it."""
    t = UnitOpenItem
    rows = t.select(t.unit, t.item, t.unit_path, t.definition, t.due_at).tuples()
    return {(u, i): (path, kind, due) for u, i, path, kind, due in rows}


def open_items_recount() -> dict[tuple[int, int], tuple[str, int, Any]]:
    """What ``open_items_stored`` should hold, from the summons and their items."""
    a = Assignment
    query = (
        a.select(a.unit, a.item, fn.MAX(a.unit_path), Item.definition, Item.due_at)
        .join(Item, on=(a.item == Item.id))
        .where(Item.closed == False)
        .group_by(a.unit, a.item, Item.definition, Item.due_at)
    )
    return {(u, i): (path, kind, due) for u, i, path, kind, due in query.tuples()}


def summons_recount() -> dict[tuple[int, int], int]:
    """What ``summons_stored`` should hold, counted from the summons and their items."""
    query = (
        Assignment.select(Assignment.unit, Item.node, fn.COUNT(Assignment.id))
        .join(Item, on=(Assignment.item == Item.id))
        .where(Assignment.open)
        .group_by(Assignment.unit, Item.node)
    )
    return {(u, n): int(c) for u, n, c in query.tuples()}


def due_stored() -> dict[tuple[Any, ...], tuple[int, ...]]:
    """(unit, area, span, bucket) → open summonses with a deadline in it and pairs whose
    earliest deadline is in it, zero rows left out."""
    return _rows(SummonsDueTally, ("unit", "area", "span", "bucket"), ("summonses", "items"))


def due_recount() -> dict[tuple[Any, ...], tuple[int, ...]]:
    """What ``due_stored`` should hold, from the open summonses in Python."""
    found: dict[tuple[Any, ...], list[int]] = {}

    def add(unit: int, area: int, due: dt.datetime, place: int) -> None:
        for span in (10, 13):
            key = (unit, area, span, due.strftime("%Y-%m-%d %H")[:span])
            found.setdefault(key, [0, 0])[place] += 1

    for unit, _, path, due in _open_deadlines():
        add(unit, area_of(path), due, 0)
    for (unit, _), (area, due) in pairs_due_recount().items():
        add(unit, area, due, 1)
    return {key: tuple(v) for key, v in found.items()}


def _open_deadlines() -> Any:
    """(unit, item, item's path, deadline) of each open summons with a deadline."""
    a = Assignment
    query = a.select(a.unit, a.item, Item.node_path, a.next_due_at)
    query = query.join(Item, on=(a.item == Item.id))
    return query.where(a.open & a.next_due_at.is_null(False)).tuples()


def pairs_due_stored() -> dict[tuple[int, int], tuple[int, dt.datetime]]:
    """(unit, item) → the item's area and the earliest deadline of the unit's open
    summonses on it."""
    t = SummonsPairDue
    rows = t.select(t.unit, t.item, t.area, t.due).tuples()
    return {(u, i): (area, due) for u, i, area, due in rows}


def pairs_due_recount() -> dict[tuple[int, int], tuple[int, dt.datetime]]:
    """What ``pairs_due_stored`` should hold: each pair's area and earliest open deadline."""
    earliest: dict[tuple[int, int], tuple[int, dt.datetime]] = {}
    for unit, item, path, due in _open_deadlines():
        if (unit, item) not in earliest or due < earliest[(unit, item)][1]:
            earliest[(unit, item)] = (area_of(path), due)
    return earliest


DAY_COUNTS = SummonsCountsSQL.DAY_COUNTS  # the stored day counts' columns, in order


def day_stored() -> dict[tuple[Any, ...], tuple[int, ...]]:
    """(unit, node, day, report_due, handle_due) → the day's counts, zero rows left out."""
    keys = ("unit", "node", "day", "report_due", "handle_due")
    return _rows(SummonsDayTally, keys, DAY_COUNTS)


def unit_day_stored() -> dict[tuple[Any, ...], tuple[int, ...]]:
    """(unit, day, report_due, handle_due) → the day's counts, zero rows left out."""
    return _rows(SummonsUnitDayTally, ("unit", "day", "report_due", "handle_due"), DAY_COUNTS)


def unit_day_recount() -> dict[tuple[Any, ...], tuple[int, ...]]:
    """What ``unit_day_stored`` should hold: ``day_recount`` summed over the nodes."""
    return _summed(day_recount(), lambda key: (key[0], *key[2:]))


def day_recount() -> dict[tuple[Any, ...], tuple[int, ...]]:
    """What ``day_stored`` should hold, counted from the summons in Python."""
    a = Assignment
    rows = (
        a.select(
            a.unit,
            Item.node,
            a.summoned_at,
            a.reported_at,
            a.report_due_at,
            a.done_at,
            a.handle_due_at,
            a.state,
            a.urge_count,
        )
        .join(Item, on=(a.item == Item.id))
        .tuples()
    )
    found: dict[tuple[Any, ...], list[int]] = {}
    for unit, node, summoned, reported, report_due, done, handle_due, state, urged in rows:
        pending_report = reported is None and done is None and report_due is not None
        pending_handle = state != "done" and done is None and handle_due is not None
        key = (
            unit,
            node,
            summoned.strftime("%Y-%m-%d"),
            report_due.strftime("%Y-%m-%d") if pending_report else "",
            handle_due.strftime("%Y-%m-%d") if pending_handle else "",
        )
        numbers = found.setdefault(key, [0] * 6)
        numbers[0] += 1
        numbers[1] += reported is not None or (
            report_due is not None and done is not None and report_due < done
        )
        numbers[2] += reported is not None and (report_due is None or reported <= report_due)
        numbers[3] += state == "done" or (
            handle_due is not None and done is not None and handle_due < done
        )
        numbers[4] += state == "done" and (
            handle_due is None or (done is not None and done <= handle_due)
        )
        numbers[5] += urged
    return {key: tuple(int(n) for n in v) for key, v in found.items() if any(v)}


ITEM_COUNTS = ("touched", "rated", "rating_sum", "reopened")


def local_day(value: dt.datetime) -> str:
    """A naive-UTC time's date in the stored items touched (``summons_item_tally``)."""
    minutes = backend().LOCAL_MINUTES
    return (value + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%d")


def item_stored() -> dict[tuple[Any, ...], tuple[int, ...]]:
    """(unit, node, day, prev_day) → the entries' counts, zero rows left out."""
    return _rows(SummonsItemTally, ("unit", "node", "day", "prev_day"), ITEM_COUNTS)


def item_recount() -> dict[tuple[Any, ...], tuple[int, ...]]:
    """What ``item_stored`` should hold, counted from the summons in Python."""
    a = Assignment
    rows = (
        a.select(a.unit, a.item, a.summoned_at, Item.node, Item.satisfaction, Item.reopen_count)
        .join(Item, on=(a.item == Item.id))
        .tuples()
    )
    days: dict[tuple[int, int], set[str]] = {}
    values: dict[int, tuple[int, Any, int]] = {}
    for unit, item, summoned, node, rating, reopens in rows:
        days.setdefault((unit, item), set()).add(local_day(summoned))
        values[item] = (node, rating, reopens)
    found: dict[tuple[Any, ...], list[int]] = {}
    for (unit, item), pair_days in days.items():
        node, rating, reopens = values[item]
        prev = ""
        for day in sorted(pair_days):
            numbers = found.setdefault((unit, node, day, prev), [0] * 4)
            numbers[0] += 1
            numbers[1] += rating is not None
            numbers[2] += rating or 0
            numbers[3] += reopens > 0
            prev = day
    return {key: tuple(v) for key, v in found.items() if any(v)}


def rebuild() -> None:
    """Replace the stored counts by a recount of every item and summons (one transaction)."""
    with write_transaction():
        backend().rebuild_tallies()
        for table, _, _ in backend().AREA_LEVELS:
            backend().rebuild_area_tally(table)
        backend().rebuild_summons_tally()
        backend().rebuild_day_tally()
        backend().rebuild_unit_day_tally()
        backend().rebuild_item_tally()
        backend().rebuild_open_items()
        backend().rebuild_due_tally()

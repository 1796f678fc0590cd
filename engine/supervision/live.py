"""The live board (实时预警看板): open items of the types that declare ``live_board``,
grouped by street, each with its clocks — time since it was raised, time to its next
deadline (its state's or an open summons'), overdue when that has passed.

Who sees what is the item scope (engine/org/scope.py): supervisors their subtree,
departments what they were summoned to. A board costs a fixed number of queries
(types, items with their nodes' names and their summonses' earliest deadlines, the
streets), never one per item, each a prepared statement (built once per shape).
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from typing import Any

from peewee import SQL, Expression, Select, fn

from engine.definitions.definitions import current_bodies
from engine.definitions.runtimes import runtime
from engine.org.actors import Actor, is_root
from engine.org.org import ancestor_ids
from engine.org.scope import NODE_COLUMNS, role_sees, visible_item_shape
from engine.store.db import backend, database
from engine.store.models import Assignment, Item, OrgNode, UnitOpenItem, open_deadline
from engine.store.prepared import (
    bind,
    padded,
    padded_slots,
    prepared,
    statement,
)

LIMIT = 200  # open items on one board; an emergency board with more is a disaster plan


@dataclass(frozen=True)
class LiveRow:
    """One open item and its clocks, in seconds."""

    item: dict[str, Any]  # ``ITEM_COLUMNS``
    compound: str  # the name of the item's node
    type_name: str
    state_label: str
    elapsed: int  # since raised
    due_at: dt.datetime | None  # the next deadline: the state's or an open summons'
    remaining: int | None  # to ``due_at``; negative once overdue

    @property
    def overdue(self) -> bool:
        return self.remaining is not None and self.remaining < 0


@dataclass(frozen=True)
class StreetGroup:
    """The open items of one street (``street`` None: items outside any street), most
    urgent first: how many are open and overdue, and their rows made when asked for
    (``rows``) — a board counts a street's two hundred and shows its first ten."""

    street: OrgNode | None
    open: int
    overdue: int
    ranked: list[tuple[Any, ...]]  # (urgency, deadline, seconds left, the item's columns)
    make: Callable[[tuple[Any, ...]], LiveRow]

    def rows(self, start: int = 0, stop: int | None = None) -> list[LiveRow]:
        """The rows from ``start`` up to ``stop`` (not included), most urgent first."""
        return [self.make(entry) for entry in self.ranked[start:stop]]


def live_types() -> list[tuple[int, str]]:
    """(definition id, name) of each item type whose current version has ``live_board``."""
    return [
        (def_id, body["name"])
        for def_id, _, body in current_bodies("item_type")
        if body.get("live_board")
    ]


_summonses = Assignment.alias("open_summons")
_named = OrgNode.alias("named")

# What a row shows and its clocks need of an item: its node's name, its state's deadline
# and its open summonses' earliest (``summons_due``), read off their open index by the
# item's row in the same statement (a second statement of two hundred ids cost a page at
# the stress million 0.85 ms; the row's own lookup less than half).
ITEM_COLUMNS = (
    Item.id,
    Item.title,
    Item.definition.alias("definition_id"),
    Item.version.alias("version_id"),
    Item.state,
    Item.raised_at,
    Item.due_at,
    Item.node_path,
    _named.select(_named.name).where(_named.id == Item.node).alias("node_name"),
    _summonses.select(fn.MIN(_summonses.next_due_at))
    .where((_summonses.item == Item.id) & open_deadline(_summonses))
    .alias("summons_due"),
)
_ITEM_NAMES = tuple(c.name for c in ITEM_COLUMNS[:-2]) + ("node_name", "summons_due")
_ID, _TYPE, _VERSION, _STATE, _RAISED_AT, _DUE_AT, _PATH, _NODE_NAME, _SUMMONS_DUE = (
    _ITEM_NAMES.index(name)
    for name in ("id", "definition_id", "version_id", "state", "raised_at", "due_at")
    + ("node_path", "node_name", "summons_due")
)


def _open_items(actor: Actor, types: list[int]) -> list[tuple[Any, ...]]:
    """The newest ``LIMIT`` + 1 unclosed items of ``types`` the actor sees (the one more:
    whether the board is cut), as the cursor's rows of ``ITEM_COLUMNS``, their times as
    stored: a board reads two hundred and shows ten, and converts only what it shows.

    One statement per shape of the actor's grants and number of types (padded): an arm
    per way the actor sees items (``_arms``; on PostgreSQL one OR of a supervisor's), each
    its own newest ``LIMIT`` + 1, merged here. One OR of the ways walked the types' open items
    newest first testing each: for a department, whose way is its summonses, every open
    emergency of the district was probed for one (7,753 for none, 20 ms on SQLite, with
    273,000 items open)."""
    ways, values = visible_item_shape(actor, summoned_ranges=True)
    kinds = padded("type", sorted(types))
    below = _below_root(actor, ways)
    key = ("live.items", ways, below, len(kinds))
    _, sql, params = statement(key, lambda **slots: _arms(ways, slots, below), *values, *kinds)
    found: dict[int, tuple[Any, ...]] = {}
    for row in database.execute_sql(sql, bind(params, {**values, **kinds})):
        found.setdefault(row[_ID], row)  # an item seen more ways than one
    # newest first by the stored times: one column of one table, compared as the
    # statement's own ORDER BY compares them (text on SQLite, times on PostgreSQL)
    newest = sorted(found.values(), key=lambda r: (r[_RAISED_AT], r[_ID]), reverse=True)
    return newest[: LIMIT + 1]


def _below_root(actor: Actor, ways: tuple[str, ...]) -> tuple[int, ...]:
    """The ways (by number) that are a subtree below the root (``visible_item_shape``'s
    ways, made of the grants that see a subtree or their summonses, in order)."""
    paths = [g.node_path for g in actor.grants if role_sees(g.role) in ("subtree", "summoned")]
    return tuple(
        i
        for i, (sees, path) in enumerate(zip(ways, paths, strict=True))
        if sees == "subtree" and not is_root(path)
    )


def _arms(ways: tuple[str, ...], slots: dict[str, Any], below: tuple[int, ...]) -> Any:
    """``visible_item_slotted``'s ways as arms of one statement (UNION ALL), each the
    newest ``LIMIT`` + 1 open items of the types (``type0`` …) it finds (where the plan is
    kept, ``Backend.plans_kept``, or a way is a summoned unit's; else one OR of them):

    - the root's on the (type, closed, raised_at) index newest first, the path tested on
      each row; a subtree below it (``below``; where the planner takes hints) its own
      newest on the open items' (type, path, raised_at) index alone (``Backend``'s
      ``extra_indexes``), then their rows by id
      (walking the district's newest first read 1,426 rows for a street's 201 at the
      stress million; a street holds a fourteenth of the district's open emergencies);
    - a summoned unit's from the stored pairs of its units and their open items of these
      types (``UnitOpenItem``), those items then sorted: as few as the board shows;
    - the open items the user raised or was handed, off their indexes, then sorted."""
    types = padded_slots("type", slots)
    test, unindexed = backend().path_test, backend().unindexed
    # (the way's condition with its items' being open, the newest first order, the types,
    # whether the condition holds its newest ``LIMIT`` + 1 already)
    conds: list[tuple[Any, Any, Any, bool]] = []
    for i, sees in enumerate(ways):
        if sees == "subtree" and i in below and backend().plan_hints:
            newest = (  # ``closed IS 0`` in the SQL: the open items' own index (``Backend``)
                Item.select(Item.id)
                .where(
                    Item.definition.in_(types)
                    & Expression(Item.closed, "IS", SQL("0"))
                    & backend().path_match(Item.node_path, slots[f"path{i}"])
                )
                .order_by(Item.raised_at.desc(), Item.id.desc())
                .limit(LIMIT + 1)
            )
            conds.append(
                (Item.id.in_(newest), unindexed(Item.raised_at), unindexed(Item.definition), True)
            )
        elif sees == "subtree":
            in_subtree = test(Item.node_path, slots[f"path{i}"]) & (Item.closed == False)
            conds.append((in_subtree, Item.raised_at, Item.definition, False))
        else:
            units = backend().path_within(UnitOpenItem.unit_path, slots, f"path{i}")
            pairs = UnitOpenItem.select(UnitOpenItem.item).where(
                UnitOpenItem.definition.in_(types) & units
            )
            # by id from the pairs alone, whatever the planner's statistics say (without
            # them SQLite walked the types' open items, testing each against the pairs)
            ids = Item.id.in_(pairs) & (unindexed(Item.closed) == False)
            conds.append((ids, unindexed(Item.raised_at), unindexed(Item.definition), False))
    # A user's own open items: where the planner takes hints, on the open items' (user,
    # type, raised_at) indexes alone (``Backend``'s ``extra_indexes``; ``closed IS 0`` as
    # their condition is written); else on the (user, closed, due_at) indexes, then tested
    # and sorted. On the latter a street supervisor's 199 open raised items of other types
    # were each read to find no emergency (0.08 ms alone, more among the board's other
    # reads); newest first on the (raiser, raised_at) index their 3,980 raised items (3.4
    # ms); and for the handler SQLite's statistics count the items handed to no one as one
    # handler's.
    for user in (Item.raised_by, Item.handler):
        if backend().plan_hints:
            mine = (user == slots["user"]) & Expression(Item.closed, "IS", SQL("0"))
            conds.append((mine, unindexed(Item.raised_at), Item.definition, False))
        else:
            mine = (user == slots["user"]) & (Item.closed == False)
            conds.append((mine, unindexed(Item.raised_at), unindexed(Item.definition), False))
    if not backend().plans_kept and "summoned" not in ways:
        # PostgreSQL plans a statement on every run: the arms cost it more to plan than one
        # OR of a supervisor's ways to read (the ten-year million copied there, a street's
        # board 0.5-0.7 -> 1.1-1.5 ms wall). A department's OR walked the types' open items
        # testing each against its pairs (7.2-7.6 ms at the stress million copied there,
        # 0.6-0.7 at the ten-year); its arms cost 1.4-1.5 ms at either.
        either = reduce(operator.or_, [cond for cond, *_ in conds])
        return (
            Item.select(*ITEM_COLUMNS)
            .where(either & Item.definition.in_(types))
            .order_by(Item.raised_at.desc(), Item.id.desc())
            .limit(LIMIT + 1)
        )
    arms = []
    for cond, newest, kind, capped in conds:
        arm = Item.select(*ITEM_COLUMNS).where(cond & kind.in_(types))
        if not capped:  # sorted here for its LIMIT; else its ids are, sorted when merged
            arm = arm.order_by(newest.desc(), Item.id.desc()).limit(LIMIT + 1)
        arms.append(Select([arm], [SQL("*")]))
    return reduce(operator.add, arms).bind(database)


def _streets(node_ids: set[int]) -> dict[int, OrgNode]:
    """The streets among ``node_ids`` by id, without their files (one prepared statement)."""

    def build(**slots: Any) -> Any:
        return OrgNode.select(*NODE_COLUMNS).where(
            OrgNode.id.in_(padded_slots("node", slots)) & (OrgNode.kind == "street")
        )

    ids = padded("node", sorted(node_ids))
    return {n.id: n for n in prepared(("live.streets", len(ids)), build, **ids)}


@dataclass(frozen=True)
class Board:
    """A live board: its streets' groups, and whether more items are open than it holds
    (``cut``: the newest ``LIMIT`` are on it, and its counts are theirs)."""

    groups: list[StreetGroup]
    cut: bool = False


def live_board(actor: Actor, *, now: dt.datetime) -> Board:
    """The actor's open live-board items by street, the street with most overdue first;
    in a street the most urgent (nearest or longest-passed deadline) first. Each item's
    deadline is worked out (the counts need them all); its row only when shown."""
    types = dict(live_types())
    if not types:
        return Board([])
    newest = _open_items(actor, list(types))
    cut = len(newest) > LIMIT
    resolved: dict[tuple[int, str], bool] = {}  # by (version, state)
    open_rows = []
    for row in newest[:LIMIT]:
        state = (row[_VERSION], row[_STATE])
        if state not in resolved:
            resolved[state] = runtime(state[0]).is_resolved(state[1])
        if not resolved[state]:
            open_rows.append(row)
    if not open_rows:
        return Board([], cut)
    path_ids = {path: ancestor_ids(path) for path in {row[_PATH] for row in open_rows}}
    streets = _streets({i for ids in path_ids.values() for i in ids})
    street_of = {
        path: next((i for i in ids if i in streets), None) for path, ids in path_ids.items()
    }
    due_value = Item.due_at.python_value
    ranked: dict[int | None, list[tuple[Any, ...]]] = {}
    for row in open_rows:
        # the earlier of the two as stored (text of one format on SQLite, times on
        # PostgreSQL: compared as they are), then converted: one value a row, not two
        earliest, summons_due = row[_DUE_AT], row[_SUMMONS_DUE]
        if earliest is None or (summons_due is not None and summons_due < earliest):
            earliest = summons_due
        due = due_value(earliest) if earliest is not None else None
        remaining = int((due - now).total_seconds()) if due else None
        urgency = (remaining is None, remaining or 0, row[_ID])
        ranked.setdefault(street_of[row[_PATH]], []).append((urgency, due, remaining, row))

    def make(entry: tuple[Any, ...]) -> LiveRow:
        _, due, remaining, row = entry
        item = dict(zip(_ITEM_NAMES, row, strict=True))
        item["raised_at"] = Item.raised_at.python_value(row[_RAISED_AT])
        item["due_at"] = due_value(row[_DUE_AT])
        return LiveRow(
            item=item,
            compound=row[_NODE_NAME],
            type_name=types[row[_TYPE]],
            state_label=runtime(row[_VERSION]).state_label(row[_STATE]),
            elapsed=int((now - item["raised_at"]).total_seconds()),
            due_at=due,
            remaining=remaining,
        )

    groups = []
    for street_id, entries in ranked.items():
        entries.sort(key=lambda e: e[0])
        overdue = sum(
            1 for _, _, remaining, _ in entries if remaining is not None and remaining < 0
        )
        street = streets.get(street_id) if street_id else None
        groups.append(StreetGroup(street, len(entries), overdue, entries, make))
    groups.sort(key=lambda g: (-g.overdue, -g.open, g.street.id if g.street else 1 << 62))
    return Board(groups, cut)

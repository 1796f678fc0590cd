"""The live board (实时预警看板): open items of the types that declare ``live_board``,
grouped by street, each with its clocks — time since it was raised, time to its next
deadline (its state's or an open summons'), overdue when that has passed.

Who sees what is the item scope (engine/org/scope.py): supervisors their subtree,
departments what they were summoned to. A board costs a fixed number of queries
(types, items with their compounds, the summonses' deadlines, the streets), never one
per item, each a prepared statement (built once per shape).
"""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

from peewee import JOIN, SQL, Expression, Select, fn

from engine.definitions.definitions import current_bodies
from engine.definitions.runtimes import runtime
from engine.org.actors import Actor, is_root
from engine.org.scope import NODE_COLUMNS, role_sees, visible_item_shape
from engine.store.db import backend, database
from engine.store.models import Assignment, Item, OrgNode, UnitOpenItem
from engine.store.prepared import (
    bind,
    padded,
    padded_slots,
    prepared,
    prepared_cursor,
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


@dataclass
class StreetGroup:
    """The open items of one street (``street`` None: items outside any street)."""

    street: OrgNode | None
    rows: list[LiveRow] = field(default_factory=list)

    @property
    def overdue(self) -> int:
        return sum(1 for r in self.rows if r.overdue)


def live_types() -> list[tuple[int, str]]:
    """(definition id, name) of each item type whose current version has ``live_board``."""
    return [
        (def_id, body["name"])
        for def_id, _, body in current_bodies("item_type")
        if body.get("live_board")
    ]


# What a row shows and its clocks need of an item, and its node's name (not its file).
ITEM_COLUMNS = (
    Item.id,
    Item.title,
    Item.definition.alias("definition_id"),
    Item.version.alias("version_id"),
    Item.state,
    Item.raised_at,
    Item.due_at,
    Item.node_path,
    OrgNode.name.alias("node_name"),
)
_ITEM_NAMES = tuple(c.name for c in ITEM_COLUMNS)
_RAISED_AT, _DUE_AT = _ITEM_NAMES.index("raised_at"), _ITEM_NAMES.index("due_at")


def _open_items(actor: Actor, types: list[int]) -> list[dict[str, Any]]:
    """The newest ``LIMIT`` + 1 unclosed items of ``types`` the actor sees (the one more:
    whether the board is cut), as dicts made here from the cursor's rows, their two times
    converted (peewee's dict rows converted each column: a fifth of a full board's time).

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
    raised, due = Item.raised_at.python_value, Item.due_at.python_value
    found: dict[int, dict[str, Any]] = {}
    for row in database.execute_sql(sql, bind(params, {**values, **kinds})):
        if row[0] not in found:  # an item seen more ways than one
            item = dict(zip(_ITEM_NAMES, row, strict=True))
            item["raised_at"], item["due_at"] = raised(row[_RAISED_AT]), due(row[_DUE_AT])
            found[row[0]] = item
    newest = sorted(found.values(), key=lambda i: (i["raised_at"], i["id"]), reverse=True)
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
    # (the way's condition with its items' being open, the newest first order, the types)
    conds: list[tuple[Any, Any, Any]] = []
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
                (Item.id.in_(newest), unindexed(Item.raised_at), unindexed(Item.definition))
            )
        elif sees == "subtree":
            in_subtree = test(Item.node_path, slots[f"path{i}"]) & (Item.closed == False)
            conds.append((in_subtree, Item.raised_at, Item.definition))
        else:
            units = backend().path_within(UnitOpenItem.unit_path, slots, f"path{i}")
            pairs = UnitOpenItem.select(UnitOpenItem.item).where(
                UnitOpenItem.definition.in_(types) & units
            )
            # by id from the pairs alone, whatever the planner's statistics say (without
            # them SQLite walked the types' open items, testing each against the pairs)
            ids = Item.id.in_(pairs) & (unindexed(Item.closed) == False)
            conds.append((ids, unindexed(Item.raised_at), unindexed(Item.definition)))
    # A user's own open items on the (user, closed, due_at) indexes, then tested and
    # sorted: newest first on the (raiser, raised_at) index a street supervisor's 3,980
    # raised items were read for their 199 open ones (3.4 ms for no emergency), and for the
    # handler SQLite's statistics count the items handed to no one as one handler's.
    for user in (Item.raised_by, Item.handler):
        mine = (user == slots["user"]) & (Item.closed == False)
        conds.append((mine, unindexed(Item.raised_at), unindexed(Item.definition)))
    if not backend().plans_kept and "summoned" not in ways:
        # PostgreSQL plans a statement on every run: the arms cost it more to plan than one
        # OR of a supervisor's ways to read (the ten-year million copied there, a street's
        # board 0.5-0.7 -> 1.1-1.5 ms wall). A department's OR walked the types' open items
        # testing each against its pairs (7.2-7.6 ms at the stress million copied there,
        # 0.6-0.7 at the ten-year); its arms cost 1.4-1.5 ms at either.
        either = reduce(operator.or_, [cond for cond, _, _ in conds])
        return (
            Item.select(*ITEM_COLUMNS)
            .join(OrgNode, on=(Item.node == OrgNode.id))
            .where(either & Item.definition.in_(types))
            .order_by(Item.raised_at.desc(), Item.id.desc())
            .limit(LIMIT + 1)
        )
    arms = []
    for cond, newest, kind in conds:
        arm = (  # the items drive (CROSS JOIN: SQLite keeps the left table outside)
            Item.select(*ITEM_COLUMNS)
            .join(OrgNode, JOIN.CROSS)
            .where(cond & kind.in_(types) & (Item.node == OrgNode.id))
            .order_by(newest.desc(), Item.id.desc())
            .limit(LIMIT + 1)
        )
        arms.append(Select([arm], [SQL("*")]))
    return reduce(operator.add, arms).bind(database)


def _summons_due(item_ids: list[int]) -> dict[int, Any]:
    """Item id → the earliest deadline of its open summonses (one prepared statement)."""

    def build(**slots: Any) -> Any:
        return (
            Assignment.select(Assignment.item, fn.MIN(Assignment.next_due_at))
            .where(
                Assignment.item.in_(padded_slots("item", slots))
                & Assignment.open
                & Assignment.next_due_at.is_null(False)
            )
            .group_by(Assignment.item)
        )

    ids = padded("item", sorted(item_ids))
    return dict(prepared_cursor(("live.summons_due", len(ids)), build, **ids))


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
    in a street the most urgent (nearest or longest-passed deadline) first."""
    types = dict(live_types())
    if not types:
        return Board([])
    newest = _open_items(actor, list(types))
    cut = len(newest) > LIMIT
    open_items = [i for i in newest[:LIMIT] if not runtime(i["version_id"]).is_resolved(i["state"])]
    if not open_items:
        return Board([], cut)
    summons_due = _summons_due([i["id"] for i in open_items])
    above = {int(p) for i in open_items for p in i["node_path"].strip("/").split("/") if p}
    streets = _streets(above)
    groups: dict[int | None, StreetGroup] = {}
    for item in open_items:
        due = _earliest(item["due_at"], _naive(summons_due.get(item["id"])))
        ids = [int(p) for p in item["node_path"].strip("/").split("/") if p]
        street_id = next((i for i in ids if i in streets), None)
        group = groups.setdefault(
            street_id, StreetGroup(streets.get(street_id) if street_id else None)
        )
        run = runtime(item["version_id"])
        group.rows.append(
            LiveRow(
                item=item,
                compound=item["node_name"],
                type_name=types[item["definition_id"]],
                state_label=run.state_label(item["state"]),
                elapsed=int((now - item["raised_at"]).total_seconds()),
                due_at=due,
                remaining=int((due - now).total_seconds()) if due else None,
            )
        )
    for group in groups.values():
        group.rows.sort(key=lambda r: (r.remaining is None, r.remaining or 0, r.item["id"]))
    ordered = sorted(
        groups.values(),
        key=lambda g: (-g.overdue, -len(g.rows), g.street.id if g.street else 1 << 62),
    )
    return Board(ordered, cut)


def _naive(value: object) -> dt.datetime | None:
    # MIN() over a date-time column comes back as text on SQLite
    if isinstance(value, str):
        return Assignment.next_due_at.python_value(value)
    return value if isinstance(value, dt.datetime) else None


def _earliest(*times: dt.datetime | None) -> dt.datetime | None:
    known = [t for t in times if t is not None]
    return min(known) if known else None

"""The items behind a count of the overdue board (超期看板), and their late summonses.

Both are prepared statements (built once per shape of the actor's grants): the drill-down
names a page of items (``pages.review.board.OVERDUE_PAGE``), and building their two
queries was most of the page.
"""

from __future__ import annotations

import datetime as dt
import operator
from functools import reduce
from typing import Any

from peewee import JOIN, SQL, fn

from engine.org.actors import Actor
from engine.org.scope import (
    path_like,
    path_pattern,
    role_sees,
    visible_item_shape,
    visible_item_slotted,
)
from engine.store.db import backend
from engine.store.models import Assignment, Item, OrgNode
from engine.store.prepared import padded, padded_slots, prepared

# What the list shows of an item, with its node's name (not the node's file).
ITEM_COLUMNS = (
    Item.id,
    Item.title,
    Item.urge_count,
    Item.definition.alias("definition_id"),
    Item.node.alias("node_id"),
    Item.due_at,
    OrgNode.name.alias("node_name"),
)


def _summons_shape(actor: Actor) -> tuple[tuple[str, ...], dict[str, Any]]:
    """``scope.summons_in_view``'s conditions as a shape (per grant that sees a subtree or
    summoned units, which) and its path patterns (``spath0`` …)."""
    ways: list[str] = []
    values: dict[str, Any] = {}
    for grant in actor.grants:
        sees = role_sees(grant.role)
        if sees in ("subtree", "summoned"):
            values[f"spath{len(ways)}"] = path_pattern(grant.node_path)
            ways.append(sees)
    return tuple(ways), values


def _summons_scope(ways: tuple[str, ...], slots: dict[str, Any]) -> Any:
    """``scope.summons_in_view``'s condition (on summons joined to their items)."""
    conds = [
        path_like(Item.node_path if sees == "subtree" else Assignment.unit_path, slots[f"spath{i}"])
        for i, sees in enumerate(ways)
    ]
    return reduce(operator.or_, conds) if conds else (Assignment.id < 0)


def _late(slots: dict[str, Any]) -> Any:
    return (
        (Assignment.open == True)
        & Assignment.next_due_at.is_null(False)
        & (Assignment.next_due_at < slots["now"])
    )


def overdue_items(
    actor: Actor,
    level: str,
    node: OrgNode,
    *,
    now: dt.datetime,
    within: OrgNode | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The items behind a board count: overdue items under ``node``, earliest deadline
    first; or, for a department, the open items on which its summons are overdue, the one
    whose summons has been late longest first. Rows as dicts of ``ITEM_COLUMNS``
    (``node_name``: the item's node's name): ``limit`` of them after the first ``offset``.

    :param level: the board's level (street, community, compound or department).
    """
    if level == "department":
        return _department_items(actor, node, now=now, within=within, limit=limit, offset=offset)
    ways, values = visible_item_shape(actor)
    values.update(now=now, limit=limit, offset=offset)
    values["under"] = path_pattern(node.path)

    def build(**slots: Any) -> Any:
        return (
            visible_item_slotted(ways, slots)
            .select(*ITEM_COLUMNS)
            .join(OrgNode, on=(Item.node == OrgNode.id))
            .where(
                ~Item.closed
                & path_like(Item.node_path, slots["under"])
                & Item.due_at.is_null(False)
                & (Item.due_at < slots["now"])
            )
            .order_by(Item.due_at, Item.id)
            .limit(slots["limit"])
            .offset(slots["offset"])
            .dicts()
        )

    return list(prepared(("board_items.overdue", ways), build, **values))


def _department_items(
    actor: Actor,
    unit: OrgNode,
    *,
    now: dt.datetime,
    within: OrgNode | None,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    """``overdue_items`` of a department: its late summons in deadline order on the
    (open, next_due_at, unit, item) index, each item at its earliest open summons of the
    unit (no earlier one exists), until the page is full. The items' own order would mean
    reading every item the department is late on: for one late on 5,030 at 1,000,000
    items, 79 ms for the district (2.6 ms read this way; 3.5 for a department late on
    nothing) and 68 ms for a street (14 ms: the street's 242 among them are found by
    their items' paths).

    A summons in the actor's view is on an item in its view (the same grants see the item
    by its path, or by a summons of a unit under them): the items need no test of their own.
    """
    ways, values = _summons_shape(actor)
    values.update(now=now, limit=limit, offset=offset, unit=unit.id)
    if within is not None:
        values["within"] = path_pattern(within.path)

    def build(**slots: Any) -> Any:
        earlier = Assignment.alias("earlier")
        first = ~fn.EXISTS(
            earlier.select(SQL("1")).where(
                (earlier.unit == Assignment.unit)
                # on the item row: tested after the item's scope, not for every summons
                & (earlier.item == Item.id)
                & (earlier.open == True)
                & earlier.next_due_at.is_null(False)
                & (
                    (earlier.next_due_at < Assignment.next_due_at)
                    | (
                        (earlier.next_due_at == Assignment.next_due_at)
                        & (earlier.id < Assignment.id)
                    )
                )
            )
        )
        query = (
            Assignment.select(*ITEM_COLUMNS)
            .join(Item, JOIN.CROSS)  # the summons drive the join, in their index's order
            .join(OrgNode, on=(Item.node == OrgNode.id))
            .where(
                (Item.id == Assignment.item)
                & (backend().unindexed(Assignment.unit) == slots["unit"])
                & _late(slots)
                & (Item.closed == False)
                & _summons_scope(ways, slots)
                & first
            )
        )
        if "within" in slots:
            query = query.where(path_like(Item.node_path, slots["within"]))
        query = query.order_by(Assignment.next_due_at, Assignment.id)
        return query.limit(slots["limit"]).offset(slots["offset"]).dicts()

    key = ("board_items.department", ways, within is not None)
    return list(prepared(key, build, **values))


def late_summons(
    actor: Actor, items: list[dict[str, Any]], *, now: dt.datetime
) -> dict[int, list[dict[str, Any]]]:
    """Item id → its open summons in the actor's view that are past their deadline, as
    dicts (``id``, ``item_id``, ``state``, ``next_due_at``, ``urge_count``, ``unit_name``)."""
    if not items:
        return {}
    ways, values = _summons_shape(actor)
    ids = padded("item", sorted({row["id"] for row in items}))
    values.update(ids, now=now)

    def build(**slots: Any) -> Any:
        return (
            Assignment.select(
                Assignment.id,
                Assignment.item.alias("item_id"),
                Assignment.state,
                Assignment.next_due_at,
                Assignment.urge_count,
                OrgNode.name.alias("unit_name"),
            )
            .join(OrgNode, on=(Assignment.unit == OrgNode.id))
            .switch(Assignment)
            .join(Item, on=(Assignment.item == Item.id))
            .where(
                _summons_scope(ways, slots)
                & Assignment.item.in_(padded_slots("item", slots))
                & _late(slots)
            )
            .order_by(Assignment.next_due_at, Assignment.id)
            .dicts()
        )

    found: dict[int, list[dict[str, Any]]] = {}
    for row in prepared(("board_items.late", ways, len(ids)), build, **values):
        found.setdefault(row["item_id"], []).append(row)
    return found

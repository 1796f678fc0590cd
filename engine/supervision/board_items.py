"""The items behind a count of the overdue board (超期看板), and their late summonses.

Both are prepared statements (built once per shape of the actor's grants): the drill-down
names up to 200 items, and building their two queries was most of the page.
"""

from __future__ import annotations

import datetime as dt
import operator
from functools import reduce
from typing import Any

from engine.org.actors import Actor
from engine.org.scope import (
    path_like,
    path_pattern,
    role_sees,
    visible_item_shape,
    visible_item_slotted,
)
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
        Assignment.open
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
) -> list[dict[str, Any]]:
    """The items behind a board count: overdue items under ``node``, or, for a department,
    the items on which its summons are overdue; earliest deadline first. Rows as dicts of
    ``ITEM_COLUMNS`` (``node_name``: the item's node's name).

    :param level: the board's level (street, community, compound or department).
    """
    ways, values = visible_item_shape(actor)
    values.update(now=now, limit=limit)
    department = level == "department"
    if department:
        summons_ways, summons_values = _summons_shape(actor)
        values.update(summons_values, unit=node.id)
        if within is not None:
            values["within"] = path_pattern(within.path)
    else:
        summons_ways = ()
        values["under"] = path_pattern(node.path)
    key = ("board_items.overdue", ways, department, summons_ways, within is not None)

    def build(**slots: Any) -> Any:
        query = (
            visible_item_slotted(ways, slots)
            .select(*ITEM_COLUMNS)
            .join(OrgNode, on=(Item.node == OrgNode.id))
            .where(~Item.closed)
        )
        if department:
            late = (
                Assignment.select(Assignment.item)
                .join(Item, on=(Assignment.item == Item.id))
                .where(
                    _summons_scope(summons_ways, slots)
                    & (Assignment.unit == slots["unit"])
                    & _late(slots)
                )
            )
            query = query.where(Item.id.in_(late))
            if "within" in slots:
                query = query.where(path_like(Item.node_path, slots["within"]))
        else:
            query = query.where(
                path_like(Item.node_path, slots["under"])
                & Item.due_at.is_null(False)
                & (Item.due_at < slots["now"])
            )
        return query.order_by(Item.due_at, Item.id).limit(slots["limit"]).dicts()

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

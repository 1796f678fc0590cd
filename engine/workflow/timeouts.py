"""Timeouts (超时自动流转): items whose state's deadline has passed and whose state names an
``on_timeout`` transition are moved on by the sweep, as the system.

A resolved item the resident never rated is the common case: the ball is in the resident's
court, so the deadline is not the staff's to miss — after it the item closes unrated instead of
counting as overdue against the compound for ever.
"""

from __future__ import annotations

import datetime as dt

from peewee import fn

from engine.core.errors import Conflict
from engine.definitions.runtimes import runtime
from engine.store.models import Item
from engine.workflow.items import time_out

BATCH = 200


def due(*, now: dt.datetime, limit: int = BATCH) -> list[int]:
    """Ids of open items past their deadline in a state with an ``on_timeout``, oldest first.

    Two statements: the (version, state) pairs that are overdue at all, then the items of the
    pairs whose state times out (read from the cached runtimes, not the database).
    """
    late = ~Item.closed & Item.due_at.is_null(False) & (Item.due_at < now)
    pairs = (
        Item.select(Item.version, Item.state, fn.COUNT(Item.id))
        .where(late)
        .group_by(Item.version, Item.state)
        .tuples()
    )
    timed = [
        (version_id, state)
        for version_id, state, _count in pairs
        if runtime(version_id).states.get(state, {}).get("on_timeout")
    ]
    if not timed:
        return []
    matches = None
    for version_id, state in timed:
        clause = (Item.version == version_id) & (Item.state == state)
        matches = clause if matches is None else matches | clause
    query = Item.select(Item.id).where(late & matches).order_by(Item.due_at, Item.id).limit(limit)
    return [row.id for row in query]


def run(*, now: dt.datetime, limit: int = BATCH) -> int:
    """Time out the due items, each in its own transaction; the number moved.

    An item a person moves at the same moment stays with that person's move (Conflict is
    skipped); the next sweep finds the rest.
    """
    moved = 0
    for item_id in due(now=now, limit=limit):
        try:
            if time_out(item_id, now=now) is not None:
                moved += 1
        except Conflict:
            continue
    return moved

"""Work queues: a commissioner's inbox, a unit's summons list, a resident's items."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from peewee import SQL

from engine.actors import Actor
from engine.models import HANDLER_ROLE, Assignment, Definition, Item, OrgNode
from engine.scope import item_within, visible_assignments, visible_items

PAGE_SIZE = 50


@dataclass(frozen=True)
class Filters:
    state: str | None = None
    node: str | None = None
    type: str | None = None
    open_only: bool = True
    mine: bool = False  # only items raised by the actor or summoning the actor's units


def items_query(actor: Actor, filters: Filters = Filters()) -> Any:
    """Visible items, filtered, ordered by deadline (overdue first, no deadline last)."""
    query = visible_items(actor).join(Definition).switch(Item)
    if filters.open_only:
        query = query.where(~Item.closed)
    if filters.state:
        query = query.where(Item.state == filters.state)
    if filters.type:
        query = query.where(Definition.key == filters.type)
    if filters.node:
        node = OrgNode.get_or_none(OrgNode.key == filters.node)
        query = query.where(item_within(node.path) if node else Item.id < 0)
    if actor.grants_for(HANDLER_ROLE):
        # Items a supervisor handed to another commissioner leave this one's inbox.
        query = query.where(Item.handler.is_null() | (Item.handler == actor.user.id))
    if filters.mine:
        units = visible_assignments(actor).select(Assignment.item)
        query = query.where((Item.raised_by == actor.user.id) | Item.id.in_(units))
    return query.order_by(SQL("due_at IS NULL"), Item.due_at, Item.id.desc())


def inbox(actor: Actor, filters: Filters = Filters(), *, page: int = 1) -> list[Item]:
    return list(items_query(actor, filters).paginate(page, PAGE_SIZE))


def summons(actor: Actor, *, open_only: bool = True, page: int = 1) -> list[Assignment]:
    """Summons addressed to the actor's units, by deadline."""
    query = visible_assignments(actor).join(Item).switch(Assignment).join(OrgNode)
    if open_only:
        query = query.where(Assignment.open)
    return list(
        query.order_by(SQL("next_due_at IS NULL"), Assignment.next_due_at, Assignment.id)
        .paginate(page, PAGE_SIZE)
    )


def is_overdue(due: dt.datetime | None, now: dt.datetime) -> bool:
    return due is not None and due < now

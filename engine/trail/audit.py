"""The audit trail: every change is an event (who, when, before, after)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from peewee import JOIN, fn

from engine.store.models import Event, Item, User
from engine.trail.outbox import forward_audit_event


def record(
    action: str,
    *,
    at: dt.datetime,
    actor: User | None,
    item: Item | None = None,
    target: str = "",
    before: Any = None,
    after: Any = None,
    detail: Any = None,
) -> Event:
    """Append one audit event; callers do this inside their own transaction.

    Item events webhooks subscribe to (raise, transition, summons ...) go to the
    outbox in the same transaction (``engine/trail/outbox.py``).
    """
    event = Event.create(
        at=at,
        actor=actor,
        action=action,
        item=item,
        target=target,
        before=before,
        after=after,
        detail=detail,
    )
    forward_audit_event(event)
    return event


def _about(target: str | None, item: Item | None) -> Any:
    if item is not None:
        return Event.item == item
    return Event.target == target


def latest_id(*, target: str | None = None, item: Item | None = None) -> int:
    """The newest event about ``target`` (or ``item``), 0 if none: what a form has seen."""
    return int(Event.select(fn.MAX(Event.id)).where(_about(target, item)).scalar() or 0)


def since(seen: int, *, target: str | None = None, item: Item | None = None) -> list[Event]:
    """The events about ``target`` (or ``item``) newer than ``seen``, oldest first: what
    others did while a form that had seen up to ``seen`` was open."""
    return list(
        Event.select(Event, User)
        .join(User, join_type=JOIN.LEFT_OUTER, on=(Event.actor == User.id))
        .where(_about(target, item) & (Event.id > seen))
        .order_by(Event.id)
    )

"""The audit trail: every change is an event (who, when, before, after)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.models import Event, Item, User
from engine.outbox import forward_audit_event


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
    outbox in the same transaction (``engine/outbox.py``).
    """
    event = Event.create(
        at=at, actor=actor, action=action, item=item, target=target,
        before=before, after=after, detail=detail,
    )
    forward_audit_event(event)
    return event

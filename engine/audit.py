"""The audit trail: every change is an event (who, when, before, after)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.models import Event, Item, User


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
    """Append one audit event; callers do this inside their own transaction."""
    return Event.create(
        at=at, actor=actor, action=action, item=item, target=target,
        before=before, after=after, detail=detail,
    )

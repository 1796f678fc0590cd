"""The durable outbox (发件箱): events to forward, written in the change's own transaction.

Nothing is sent from here. A row is written only when an active webhook endpoint
subscribes to the event, one delivery per endpoint, so a change that rolls back
leaves nothing to send and a change that commits cannot be lost: the deliverer
(`engine/deliver.py`) picks the rows up later, however long the receiver is down.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from engine import clock
from engine.events import event_of_action, matches
from engine.models import (
    Definition,
    Delivery,
    Event,
    Item,
    Notification,
    OrgNode,
    OutboxMessage,
    User,
    WebhookEndpoint,
)


def subscribers(event: str) -> list[WebhookEndpoint]:
    """Active endpoints subscribed to ``event`` (one small query)."""
    return [e for e in WebhookEndpoint.select().where(WebhookEndpoint.active) if matches(e.events, event)]


def enqueue(
    event: str, payload: dict[str, Any], *, item_id: int | None, now: dt.datetime,
    endpoints: Iterable[WebhookEndpoint] | None = None,
) -> OutboxMessage | None:
    """Write ``event`` to the outbox for every subscribed endpoint; call inside the change's transaction.

    :param item_id: the item the event is about; deliveries of one item to one endpoint
        go out in the order they were written.
    :returns: the message, or None when no endpoint subscribes.
    """
    targets = list(subscribers(event) if endpoints is None else endpoints)
    if not targets:
        return None
    message = OutboxMessage.create(event=event, item=item_id, payload=payload, created_at=now)
    Delivery.insert_many([
        {"message": message.id, "endpoint": e.id, "status": "pending", "next_attempt_at": now,
         "stream": f"item:{item_id}" if item_id is not None else None, "attempts": 0,
         "last_error": ""}
        for e in targets
    ]).execute()
    return message


def item_summary(item_id: int) -> dict[str, Any] | None:
    """What a receiver needs to know about an item, as it is now (inside the transaction)."""
    row = (
        Item.select(Item, Definition.key, OrgNode.key, OrgNode.name)
        .join(Definition).switch(Item).join(OrgNode)
        .where(Item.id == item_id).first()
    )
    if row is None:
        return None
    return {
        "id": row.id, "type": row.definition.key, "title": row.title, "state": row.state,
        "node": row.node.key, "node_name": row.node.name, "priority": row.priority,
        "closed": row.closed, "raised_at": clock.iso(row.raised_at), "due_at": clock.iso(row.due_at),
    }


def _person(user: User | None) -> dict[str, Any] | None:
    return {"username": user.username, "name": user.name} if user is not None else None


def forward_audit_event(event: Event) -> OutboxMessage | None:
    """Forward an audit event about an item if it is one webhooks know (raise, transition, ...)."""
    name = event_of_action(event.action)
    if name is None or event.item_id is None:
        return None
    after = event.after
    if event.action == "route":
        summoned = (event.detail or {}).get("summoned") or []
        if not summoned:
            return None  # a routing table that summoned nobody is not news for a receiver
        after = {"table": event.detail.get("table"), "summoned": summoned}
    endpoints = subscribers(name)
    if not endpoints:
        return None
    payload = {
        "action": event.action, "target": event.target, "actor": _person(event.actor),
        "item": item_summary(event.item_id), "before": event.before, "after": after,
    }
    if event.action.startswith("transition."):
        payload["transition"] = event.action.partition(".")[2]
    return enqueue(name, payload, item_id=event.item_id, now=event.at, endpoints=endpoints)


def forward_notification(
    notification: Notification, user: User, item: Item | None, *, now: dt.datetime,
    endpoints: Iterable[WebhookEndpoint],
) -> OutboxMessage | None:
    """Forward one in-app notification, so the district's own messenger can relay it."""
    payload = {
        "notification": {"id": notification.id, "message": notification.message,
                         "created_at": clock.iso(now)},
        "recipient": _person(user),
        "item": item_summary(item.id) if item is not None else None,
    }
    return enqueue("notification", payload, item_id=item.id if item is not None else None,
                   now=now, endpoints=endpoints)

"""The durable outbox (发件箱): events to forward, written in the change's own transaction.

Nothing is sent from here. A row is written only when an active webhook endpoint
subscribes to the event, one delivery per endpoint, so a change that rolls back
leaves nothing to send and a change that commits cannot be lost: the deliverer
(`engine/delivery/deliver.py`) picks the rows up later, however long the receiver is down.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from peewee import JOIN

from engine.core import clock
from engine.core.events import event_of_action, matches
from engine.definitions.runtimes import Runtime, runtime
from engine.store.models import (
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
from engine.trail import privacy


def subscribers(event: str) -> list[WebhookEndpoint]:
    """Active endpoints subscribed to ``event``, wherever they listen (one small query)."""
    return [
        e
        for e in WebhookEndpoint.select().where(WebhookEndpoint.active)
        if matches(e.events, event)
    ]


@dataclass(frozen=True)
class About:
    """What decides who may receive an event about an item, and what of it."""

    node_path: str
    rt: Runtime
    data: Mapping[str, Any]
    raiser: str | None  # the raiser's username

    @classmethod
    def of(cls, item: Item, raiser: str | None) -> About:
        return cls(item.node_path, runtime(item.version_id), item.data or {}, raiser)


def fan_out(
    payload: dict[str, Any],
    about: About | None,
    endpoints: Iterable[WebhookEndpoint],
) -> list[tuple[dict[str, Any], list[WebhookEndpoint]]]:
    """The endpoints that may receive an event, grouped by the payload each may have.

    An endpoint hears of items in its scope only (an event about no item: district-wide
    endpoints only); one allowed personal data gets it (unless the item is anonymous),
    the others get the payload without it (:func:`engine.trail.privacy.for_receiver`).
    """
    groups: dict[bool, list[WebhookEndpoint]] = {}
    for endpoint in endpoints:
        if endpoint.listens_at(about.node_path if about else None):
            groups.setdefault(bool(endpoint.personal), []).append(endpoint)
    out = []
    for personal, group in sorted(groups.items()):
        shaped = (
            payload
            if about is None
            else privacy.for_receiver(
                about.rt, about.data, about.raiser, payload, personal=personal
            )
        )
        out.append((shaped, group))
    return out


def enqueue(
    event: str,
    payload: dict[str, Any],
    *,
    item_id: int | None,
    now: dt.datetime,
    endpoints: Iterable[WebhookEndpoint] | None = None,
    about: About | None = None,
) -> list[OutboxMessage]:
    """Write ``event`` to the outbox for every subscribed endpoint that may hear of it;
    call inside the change's transaction.

    :param item_id: the item the event is about; deliveries of one item to one endpoint
        go out in the order they were written.
    :param about: the item's scope and privacy; None for an event about no item.
    :returns: the messages written (one per kind of payload), none when nobody listens.
    """
    candidates = list(subscribers(event) if endpoints is None else endpoints)
    messages = []
    for shaped, targets in fan_out(payload, about, candidates):
        message = OutboxMessage.create(event=event, item=item_id, payload=shaped, created_at=now)
        Delivery.insert_many(
            [
                {
                    "message": message.id,
                    "endpoint": e.id,
                    "status": "pending",
                    "next_attempt_at": now,
                    "stream": f"item:{item_id}" if item_id is not None else None,
                    "attempts": 0,
                    "last_error": "",
                }
                for e in targets
            ]
        ).execute()
        messages.append(message)
    return messages


def _item_row(item_id: int) -> Item | None:
    return (
        Item.select(Item, Definition.key, OrgNode.key, OrgNode.name, User.id, User.username)
        .join(Definition)
        .switch(Item)
        .join(OrgNode)
        .switch(Item)
        .join(User, JOIN.LEFT_OUTER, on=(Item.raised_by == User.id))
        .where(Item.id == item_id)
        .first()
    )


def summary_of(row: Item) -> dict[str, Any]:
    """What a receiver needs to know about an item, as it is now."""
    return {
        "id": row.id,
        "type": row.definition.key,
        "title": row.title,
        "state": row.state,
        "node": row.node.key,
        "node_name": row.node.name,
        "priority": row.priority,
        "closed": row.closed,
        "raised_at": clock.iso(row.raised_at),
        "due_at": clock.iso(row.due_at),
    }


def item_summary(item_id: int) -> dict[str, Any] | None:
    """What a receiver needs to know about an item, as it is now (inside the transaction)."""
    row = _item_row(item_id)
    return None if row is None else summary_of(row)


def _about(row: Item) -> About:
    return About.of(row, row.raised_by.username if row.raised_by_id else None)


def _person(user: User | None) -> dict[str, Any] | None:
    return {"username": user.username, "name": user.name} if user is not None else None


def forward_audit_event(event: Event) -> list[OutboxMessage]:
    """Forward an audit event about an item if it is one webhooks know (raise, transition, ...)."""
    name = event_of_action(event.action)
    if name is None or event.item_id is None:
        return []
    after = event.after
    if event.action == "route":
        summoned = (event.detail or {}).get("summoned") or []
        if not summoned:
            return []  # a routing table that summoned nobody is not news for a receiver
        after = {"table": event.detail.get("table"), "summoned": summoned}
    endpoints = subscribers(name)
    if not endpoints:
        return []
    row = _item_row(event.item_id)
    if row is None:
        return []
    payload = {
        "action": event.action,
        "target": event.target,
        "actor": _person(event.actor),
        "item": summary_of(row),
        "before": event.before,
        "after": after,
    }
    if event.action.startswith("transition."):
        payload["transition"] = event.action.partition(".")[2]
    return enqueue(
        name, payload, item_id=event.item_id, now=event.at, endpoints=endpoints, about=_about(row)
    )


def forward_notification(
    notification: Notification,
    user: User,
    item: Item | None,
    *,
    now: dt.datetime,
    endpoints: Iterable[WebhookEndpoint],
) -> list[OutboxMessage]:
    """Forward one in-app notification, so the district's own messenger can relay it."""
    row = _item_row(item.id) if item is not None else None
    payload = {
        "notification": {
            "id": notification.id,
            "message": notification.message,
            "created_at": clock.iso(now),
        },
        "recipient": _person(user),
        "item": summary_of(row) if row is not None else None,
    }
    return enqueue(
        "notification",
        payload,
        item_id=item.id if item is not None else None,
        now=now,
        endpoints=endpoints,
        about=_about(row) if row is not None else None,
    )

"""The writes a batch of escalation steps makes, kept in order and made in bulk.

Rows of each table are inserted in the order the steps made them, so ids come out as
they would one step at a time: a receiver's deliveries of one item stay in order.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from engine.core import clock
from engine.store.db import MAX_PARAMS, bulk_insert, database, insert_returning
from engine.store.models import (
    Assignment,
    Delivery,
    Event,
    Item,
    Notification,
    OutboxMessage,
    User,
    WebhookEndpoint,
)
from engine.trail.outbox import About, fan_out, subscribers


class Writes:
    """Notifications, summonses, outbox messages, audit events and counters yet to write."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.priority: dict[int, int] = {}  # item id → priority as the steps left it
        self.assignment_priority: dict[int, int] = {}
        self.urges: dict[tuple[str, int], int] = defaultdict(
            int
        )  # ("item"|"assignment", id) → urges
        self.assignments: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []
        # (event, item, payload, index of the notification whose id the payload needs)
        self.outbox: list[tuple[str, Item, dict[str, Any], int | None]] = []
        self.events: list[dict[str, Any]] = []
        self._endpoints: dict[str, list[WebhookEndpoint]] = {}

    def subscribers(self, event: str) -> list[WebhookEndpoint]:
        if event not in self._endpoints:
            self._endpoints[event] = subscribers(event)
        return self._endpoints[event]

    def notify(self, users: list[User], item: Item, message: str, summary: Any) -> int:
        """Notify each of ``users`` once, as :func:`engine.delivery.notify.notify_users` does.

        :param summary: a callable giving the item's summary, called only when a webhook
            subscribes to notifications.
        """
        unique = list({u.id: u for u in users}.values())
        forward = bool(unique) and bool(self.subscribers("notification"))
        about = summary() if forward else None
        for user in unique:
            if forward:
                payload = {
                    "notification": {
                        "id": None,
                        "message": message[:500],
                        "created_at": clock.iso(self.now),
                    },
                    "recipient": {"username": user.username, "name": user.name},
                    "item": about,
                }
                self.outbox.append(("notification", item, payload, len(self.notifications)))
            self.notifications.append(
                {
                    "user": user.id,
                    "item": item.id,
                    "message": message[:500],
                    "created_at": self.now,
                    "read": False,
                }
            )
        return len(unique)

    def record(self, action: str, item_id: int, target: str, detail: dict[str, Any]) -> None:
        """An audit event by the sweep (no actor)."""
        self.events.append(
            {
                "at": self.now,
                "actor": None,
                "action": action,
                "item": item_id,
                "target": target,
                "before": None,
                "after": None,
                "detail": detail,
            }
        )

    def forward(self, event: str, item: Item, payload: dict[str, Any]) -> None:
        """An outbox message for every endpoint subscribed to ``event`` that may hear of ``item``."""
        if self.subscribers(event):
            self.outbox.append((event, item, payload, None))

    def flush(self) -> None:
        """Write everything kept so far."""
        bulk_insert(Assignment, self.assignments)
        self.assignments = []
        self._counters()
        notification_ids = self._notifications()
        self._messages(notification_ids)
        self._events()

    def _counters(self) -> None:
        """Each touched item and summons updated once: its new priority, its urges added."""
        for model, kind, priorities in (
            (Item, "item", self.priority),
            (Assignment, "assignment", self.assignment_priority),
        ):
            rows = {row_id: (priority, 0) for row_id, priority in priorities.items()}
            for (of, row_id), count in self.urges.items():
                if of == kind:
                    rows[row_id] = (rows.get(row_id, (None, 0))[0], count)
            _update_counters(model._meta.table_name, rows)
            priorities.clear()
        self.urges.clear()

    def _notifications(self) -> list[int]:
        rows, self.notifications = self.notifications, []
        if not rows:
            return []
        if not any(number is not None for *_, number in self.outbox):
            bulk_insert(Notification, rows)
            return []
        return _ids(insert_returning(Notification, rows, returning=("id",)))

    def _messages(self, notification_ids: list[int]) -> None:
        entries, self.outbox = self.outbox, []
        if not entries:
            return
        raisers = _usernames({item.raised_by_id for _e, item, *_ in entries if item.raised_by_id})
        rows, targets = [], []
        for event, item, payload, number in entries:
            if number is not None:
                payload["notification"]["id"] = notification_ids[number]
            about = About.of(item, raisers.get(item.raised_by_id))
            for shaped, endpoints in fan_out(payload, about, self.subscribers(event)):
                rows.append(
                    {"event": event, "item": item.id, "payload": shaped, "created_at": self.now}
                )
                targets.append((item.id, endpoints))
        if not rows:
            return
        ids = _ids(insert_returning(OutboxMessage, rows, returning=("id",)))
        bulk_insert(
            Delivery,
            [
                {
                    "message": message_id,
                    "endpoint": e.id,
                    "status": "pending",
                    "next_attempt_at": self.now,
                    "stream": f"item:{item_id}",
                    "attempts": 0,
                    "last_error": "",
                }
                for message_id, (item_id, endpoints) in zip(ids, targets, strict=True)
                for e in endpoints
            ],
        )

    def _events(self) -> None:
        # Written as audit.record would, less its forwarding: the sweep's own events
        # ("escalation") are not webhook events, and a "route" went to the outbox by forward().
        rows, self.events = self.events, []
        bulk_insert(Event, rows)


def _usernames(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return dict(User.select(User.id, User.username).where(User.id.in_(list(user_ids))).tuples())


def _ids(returned: list[tuple[Any, ...]]) -> list[int]:
    """Ids in the order of the inserted rows: the ids one statement gives rise with its rows."""
    return sorted(row_id for (row_id,) in returned)


def _update_counters(table: str, rows: dict[int, tuple[int | None, int]]) -> None:
    """Set priorities (None: keep) and add urges, one statement for many rows (UPDATE ... FROM)."""
    ids = sorted(rows)  # the order PostgreSQL locks them in, as the batch's items were
    for start in range(0, len(ids), MAX_PARAMS // 3):
        chunk = ids[start : start + MAX_PARAMS // 3]
        cast = f"CAST({database.param} AS INTEGER)"
        one = f"({cast}, {cast}, {cast})"
        params = [value for row_id in chunk for value in (row_id, *rows[row_id])]
        database.execute_sql(
            f"WITH v (id, priority, urges) AS (VALUES {', '.join([one] * len(chunk))}) "
            f'UPDATE "{table}" SET "priority" = COALESCE(v.priority, "{table}"."priority"), '
            f'"urge_count" = "{table}"."urge_count" + v.urges FROM v WHERE "{table}"."id" = v.id',
            params,
        )

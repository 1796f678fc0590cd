"""Due escalation steps (超时预警, 督办, 升级) applied a batch per transaction, each once.

A batch locks its items (in id order on PostgreSQL, so two sweepers cannot deadlock;
SQLite's write transaction already holds the one write lock), re-checks that each
step's subject is still due, then inserts the batch's :class:`Escalation` rows with
``ON CONFLICT DO NOTHING RETURNING``: only the rows this sweeper inserted get their
actions, the others were applied by a sweeper that got there first. Notifications,
outbox messages, audit events and the priority and urge counters are written in bulk
at the end, in the order the steps ran, so each table's rows come out as they would
one step at a time (webhook deliveries of one item stay in order).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from engine import audit, clock
from engine.context import item_doc
from engine.db import is_postgres, write_transaction
from engine.dispatch import summon
from engine.errors import Conflict
from engine.events import event_of_action
from engine.models import (
    Assignment,
    Delivery,
    Escalation,
    Event,
    Item,
    Notification,
    OrgNode,
    OutboxMessage,
    User,
    WebhookEndpoint,
)
from engine.notify import users_with_roles
from engine.outbox import item_summary, subscribers

if TYPE_CHECKING:
    from engine.escalation import DueStep

SUMMONS_REPORT = "summons_report"


class UserCache:
    """Role holders by (roles, node path) and users by id, looked up once per sweep."""

    def __init__(self) -> None:
        self._holders: dict[tuple[tuple[str, ...], str], list[User]] = {}
        self._users: dict[int, User] = {}

    def holders(self, roles: Sequence[str], path: str) -> list[User]:
        key = (tuple(roles), path)
        if key not in self._holders:
            self._holders[key] = users_with_roles(roles, path)
        return list(self._holders[key])

    def user(self, user_id: int) -> User:
        if user_id not in self._users:
            self._users[user_id] = User.get_by_id(user_id)
        return self._users[user_id]


def apply_batch(steps: Sequence[DueStep], *, now: dt.datetime, users: UserCache) -> list[str]:
    """Apply ``steps`` in one transaction; an outcome per step: applied, raced, moved or busy.

    :param users: the sweep's cache of role holders.
    :returns: ``busy`` for every step when the database stayed locked (nothing was
        written; the next sweep retries them).
    """
    try:
        with write_transaction():
            return _Batch(steps, now, users).run()
    except Conflict:
        return ["busy"] * len(steps)


def _locked_items(item_ids: list[int]) -> dict[int, Item]:
    query = Item.select().where(Item.id.in_(item_ids)).order_by(Item.id)
    return {i.id: i for i in (query.for_update() if is_postgres() else query)}  # SQLite: BEGIN IMMEDIATE


def still_due(due: DueStep, item: Item | None, assignment: Assignment | None) -> bool:
    """Whether the step's subject is where it was when the step fell due."""
    if item is None or item.closed:
        return False
    if due.assignment_id is None:
        return due.subject == f"state:{item.state}:{item.lock}"
    if assignment is None or not assignment.open:
        return False
    return due.step["on"] != SUMMONS_REPORT or assignment.state == "summoned"


def _claim(steps: list[DueStep], now: dt.datetime) -> set[tuple[int, str, str]]:
    """Insert the steps' Escalation rows; the keys this sweeper inserted (won)."""
    if not steps:
        return set()
    key = (Escalation.item, Escalation.subject, Escalation.step)
    rows = [
        {"item": d.item_id, "subject": d.subject, "step": d.step["key"], "kind": d.step["on"],
         "assignment": d.assignment_id, "due_at": d.deadline, "at": now, "detail": None}
        for d in steps
    ]
    query = (Escalation.insert_many(rows).on_conflict(action="NOTHING", conflict_target=key)
             .returning(*key).tuples())
    return {(item_id, subject, step) for item_id, subject, step in query.execute()}


class _Batch:
    """One batch's state: the rows it loaded and the writes it has yet to make."""

    def __init__(self, steps: Sequence[DueStep], now: dt.datetime, users: UserCache) -> None:
        self.steps, self.now, self.users = steps, now, users
        self.priority: dict[int, int] = {}  # item id → priority as the steps left it
        self.assignment_priority: dict[int, int] = {}
        self.urges: dict[tuple[str, int], int] = defaultdict(int)  # ("item"|"assignment", id) → urges to add
        self.notifications: list[dict[str, Any]] = []
        self.forwards: list[tuple[int, User, dict[str, Any] | None]] = []  # (notification no., user, item)
        self.events: list[dict[str, Any]] = []
        self.endpoints: dict[str, list[WebhookEndpoint]] = {}
        self.summaries: dict[int, dict[str, Any] | None] = {}

    def run(self) -> list[str]:
        item_ids = sorted({d.item_id for d in self.steps})
        self.items = _locked_items(item_ids)
        assignment_ids = [d.assignment_id for d in self.steps if d.assignment_id is not None]
        self.assignments = {
            a.id: a for a in Assignment.select(Assignment, OrgNode).join(OrgNode)
            .where(Assignment.id.in_(assignment_ids))
        } if assignment_ids else {}
        outcomes = ["moved"] * len(self.steps)
        live = [n for n, d in enumerate(self.steps)
                if still_due(d, self.items.get(d.item_id), self.assignments.get(d.assignment_id or 0))]
        won = _claim([self.steps[n] for n in live], self.now)
        for n in live:
            due = self.steps[n]
            if (due.item_id, due.subject, due.step["key"]) not in won:
                outcomes[n] = "raced"
                continue
            outcomes[n] = "applied"
            self._apply(due)
        self.flush()
        return outcomes

    def _apply(self, due: DueStep) -> None:
        item = self.items[due.item_id]
        assignment = self.assignments.get(due.assignment_id) if due.assignment_id else None
        did = self._act(item, assignment, due)
        self.events.append({
            "at": self.now, "actor": None, "action": "escalation", "item": item.id,
            "target": f"assignment:{assignment.id}" if assignment else f"item:{item.id}",
            "before": None, "after": None,
            "detail": {
                "step": due.step["key"], "label": due.step.get("label", due.step["key"]),
                "on": due.step["on"], "subject": due.subject,
                "unit": assignment.unit.name if assignment else None,
                "deadline": due.deadline.isoformat(), "due_at": due.fire_at.isoformat(),
                "did": did,
            },
        })

    # -- the actions ----------------------------------------------------------------------

    def _act(self, item: Item, assignment: Assignment | None, due: DueStep) -> list[str]:
        """Run the step's actions in order; return a line per action for the timeline."""
        step = due.step
        label = step.get("label", step["key"])
        did: list[str] = []
        for action in step["do"]:
            if "notify" in action:
                spec = action["notify"]
                default = f"【{label}】{item.title}" + (f"({assignment.unit.name})" if assignment else "")
                count = self._notify(self._recipients(item, assignment, spec["roles"]), item,
                                     spec.get("message") or default)
                did.append(f"notify {','.join(spec['roles'])}: {count}")
            elif "raise_priority" in action:
                before = self.priority.get(item.id, item.priority)
                priority = min(9, before + int(action["raise_priority"]))
                self.priority[item.id] = priority
                if assignment is not None:
                    current = self.assignment_priority.get(assignment.id, assignment.priority)
                    self.assignment_priority[assignment.id] = max(current, priority)
                did.append(f"priority {before} → {priority}")
            elif "urge" in action:
                self.urges["item", item.id] += 1
                if assignment is not None:
                    self.urges["assignment", assignment.id] += 1
                message = action["urge"].get("message") if isinstance(action["urge"], dict) else None
                did.append(f"urged{': ' + message if message else ''}")
            elif "summon" in action:
                did.append(self._summon(item, assignment, due, action["summon"]))
        return did

    def _summon(self, item: Item, assignment: Assignment | None, due: DueStep, table: str) -> str:
        """Summon the next level through routing, on the database as the steps so far left it."""
        self.flush()
        doc = item_doc(Item.get_by_id(item.id), actor=None, now=self.now)
        doc["escalation"] = {
            "step": due.step["key"], "on": due.step["on"],
            "unit": assignment.unit.key if assignment else None,
            "hours_overdue": round((self.now - due.deadline).total_seconds() / 3600, 4),
        }
        target = Item.get_by_id(item.id)
        created = summon(target, table, doc, now=self.now, actor=None)
        self.priority[item.id] = target.priority
        item.priority = target.priority
        return f"summon {table}: {', '.join(a.unit.name for a in created) or '-'}"

    def _recipients(self, item: Item, assignment: Assignment | None, roles: list[str]) -> list[User]:
        """Users to notify: role holders over the item's node, its raiser, the summoned units' users."""
        users = self.users.holders([r for r in roles if r not in ("raiser", "assignee")], item.node_path)
        if "raiser" in roles and item.raised_by_id:
            users.append(self.users.user(item.raised_by_id))
        if "assignee" in roles:
            summoned = [assignment] if assignment is not None else list(
                Assignment.select().where((Assignment.item == item.id) & Assignment.open))
            for a in summoned:
                users += self.users.holders([a.role], a.unit_path)
        return users

    def _notify(self, users: list[User], item: Item, message: str) -> int:
        """Notify each of ``users`` once (as :func:`engine.notify.notify_users`, written at flush)."""
        unique = list({u.id: u for u in users}.values())
        forward = bool(unique) and bool(self._subscribers("notification"))
        summary = self._summary(item) if forward else None
        for user in unique:
            if forward:
                self.forwards.append((len(self.notifications), user, summary))
            self.notifications.append({"user": user.id, "item": item.id, "message": message[:500],
                                       "created_at": self.now, "read": False})
        return len(unique)

    def _subscribers(self, event: str) -> list[WebhookEndpoint]:
        if event not in self.endpoints:
            self.endpoints[event] = subscribers(event)
        return self.endpoints[event]

    def _summary(self, item: Item) -> dict[str, Any] | None:
        """The item as a receiver sees it now: loaded once, with the priority the steps left."""
        if item.id not in self.summaries:
            self.summaries[item.id] = item_summary(item.id)
        summary = self.summaries[item.id]
        return None if summary is None else {**summary, "priority": self.priority.get(item.id, item.priority)}

    # -- the writes -----------------------------------------------------------------------

    def flush(self) -> None:
        """Write what the steps so far did, in the order they did it."""
        self._flush_counters()
        self._flush_notifications()
        if self.events:
            if event_of_action("escalation") is None:
                Event.insert_many(self.events).execute()
            else:  # forwarded to webhooks: one at a time, through the audit trail
                for row in self.events:
                    audit.record(row.pop("action"), item=Item.get_by_id(row.pop("item")), **row)
            self.events = []

    def _flush_counters(self) -> None:
        for model, values in ((Item, self.priority), (Assignment, self.assignment_priority)):
            by_value: dict[int, list[int]] = defaultdict(list)
            for row_id, value in values.items():
                by_value[value].append(row_id)
            for value, ids in by_value.items():
                model.update(priority=value).where(model.id.in_(ids)).execute()
            values.clear()
        by_count: dict[tuple[str, int], list[int]] = defaultdict(list)
        for (kind, row_id), count in self.urges.items():
            by_count[kind, count].append(row_id)
        for (kind, count), ids in by_count.items():
            model = Item if kind == "item" else Assignment
            model.update(urge_count=model.urge_count + count).where(model.id.in_(ids)).execute()
        self.urges.clear()

    def _flush_notifications(self) -> None:
        if not self.notifications:
            return
        if not self.forwards:
            Notification.insert_many(self.notifications).execute()
            self.notifications = []
            return
        # One statement's ids rise in the order of its rows, whatever order RETURNING uses.
        ids = sorted(row_id for (row_id,) in Notification.insert_many(self.notifications)
                     .returning(Notification.id).tuples().execute())
        endpoints = self._subscribers("notification")
        messages = []
        for number, user, summary in self.forwards:
            row = self.notifications[number]
            messages.append({
                "event": "notification", "item": row["item"], "created_at": self.now,
                "payload": {
                    "notification": {"id": ids[number], "message": row["message"],
                                     "created_at": clock.iso(self.now)},
                    "recipient": {"username": user.username, "name": user.name},
                    "item": summary,
                },
            })
        message_ids = sorted(m for (m,) in OutboxMessage.insert_many(messages)
                             .returning(OutboxMessage.id).tuples().execute())
        Delivery.insert_many([
            {"message": message_id, "endpoint": e.id, "status": "pending", "next_attempt_at": self.now,
             "stream": f"item:{m['item']}", "attempts": 0, "last_error": ""}
            for message_id, m in zip(message_ids, messages, strict=True) for e in endpoints
        ]).execute()
        self.notifications, self.forwards = [], []

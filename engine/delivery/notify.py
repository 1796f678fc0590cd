"""In-app notifications for the users who hold a role at an item's node or above."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from peewee import SQL

from engine.core import memo
from engine.org.org import ancestor_ids
from engine.store.db import count_up_to, database
from engine.store.models import HANDLER_ROLE, Grant, Item, Notification, OrgNode, User
from engine.store.prepared import prepared
from engine.trail.outbox import forward_notification, subscribers


def users_with_roles(roles: Iterable[str], node_path: str) -> list[User]:
    """Users holding any of ``roles`` at the node on ``node_path`` or an ancestor."""
    roles = list(roles)
    if not roles:
        return []
    nodes = ancestor_ids(node_path)

    def build(**slots: Any) -> Any:  # one statement per number of roles and of ancestors
        return (
            User.select()
            .join(Grant)
            .join(OrgNode)
            .where(
                Grant.role.in_([slots[f"role{i}"] for i in range(len(roles))])
                & OrgNode.id.in_([slots[f"node{i}"] for i in range(len(nodes))])
                & User.active
            )
            .distinct()
        )

    return list(
        prepared(
            ("users_with_roles", len(roles), len(nodes)),
            build,
            **{f"role{i}": role for i, role in enumerate(roles)},
            **{f"node{i}": node for i, node in enumerate(nodes)},
        )
    )


def notify_users(
    users: Iterable[User], item: Item | None, message: str, *, now: dt.datetime
) -> int:
    """Notify each of ``users`` once; call inside the change's transaction.

    When a webhook subscribes to notifications, each one also goes to the outbox.
    """
    unique = list({u.id: u for u in users}.values())
    endpoints = subscribers("notification") if unique else []
    if endpoints:
        for user in unique:
            row = Notification.create(user=user, item=item, message=message[:500], created_at=now)
            forward_notification(row, user, item, now=now, endpoints=endpoints)
    elif unique:
        Notification.insert_many(
            [
                {
                    "user": u.id,
                    "item": item.id if item else None,
                    "message": message[:500],
                    "created_at": now,
                    "read": False,
                }
                for u in unique
            ]
        ).execute()
    return len(unique)


def notify_roles(item: Item, roles: Iterable[str], message: str, *, now: dt.datetime) -> int:
    """Notify every holder of ``roles`` over ``item``'s node; ``raiser`` means its raiser."""
    roles = list(roles)
    handled = item.handler_id is not None and HANDLER_ROLE in roles
    wanted = [r for r in roles if r != "raiser" and not (handled and r == HANDLER_ROLE)]
    users = users_with_roles(wanted, item.node_path)
    if handled:
        users.append(
            item.handler
        )  # a reassigned item: its handler, not the compound's commissioner
    if "raiser" in roles and item.raised_by_id:
        users.append(item.raised_by)
    return notify_users(users, item, message, now=now)


UNREAD_CAP = 100  # the header shows "99+" from here on


def unread_query(user: Any, cap: Any = UNREAD_CAP) -> Any:
    """How many notifications of ``user`` (an id, or a column such as ``User.id`` in
    a query about users) are unread, counted up to ``cap``: a unit summoned to
    thousands of items must not make every page count them all."""
    unread = Notification.select(SQL("1")).where(
        (Notification.user == user) & (Notification.read == False)
    )
    return count_up_to(unread, cap, "_unread").bind(database)


def unread_count(user: User, cap: int = UNREAD_CAP) -> int:
    """Unread notifications of ``user``, up to ``cap`` (``unread_query``); the header
    shows it on every page, so the session's lookup reads it along (``remember_unread``)."""

    def count() -> int:
        build = lambda user, cap: unread_query(user, cap).tuples()
        rows = list(prepared("unread_count", build, user=user.id, cap=cap))
        return int(rows[0][0]) if rows else 0

    return memo.memoized(("unread", user.id, cap), count)


def remember_unread(user_id: int, count: int) -> None:
    """``unread_query(user_id)``'s count as read along with the session, for this request."""
    memo.remember(("unread", user_id, UNREAD_CAP), count)


def recent_notifications(user: User, limit: int = 100) -> list[Notification]:
    return list(
        Notification.select()  # the list shows the message; the item opens by the link
        .where(Notification.user == user)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )


def mark_all_read(user: User) -> int:
    done = int(
        Notification.update(read=True)
        .where((Notification.user == user) & ~Notification.read)
        .execute()
    )
    memo.clear()  # the header's unread count
    return done


def mark_read(user: User, notification_id: int) -> Notification | None:
    """Mark one of ``user``'s own notifications read; None if it is not theirs."""
    Notification.update(read=True).where(
        (Notification.id == notification_id) & (Notification.user == user)
    ).execute()
    memo.clear()  # the header's unread count
    return (
        Notification.select()  # the list shows the message; the item opens by the link
        .where((Notification.id == notification_id) & (Notification.user == user))
        .first()
    )


def told_on_raise(item: Item) -> str:
    """Who heard of ``item`` when it was raised, for the raiser's confirmation: ``handler``
    (the compound's handler role, e.g. its commissioner, was notified), ``someone`` (others
    were notified or units summoned) or ``nobody`` (it waits in the queues)."""
    from engine.store.models import Assignment

    told = (
        User.select(User.id)
        .join(Notification, on=(Notification.user == User.id))
        .where((Notification.item == item) & (User.id != item.raised_by_id))
    )
    if (
        Grant.select()
        .join(OrgNode)
        .where(
            Grant.user.in_(told)
            & (Grant.role == HANDLER_ROLE)
            & OrgNode.id.in_(ancestor_ids(item.node_path))
        )
        .exists()
    ):
        return "handler"
    if told.exists() or Assignment.select().where(Assignment.item == item).exists():
        return "someone"
    return "nobody"

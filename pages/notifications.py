"""In-app notifications: the list, the header's unread count (polled), marking read."""

from __future__ import annotations

from typing import Any

from flask import abort, g, redirect, render_template, url_for

from engine.delivery.notify import mark_all_read, mark_read, recent_notifications, unread_count
from engine.org.actors import Actor
from engine.org.scope import visible_items
from engine.store.models import Item
from pages.auth import STAFF_ROLES, bp, login_required
from pages.extensions import htmx


def item_url(actor: Actor, item_id: int) -> str:
    """The item's page for the audience the user sees it as: staff work page, else resident."""
    staff = Actor(actor.user, tuple(grant for grant in actor.grants if grant.role in STAFF_ROLES))
    if staff.grants and visible_items(staff).where(Item.id == item_id).exists():
        return url_for("work.item", item_id=item_id)
    if "resident" in actor.roles:
        return url_for("resident.item", item_id=item_id)
    return url_for("work.item", item_id=item_id)


@bp.route("/notifications")
@login_required
def notifications() -> Any:
    return render_template("auth/notifications.html", rows=recent_notifications(g.actor.user))


@bp.route("/notifications/unread")
@login_required
def bell() -> Any:
    """The header's bell alone; the page polls it every minute."""
    return render_template("auth/_bell.html", unread=unread_count(g.actor.user))


@bp.route("/notifications/<int:notification_id>")
@login_required
def open_notification(notification_id: int) -> Any:
    """Follow a notification: it is read, and its item opens for the right audience."""
    row = mark_read(g.actor.user, notification_id)
    if row is None:
        abort(404)
    if row.item_id is None:
        return redirect(url_for("auth.notifications"))
    return redirect(item_url(g.actor, row.item_id))


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def notification_read(notification_id: int) -> Any:
    row = mark_read(g.actor.user, notification_id)
    if row is None:
        abort(404)
    if htmx:
        return render_template(
            "auth/_notification.html", n=row, oob_bell=True, unread=unread_count(g.actor.user)
        )
    return redirect(url_for("auth.notifications"), 303)


@bp.route("/notifications/read", methods=["POST"])
@login_required
def notifications_read() -> Any:
    mark_all_read(g.actor.user)
    return redirect(url_for("auth.notifications"), 303)

"""Supervisors' actions: urge (督办) an item or a summons, re-route, reassign items."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.core import clock
from engine.core.errors import Invalid, ServiceError
from engine.store.models import Assignment
from engine.supervision import actions as supervision
from pages.auth import requires, safe_next
from pages.extensions import htmx
from pages.guards import ids_in
from pages.review import bp
from pages.work import refused_on_item


def _back(default: str) -> Any:
    return redirect(safe_next(request.form.get("next")) or default, 303)


@bp.route("/items/<int:item_id>/urge", methods=["POST"])
@requires("supervise")
def urge_item(item_id: int) -> Any:
    return _urge(
        lambda text: supervision.urge_item(g.actor, item_id, text, now=clock.now()).urge_count,
        item_id,
        url_for("review.urge_item", item_id=item_id),
    )


@bp.route("/summons/<int:assignment_id>/urge", methods=["POST"])
@requires("supervise")
def urge_summons(assignment_id: int) -> Any:
    assignment = Assignment.get_or_none(Assignment.id == assignment_id)
    item_id = assignment.item_id if assignment else 0
    return _urge(
        lambda text: (
            supervision.urge_summons(g.actor, assignment_id, text, now=clock.now()).urge_count
        ),
        item_id,
        url_for("review.urge_summons", assignment_id=assignment_id),
    )


def _urge(action: Any, item_id: int, post_to: str) -> Any:
    """Urge; an HTMX form replaces itself with the result, a plain form goes back."""
    error, count, status = None, None, 200
    try:
        count = action(request.form.get("message", ""))
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        error, status = exc.message, exc.status
    typed = request.form.get("message", "") if error else ""
    if htmx:
        return render_template(
            "review/_urge_form.html",
            post_to=post_to,
            error=error,
            count=count,
            next=request.form.get("next", ""),
            message=typed,
        ), status
    if error:
        flash(error, "error")
        if typed:  # the page it goes back to has an empty box: keep the words in sight
            flash(_("Your message, not sent: %(text)s", text=typed), "error")
    else:
        flash(_("Urged."))
    return _back(url_for("work.item", item_id=item_id))


@bp.route("/items/<int:item_id>/reroute", methods=["POST"])
@requires("supervise")
def reroute(item_id: int) -> Any:
    units, reason, withdraw = (
        request.form.getlist("units"),
        request.form.get("reason", ""),
        request.form.get("withdraw"),
    )
    try:
        created = supervision.reroute(
            g.actor, item_id, units, reason, now=clock.now(), withdraw_others=withdraw == "1"
        )
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        return refused_on_item(
            item_id,
            exc,
            {"reroute": True, "units": units, "reason": reason, "withdraw": withdraw == "1"},
        )
    flash(_("Re-routed: %(count)s units summoned.", count=len(created)))
    return redirect(url_for("work.item", item_id=item_id), 303)


# Commissioners the reassign page offers in a list; with more (a district of 1,000
# compounds: 1,000 commissioners, two lists of 1,000 options, 9 ms) each is found by a
# search of names and places, showing at most ``FOUND`` of those that match.
PICK_FROM_LIST = 200
FOUND = 20
SEARCH_LENGTH = 50  # characters of a search kept


@bp.route("/reassign", methods=["GET", "POST"])
@requires("supervise")
def reassign() -> Any:
    """Hand a commissioner's open items to another commissioner."""
    source = request.values.get("from", "")
    status = 200
    if request.method == "POST":
        try:
            ids = supervision.reassign(
                g.actor,
                source,
                request.form.get("to", ""),
                request.form.get("reason", ""),
                now=clock.now(),
                item_ids=ids_in(request.form.getlist("items")) or None,
            )
            flash(_("%(count)s items reassigned.", count=len(ids)))
            return redirect(url_for("review.reassign", **{"from": source}), 303)
        except Invalid as exc:
            flash(
                exc.message, "error"
            )  # the form comes back with its answers (the template reads them)
            status = exc.status
    people = supervision.commissioners_under(g.actor, most=PICK_FROM_LIST + 1)
    many = len(people) > PICK_FROM_LIST
    query = request.args.get("q", "").strip()[:SEARCH_LENGTH]
    to_query = request.args.get("to_q", "").strip()[:SEARCH_LENGTH]
    # only a commissioner under the actor: another's name is not shown either (the list,
    # when it is whole, has them; else the one is looked up)
    if not source:
        chosen = []
    elif many:
        chosen = supervision.commissioners_under(g.actor, usernames=[source])
    else:
        chosen = [p for p in people if p.username == source]
    user = chosen[0] if chosen else None
    rows = list(supervision.items_of_commissioner(g.actor, user).limit(500)) if user else []
    context: dict[str, Any] = {
        "people": people,
        "many": many,
        "q": query,
        "to_q": to_query,
        "most": FOUND,
    }
    if many:
        context["people"] = []
        context["found"] = _search(query)
        # one more than shown besides the source, so "more match" holds without it
        found = _search(to_query, more=2)
        context["targets"] = [u for u in found if user is None or u.id != user.id][: FOUND + 1]
        context["chosen"] = user
    return render_template(
        "review/reassign.html", source=user, rows=rows, now=clock.now(), **context
    ), status


def _search(text: str, more: int = 1) -> list[supervision.Commissioner]:
    """The commissioners whose name or place contains ``text``, at most ``FOUND`` and
    ``more`` (one more than shown tells the page to ask for more of the name); none for no
    text."""
    if not text:
        return []
    return supervision.commissioners_under(g.actor, matching=text, most=FOUND + more)

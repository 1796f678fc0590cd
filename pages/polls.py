"""/polls — votes (表决) of a compound for who runs them: open one, follow participation by
building, enter paper and proxy ballots with their photo, remind, close, read the result."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.core import clock
from engine.core.errors import Conflict, Forbidden, Invalid, NotFound
from engine.decisions import ballots, polls
from engine.definitions.definitions import applies_at, current_versions
from engine.org import permissions
from engine.records import attachments
from engine.store.models import OrgNode
from engine.store.polls import Poll
from pages.auth import requires
from pages.extensions import attachment_store
from pages.guards import int_arg

bp = Blueprint("polls", __name__, url_prefix="/polls")


def _compound(key: str) -> OrgNode:
    node = OrgNode.get_or_none(OrgNode.key == key)
    if node is None or not permissions.can(g.actor, "polls.view", node):
        abort(404)
    return node


def _poll(poll_id: int) -> Poll:
    """The poll with its version and node (one query), when the actor may view it."""
    try:
        poll = polls.get_poll(poll_id)
    except NotFound:
        abort(404)
    if not permissions.can(g.actor, "polls.view", poll.node):
        abort(404)
    return poll


@bp.route("/")
@requires("polls.view")
def home() -> Any:
    """The votes of every compound the actor follows, newest first."""
    paths = [x.node_path for x in g.actor.grants if x.role in permissions.roles_of("polls.view")]
    query = Poll.select(Poll, OrgNode).join(OrgNode)
    condition = None
    for path in paths:
        part = Poll.node_path.startswith(path)
        condition = part if condition is None else condition | part
    rows = [
        p
        for p in query.where(condition).order_by(Poll.opens_at.desc()).limit(200)
        if permissions.can(g.actor, "polls.view", p.node)
    ]
    compounds = [
        x
        for x in g.actor.grants
        if x.role in permissions.roles_of("polls.run") and x.node_kind == "compound"
    ]
    return render_template("polls/home.html", polls=rows, compounds=compounds, now=clock.now())


@bp.route("/c/<key>", methods=["GET", "POST"])
@requires("polls.view")
def compound(key: str) -> Any:
    node = _compound(key)
    definitions = [v for v in current_versions("poll") if applies_at(v.body, node.path)]
    problems: list[Any] = []
    if request.method == "POST":
        if not polls.may_run(g.actor, node):
            abort(403)
        form = request.form
        try:
            poll = polls.open_poll(
                g.actor,
                form.get("definition", ""),
                node,
                form.get("title", ""),
                category=form.get("category", ""),
                description=form.get("description", ""),
                now=clock.now(),
            )
        except (Invalid, Forbidden) as exc:
            problems = exc.fields or [exc.message]
        else:
            flash(_("The vote is open; the owners have been told."))
            return redirect(url_for("polls.poll", poll_id=poll.id), 303)
    return render_template(
        "polls/compound.html",
        node=node,
        polls=polls.polls_at(node),
        definitions=definitions,
        may_run=polls.may_run(g.actor, node),
        problems=problems,
        values=request.form,
        now=clock.now(),
    ), (422 if problems else 200)


def poll_page(poll: Poll, *, problems: list[Any] | None = None, status: int = 200) -> Any:
    now = clock.now()
    may_run = polls.may_run(g.actor, poll)
    open_now = polls.is_open(poll, now)
    return render_template(
        "polls/poll.html",
        poll=poll,
        category=polls.category_of(poll),
        result=polls.result_of(poll),
        buildings=polls.participation(poll),
        choices=ballots.who_voted_what(poll) if polls.shows_choices(g.actor, poll) else None,
        units=ballots.units_for_entry(poll) if may_run and open_now else [],
        may_run=may_run,
        open_now=open_now,
        labels={o["key"]: o["label"] for o in poll.options},
        origin=polls.resolution_of(poll),
        problems=problems or [],
        values=request.form,
    ), status


@bp.route("/<int:poll_id>")
@requires("polls.view")
def poll(poll_id: int) -> Any:
    return poll_page(_poll(poll_id))


@bp.route("/<int:poll_id>/paper", methods=["POST"])
@requires("polls.run")
def paper(poll_id: int) -> Any:
    """A paper ballot or a proxy's, with the photo of the signed ballot."""
    found = _poll(poll_id)
    upload = request.files.get("photo")
    try:
        evidence = ""
        if upload and upload.filename:
            evidence = attachments.store(
                g.actor,
                upload.filename,
                upload.mimetype or "",
                upload.stream,
                store=attachment_store(),
                now=clock.now(),
                field="evidence",
                accept="image/*",
            ).public_id
        ballots.enter_paper(
            g.actor,
            found.id,
            int_arg("unit", 0, minimum=0, source=request.form),
            request.form.getlist("choices"),
            evidence=evidence,
            proxy_name=request.form.get("proxy_name", ""),
            now=clock.now(),
        )
    except (Invalid, Conflict, Forbidden) as exc:
        return poll_page(found, problems=exc.fields or [exc.message], status=exc.status)
    flash(_("The paper ballot was entered."))
    return redirect(url_for("polls.poll", poll_id=found.id), 303)


@bp.route("/<int:poll_id>/remind", methods=["POST"])
@requires("polls.run")
def remind(poll_id: int) -> Any:
    found = _poll(poll_id)
    try:
        sent, without = polls.remind(g.actor, found.id, now=clock.now())
    except (Conflict, Forbidden) as exc:
        return poll_page(found, problems=[exc.message], status=exc.status)
    flash(
        _("%(n)s owner(s) reminded; %(m)s unit(s) without an account need a visit or a call.")
        % {"n": sent, "m": without}
    )
    return redirect(url_for("polls.poll", poll_id=found.id), 303)


@bp.route("/<int:poll_id>/close", methods=["POST"])
@requires("polls.run")
def close(poll_id: int) -> Any:
    found = _poll(poll_id)
    try:
        polls.close_poll(g.actor, found.id, now=clock.now())
    except (Conflict, Forbidden) as exc:
        return poll_page(found, problems=[exc.message], status=exc.status)
    flash(_("The vote is closed and its result stored."))
    return redirect(url_for("polls.poll", poll_id=found.id), 303)

"""Opinion collections (征求意见): the openers' pages under /work, the residents' under /r."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

import forms
from engine.core import clock
from engine.core.errors import Conflict, Invalid
from engine.decisions import opinions
from engine.definitions.definitions import runtime
from pages.auth import requires
from pages.extensions import htmx
from pages.itemviews import bind, submit
from pages.meetings import nodes_to_act_at

bp = Blueprint("opinions", __name__, url_prefix="/work/opinions")
resident_bp = Blueprint("resident_opinions", __name__, url_prefix="/r/opinions")


@bp.route("/new/<type_key>", methods=["GET", "POST"])
@requires("decisions.edit")
def open_collection(type_key: str) -> Any:
    node_key = request.values.get("node", "")
    problems: list[Any] = []
    if request.method == "POST":
        fields = {k: request.form.get(k) for k in ("title", "description", "closes_at")}
        try:
            found = opinions.open_collection(g.actor, type_key, node_key, fields, now=clock.now())
        except Invalid as exc:
            problems = exc.fields
        else:
            flash(
                _(
                    "The opinion collection is open; the compound's residents see it on their phones."
                )
            )
            return redirect(url_for("opinions.collection", collection_id=found.id), 303)
    node = next((n for n in nodes_to_act_at() if n.key == node_key), None)
    rt = (
        next((r for r in opinions.openers(g.actor, node) if r.key == type_key), None)
        if node
        else None
    )
    if rt is None:
        return render_template("error.html", status=404, message=_("Not found."), fields=[]), 404
    return render_template(
        "decisions/open_collection.html",
        rt=rt,
        node=node,
        problems={p.path: p.message for p in problems},
        values=request.form,
    ), 422 if problems else 200


@bp.route("/<int:collection_id>")
@requires("decisions")
def collection(collection_id: int) -> Any:
    found = opinions.get_collection(g.actor, collection_id)
    rt = runtime(found.version_id)
    manager = opinions.may_manage(g.actor, found)
    return render_template(
        "decisions/collection.html",
        collection=found,
        rt=rt,
        now=clock.now(),
        specs=forms.field_specs(rt.body["schema"]),
        counts=opinions.counts(found, rt),
        total=opinions.answer_count(found),
        manager=manager,
        answers=opinions.opinions_of(g.actor, found) if manager else [],
        outcomes=opinions.offered_outcomes(g.actor, found),
    )


@bp.route("/answers/<int:opinion_id>/item/<key>", methods=["POST"])
@requires("decisions.edit")
def to_item(opinion_id: int, key: str) -> Any:
    try:
        done = opinions.to_item(g.actor, opinion_id, key, now=clock.now())
    except Invalid as exc:
        flash(exc.message)
        from engine.store.decision_tables import Opinion

        found = Opinion.get_or_none(Opinion.id == opinion_id)
        return redirect(
            url_for("opinions.collection", collection_id=found.collection_id if found else 0), 303
        )
    flash(_("The opinion became an item."))
    return redirect(url_for("work.item", item_id=done.item_id), 303)


@resident_bp.route("/<int:collection_id>", methods=["GET", "POST"])
@requires("resident")
def answer(collection_id: int) -> Any:
    """The collection's form on a phone; POST answers it (or changes the answer)."""
    found = opinions.for_answer(g.actor, collection_id)
    rt = runtime(found.version_id)
    now = clock.now()
    mine = opinions.own_answer(g.actor, found)
    is_open = opinions.is_open(found, now)
    if request.method == "POST" and not is_open:
        abort(409)
    bound = (
        bind(rt.body["schema"], {"now": clock.iso(now)}, mine.data if mine else None)
        if is_open
        else None
    )

    def act(data: dict[str, Any]) -> Any:
        opinions.answer(g.actor, found.id, data, now=clock.now())
        flash(_("Thank you: your opinion was recorded."))
        return redirect(url_for("resident.home"), 303)

    loose: list[str] = []
    if bound is not None:
        try:
            result, loose = submit(bound, act)
        except Conflict as exc:
            result, loose = None, [exc.message]
        if result is not None:
            return result
    status = 422 if request.method == "POST" and not request.form.get("_refresh") else 200
    if htmx and request.method == "POST":
        return render_template("decisions/_opinion_fields.html", bound=bound, loose=loose), status
    return render_template(
        "decisions/answer.html",
        collection=found,
        rt=rt,
        bound=bound,
        mine=mine,
        is_open=is_open,
        loose=loose,
        specs=forms.field_specs(rt.body["schema"]),
    ), status

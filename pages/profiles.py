"""/lists/c/<compound>/profile — the compound file (一小区一档案) through its generated
form, its history of changes and its 一名党员一幢楼 coverage."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

import forms
from engine.core import clock
from engine.core.errors import Conflict
from engine.records import profiles
from engine.store.models import OrgNode
from pages.auth import requires
from pages.checklists import bp
from pages.conflicts import staleness
from pages.extensions import htmx
from pages.itemviews import bind, is_submit, submit


@bp.route("/c/<key>/profile", methods=["GET", "POST"])
@requires("profile.view")
def profile(key: str) -> Any:
    node = OrgNode.get_or_none(OrgNode.key == key)
    if node is None or not profiles.may_view(g.actor, node):
        abort(404)
    editing = profiles.may_edit(g.actor, node)
    if request.method == "POST" and not editing:
        abort(403)
    version = profiles.profile_version(node)
    schema = version.body["schema"]
    bound = bind(schema, profiles.context_of(node), data=node.profile or {})

    def saved(data: dict[str, Any]) -> Any:
        changed = profiles.save(
            g.actor, node, data, expected=request.form.get("lock", type=int), now=clock.now()
        )
        flash(_("Saved (%(n)s fields changed).", n=len(changed)))
        target = url_for("lists.profile", key=key)
        return ("", 204, {"HX-Redirect": target}) if htmx else redirect(target, 303)

    conflict = None
    try:
        result, loose = submit(bound, saved) if editing else (None, [])
    except Conflict as exc:
        result, loose, conflict = None, [], exc
        node = OrgNode.get_by_id(node.id)  # the file as the other save left it
    if result is not None:
        return result
    stale = staleness(node.profile_lock, "lock", target=profiles.target_of(node), conflict=conflict)
    specs = {spec.name: spec for spec in forms.field_specs(schema)}
    if htmx and request.method == "POST":
        return render_template(
            "lists/_row_fields.html", bound=bound, loose=loose
        ), stale.status or 200
    return render_template(
        "lists/profile.html",
        node=node,
        bound=bound,
        loose=loose,
        editing=editing,
        version=version,
        history=profiles.history(node),
        specs=specs,
        coverage=profiles.party_member_coverage(node),
        stale=stale,
        derived=profiles.derived_facts(node),
    ), stale.status or (422 if is_submit(bound) else 200)

"""/lists — task, coordination and difficulty lists per compound (commissioner and the
three parties), their roll-up by community and street (supervisors)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from peewee import JOIN

import forms
from engine.core import clock
from engine.core.errors import Conflict, NotFound
from engine.definitions.definitions import current_version
from engine.org import permissions
from engine.records import checklists
from engine.store.models import Event, OrgNode, User
from engine.store.tables import ChecklistRow
from pages.auth import requires
from pages.conflicts import staleness
from pages.extensions import htmx
from pages.guards import int_arg
from pages.itemviews import bind, is_submit, submit

bp = Blueprint("lists", __name__, url_prefix="/lists")
ROLLUP_KINDS = ("district", "street", "community")
SUPERVISORS = permissions.roles_of("lists.rollup")


def _node(key: str) -> OrgNode:
    node = OrgNode.get_or_none(OrgNode.key == key)
    if node is None or not checklists.may_view(g.actor, node):
        abort(404)
    return node


def _may_rollup(node: OrgNode) -> bool:
    return permissions.can(g.actor, "lists.rollup", node)


@bp.route("/")
@requires("lists.view")
def home() -> Any:
    for grant in g.actor.grants:
        if grant.role in SUPERVISORS and grant.node_kind in ROLLUP_KINDS:
            return redirect(url_for("lists.rollup", key=grant.node_key), 303)
    for grant in g.actor.grants:
        if grant.role in checklists.EDIT_ROLES and grant.node_kind == "compound":
            return redirect(url_for("lists.compound", key=grant.node_key), 303)
    abort(403)


@bp.route("/c/<key>")
@requires("lists.view")
def compound(key: str) -> Any:
    node = _node(key)
    if node.kind != "compound":
        abort(404)
    now = clock.now()
    lists = []
    for version in checklists.row_lists():
        rows = checklists.rows_of(node, version.body["key"])
        lists.append((version, rows, checklists.progress(rows, now)))
    return render_template(
        "lists/compound.html",
        node=node,
        lists=lists,
        now=now,
        editing=checklists.may_edit(g.actor, node),
        overdue=lambda row: checklists.is_overdue(row, now),
    )


def _form_page(node: OrgNode, version: Any, row: Any, save: Any) -> Any:
    context = {"node": {"key": node.key, "kind": node.kind, "name": node.name}}
    bound = bind(version.body["row_schema"], context, data=row.data if row else None)
    conflict = None
    try:
        result, loose = submit(bound, save)
    except Conflict as exc:  # a stale row, or (a new row too) a database too busy to write
        result, loose, conflict = None, [] if row else [exc.message], exc
        row = ChecklistRow.get_by_id(row.id) if row else None  # the row as the other save left it
    if result is not None:
        return result
    stale = (
        staleness(row.lock, "lock", target=f"checklist-row:{row.id}", conflict=conflict)
        if row
        else None
    )
    status = 409 if conflict else 422 if is_submit(bound) else 200
    if htmx and request.method == "POST":
        return render_template(
            "lists/_row_fields.html", bound=bound, loose=loose
        ), 409 if conflict else 200
    history = []
    if row is not None:
        history = list(
            Event.select(Event, User)
            .join(User, JOIN.LEFT_OUTER, on=(Event.actor == User.id))
            .where(Event.target == f"checklist-row:{row.id}")
            .order_by(Event.at.desc(), Event.id.desc())
        )
    specs = {spec.name: spec for spec in forms.field_specs(version.body["row_schema"])}
    return render_template(
        "lists/row_form.html",
        bound=bound,
        loose=loose,
        node=node,
        version=version,
        row=row,
        history=history,
        stale=stale,
        specs=specs,
    ), status


def _saved(node: OrgNode) -> Any:
    flash(_("Saved."))
    target = url_for("lists.compound", key=node.key)
    return ("", 204, {"HX-Redirect": target}) if htmx else redirect(target, 303)


@bp.route("/c/<key>/<list_key>/new", methods=["GET", "POST"])
@requires("lists.edit")
def new_row(key: str, list_key: str) -> Any:
    node = _node(key)
    if not checklists.may_edit(g.actor, node):
        abort(403)
    try:
        version = checklists.row_list(list_key)
    except NotFound:
        abort(404)
    return _form_page(
        node,
        version,
        None,
        lambda data: (
            checklists.add_row(g.actor, list_key, node, data, now=clock.now()),
            _saved(node),
        )[1],
    )


@bp.route("/row/<int:row_id>", methods=["GET", "POST"])
@requires("lists.view")
def row(row_id: int) -> Any:
    try:
        found = checklists.get_row(g.actor, row_id)
    except NotFound:
        abort(404)
    node = found.node
    if request.method == "POST" and not checklists.may_edit(g.actor, node):
        abort(403)
    version = current_version(found.definition)

    def save(data: dict[str, Any]) -> Any:
        checklists.update_row(
            g.actor, row_id, data, expected=int_arg("lock", source=request.form), now=clock.now()
        )
        return _saved(node)

    return _form_page(node, version, found, save)


@bp.route("/rollup/<key>")
@requires("lists.rollup")
def rollup(key: str) -> Any:
    node = OrgNode.get_or_none(OrgNode.key == key)
    if node is None or not _may_rollup(node):
        abort(404)
    now = clock.now()
    progress = checklists.rollup(node, now=now)
    children = list(
        OrgNode.select()
        .where((OrgNode.parent == node) & OrgNode.kind.in_(("street", "community", "compound")))
        .order_by(OrgNode.id)
    )
    versions = checklists.row_lists()
    return render_template(
        "lists/rollup.html",
        node=node,
        versions=versions,
        children=children,
        progress=progress,
        total=checklists.total,
        parent=node.parent if node.parent and _may_rollup(node.parent) else None,
    )


from pages import (
    buildings,  # noqa: F401 - registers its routes on bp
    kpi_reports,  # noqa: F401 - registers its routes on bp
    profiles,  # noqa: F401 - registers its routes on bp
)

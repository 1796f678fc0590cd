"""What the item pages of every audience share: raising, the detail, transitions, summons."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

import forms
from engine import attachments, clock, dispatch, items, supervision
from engine.context import item_doc, new_item_doc
from engine.definitions import Runtime, current_version, runtime
from engine.errors import Conflict, FieldProblem, Invalid
from engine.models import Definition, Item, OrgNode
from pages.conflicts import staleness
from pages.extensions import htmx


def raisable_types(node: OrgNode) -> list[Runtime]:
    """Item types the current actor may raise at ``node``, newest versions."""
    found = []
    for definition in Definition.select().where(Definition.kind == "item_type").order_by(Definition.id):
        if not definition.current:
            continue
        rt = runtime(current_version(definition))
        if node.kind in rt.body.get("node_kinds", ["compound"]) and any(
            g.actor.reaches(role, node.path) for role in rt.body.get("raise_roles", [])
        ):
            found.append(rt)
    return found


def posted_formdata(rejected: list[FieldProblem] | None = None) -> MultiDict[str, str]:
    """The posted form, with every uploaded file stored and its id added under its input's name.

    The generated form then sees uploads as attachment ids, like any other answer, and
    renders them as kept attachments if the page is shown again.

    :param rejected: where a refused file (its type, its size) goes, named by its input,
        to be shown on its field with every other answer kept; None raises the refusal.
    :raises Invalid: a refused file, when ``rejected`` is None.
    """
    formdata: MultiDict[str, str] = MultiDict(request.form.items(multi=True))
    for name in request.files:
        for upload in request.files.getlist(name):
            if upload and upload.filename:
                try:
                    att = attachments.store(
                        g.actor, upload.filename, upload.mimetype or "", upload.stream,
                        root=current_app.config["UPLOAD_DIR"], now=clock.now(), field=name,
                    )
                except Invalid as exc:
                    if rejected is None:
                        raise
                    rejected += [FieldProblem(name, f"{upload.filename}: {p.message}") for p in exc.fields
                                 ] or [FieldProblem(name, f"{upload.filename}: {exc.message}")]
                    continue
                formdata.add(name, att.public_id)
    return formdata


def bind(schema: Mapping[str, Any], context: Mapping[str, Any], data: Mapping[str, Any] | None = None) -> Any:
    """The generated form of ``schema``, bound to the posted answers (on POST) or ``data``.

    A refused upload does not refuse the page: it is left out, its problem shown on its
    field, and every other answer kept; ``submit`` then does not act.
    """
    rejected: list[FieldProblem] = []
    formdata = posted_formdata(rejected) if request.method == "POST" else None
    bound = forms.bind(schema, formdata=formdata, data=data, base=FlaskForm, context=context)
    bound.rejected_uploads = rejected
    show_rejected_uploads(bound)
    return bound


def _field_named(form: Any, name: str) -> Any:
    """The WTForms field posted as ``name``, group rows included."""
    for field in form:
        if field.name == name:
            return field
        for entry in getattr(field, "entries", ()):
            found = _field_named(entry.form, name) if hasattr(entry, "form") else None
            if found is not None:
                return found
    return None


def show_rejected_uploads(bound: Any) -> list[str]:
    """Put the refused uploads' problems on their fields (again, after a validation reset
    them); return those whose input is no field of the form."""
    loose = []
    for problem in getattr(bound, "rejected_uploads", []):
        field = _field_named(bound.form, problem.path)
        if field is None:
            loose.append(problem.message)
        elif problem.message not in (field.errors or []):
            field.errors = [*list(field.errors or []), problem.message]
    return loose


def is_submit(bound: Any) -> bool:
    """A real submission, not a conditional-field refresh or an add/remove-row click."""
    return request.method == "POST" and not request.form.get("_refresh") and not bound.rows_changed


def attach_errors(bound: Any, exc: Invalid, prefix: str = "data/") -> list[str]:
    """Put a service's field problems on the bound form; return those that fit no field."""
    loose = []
    for problem in exc.fields:
        path = problem.path.removeprefix(prefix)
        field = bound.form._fields.get(path.split("/")[0]) if path else None
        if field is not None:
            field.errors = [*list(field.errors or []), problem.message]
        else:
            loose.append(f"{problem.path}: {problem.message}" if problem.path else problem.message)
    return loose


def raise_page(node: OrgNode, type_key: str, template: str, done: Any) -> Any:
    """GET shows the generated form; an HTMX refresh re-renders its fields; POST raises."""
    definition = Definition.get_or_none((Definition.key == type_key) & (Definition.kind == "item_type"))
    if definition is None or not definition.current:
        return render_template("error.html", status=404, message=_("Not found."), fields=[]), 404
    rt = runtime(current_version(definition))
    context = new_item_doc(node, {}, type_key=type_key, actor=g.actor, now=clock.now())
    context.pop("data")
    bound = bind(rt.body["schema"], context)
    conflict = None
    try:
        result, loose = submit(bound, lambda data: done(
            items.raise_item(g.actor, type_key, node.key, data, now=clock.now())))
    except Conflict as exc:  # the database too busy to write: the answers stay for another try
        result, loose, conflict = None, [exc.message], exc
    if result is not None:
        return result
    if htmx and request.method == "POST":
        return render_template("items/_raise_fields.html", bound=bound, rt=rt, loose=loose), 409 if conflict else 200
    status = 409 if conflict else 422 if is_submit(bound) else 200
    return render_template(template, bound=bound, rt=rt, node=node, loose=loose), status


def supervise_context(item: Item) -> dict[str, Any]:
    """What the supervision panel (督办, re-route) needs; empty unless supervising."""
    if not supervision.supervises(g.actor, item.node_path):
        return {"supervising": False}
    departments, roles = supervision.reroute_choices(item)
    return {"supervising": True, "departments": departments, "reroute_roles": roles}


def detail_context(item: Item) -> dict[str, Any]:
    now = clock.now()
    rt = runtime(item.version_id)
    assignments = items.assignments_of(item)
    return {
        **supervise_context(item),
        "handlers": supervision.handlers_of(item),
        "item": item, "rt": rt, "now": now,
        "specs": forms.field_specs(rt.body["schema"]),
        "assignments": assignments,
        "offers": items.offers(g.actor, item, now=now),
        "timeline": items.timeline(item),
        "acting": {a.id for a in assignments if g.actor.reaches(a.role, a.unit_path)},
    }


def submit(bound: Any, act: Callable[[dict[str, Any]], Any]) -> tuple[Any, list[str]]:
    """On a real submission that validates, ``act(answers)``; a service's refusal lands
    on the form's fields. Returns (act's response or None, problems that fit no field)."""
    if not is_submit(bound):
        return None, []
    invalid = bound.validate(_)
    loose = show_rejected_uploads(bound)
    if invalid or bound.rejected_uploads:
        return None, loose
    try:
        return act(bound.data()), []
    except Invalid as exc:
        return None, attach_errors(bound, exc)


def went_to(item: Item, item_endpoint: str) -> Any:
    """After a transition: back to the item page (a full redirect for HTMX too)."""
    flash(_("Done."))
    target = url_for(item_endpoint, item_id=item.id)
    if htmx:
        return "", 204, {"HX-Redirect": target}
    return redirect(target, 303)


def transition_page(item: Item, key: str, template: str, item_endpoint: str) -> Any:
    """A transition: its form (if any) on GET and on errors; POST takes it.

    A stale submit (the item changed since the form was shown) comes back as a 409
    with the typed answers kept and what changed meanwhile; if the action is no longer
    possible the answers stay readable, to be copied, without the button.
    """
    rt = runtime(item.version_id)
    spec = rt.transition(key)
    offer = next((o for o in items.offers(g.actor, item, now=clock.now()) if o.key == key), None)
    expected = request.form.get("version", type=int)
    moved_on = request.method == "POST" and expected is not None and expected != item.lock
    if spec is None or (offer is None and not moved_on):
        return render_template("error.html", status=404, message=_("Not found."), fields=[]), 404
    schema = spec.get("form") or {"type": "object", "properties": {}}
    context = item_doc(item, actor=g.actor, now=clock.now())
    context.pop("data")
    bound = bind(schema, context)
    conflict = None
    try:
        if offer is None:
            raise Conflict(_("The item has changed since you opened it; %(action)s is no longer possible.")
                           % {"action": spec["label"]})
        result, loose = submit(bound, lambda data: went_to(
            items.transition(g.actor, item.id, key, data, expected=expected, now=clock.now()), item_endpoint))
    except Conflict as exc:
        result, loose, conflict = None, [], exc
        item = Item.get_by_id(item.id)  # as the other change left it
    if result is not None:
        return result
    possible = offer is not None and (conflict is None or any(
        o.key == key for o in items.offers(g.actor, item, now=clock.now())))
    stale = staleness(item.lock, "version", item=item, conflict=conflict)
    args = {"bound": bound, "item": item, "spec": spec, "rt": rt, "loose": loose, "stale": stale,
            "possible": possible, "item_endpoint": item_endpoint}
    status = stale.status or (422 if is_submit(bound) else 200)
    if htmx:
        # sanfang.js has htmx swap 409 and 422 too: the form replaces itself, answers kept.
        return render_template("items/_transition_form.html", **args), status
    return render_template(template, **args), status


def summons_action(assignment_id: int, action: str) -> Any:
    """Report in, complete or decline a summons, as the unit's user."""
    now = clock.now()
    reply = request.form.get("reply", "")
    if action == "report_in":
        return dispatch.report_in(g.actor, assignment_id, now=now)
    if action == "complete":
        return dispatch.complete(g.actor, assignment_id, reply, now=now)
    return dispatch.decline(g.actor, assignment_id, reply, now=now)

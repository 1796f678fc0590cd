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
from engine.errors import Invalid
from engine.models import Definition, Item, OrgNode
from pages.extensions import htmx
from pages.guards import int_arg


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


def posted_formdata() -> MultiDict[str, str]:
    """The posted form, with every uploaded file stored and its id added under its input's name.

    The generated form then sees uploads as attachment ids, like any other answer, and
    renders them as kept attachments if the page is shown again.
    """
    formdata: MultiDict[str, str] = MultiDict(request.form.items(multi=True))
    for name in request.files:
        for upload in request.files.getlist(name):
            if upload and upload.filename:
                att = attachments.store(
                    g.actor, upload.filename, upload.mimetype or "", upload.stream,
                    root=current_app.config["UPLOAD_DIR"], now=clock.now(), field=name,
                )
                formdata.add(name, att.public_id)
    return formdata


def bind(schema: Mapping[str, Any], context: Mapping[str, Any], data: Mapping[str, Any] | None = None) -> Any:
    formdata = posted_formdata() if request.method == "POST" else None
    return forms.bind(schema, formdata=formdata, data=data, base=FlaskForm, context=context)


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
    result, loose = submit(bound, lambda data: done(
        items.raise_item(g.actor, type_key, node.key, data, now=clock.now())))
    if result is not None:
        return result
    if htmx and request.method == "POST":
        return render_template("items/_raise_fields.html", bound=bound, rt=rt, loose=loose)
    status = 422 if is_submit(bound) else 200
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
    if not is_submit(bound) or bound.validate(_):
        return None, []
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
    """A transition: its form (if any) on GET and on errors; POST takes it."""
    rt = runtime(item.version_id)
    spec = rt.transition(key)
    offer = next((o for o in items.offers(g.actor, item, now=clock.now()) if o.key == key), None)
    if spec is None or offer is None:
        return render_template("error.html", status=404, message=_("Not found."), fields=[]), 404
    schema = spec.get("form") or {"type": "object", "properties": {}}
    context = item_doc(item, actor=g.actor, now=clock.now())
    context.pop("data")
    bound = bind(schema, context)
    expected = int_arg("version", source=request.form)
    result, loose = submit(bound, lambda data: went_to(
        items.transition(g.actor, item.id, key, data, expected=expected, now=clock.now()), item_endpoint))
    if result is not None:
        return result
    args = {"bound": bound, "item": item, "spec": spec, "rt": rt, "loose": loose}
    status = 422 if is_submit(bound) else 200
    if htmx:
        # htmx swaps 2xx only; a refused submit still shows its errors in place.
        return render_template("items/_transition_form.html", **args), 200
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

"""/admin/designer — the no-code designer (三方办): definitions, drafts, forms, workflows, packs.

The views are split by concept: ``formbuilder`` (fields and the live preview),
``flow`` (workflow and routing), ``publishing`` (publish, history, diff, JSON view)
and ``packio`` (pack export and import). Only the ``admin`` role gets here.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.authoring import designer, keys
from engine.core import clock
from engine.core.errors import Invalid
from engine.definitions.definitions import preload_versions_of
from engine.store.models import Definition, OrgNode, Pack
from pages.auth import requires

bp = Blueprint("designer", __name__, url_prefix="/admin/designer")
NODE_KINDS = ("compound", "community", "street", "building")
KIND_LABELS = {
    "text": _l("Text"),
    "textarea": _l("Long text"),
    "email": _l("Email"),
    "uri": _l("Web address"),
    "phone": _l("Phone"),
    "date": _l("Date"),
    "datetime": _l("Date and time"),
    "time": _l("Time"),
    "select": _l("Choice (list)"),
    "radio": _l("Choice (buttons)"),
    "checkbox": _l("Yes/no"),
    "integer": _l("Whole number"),
    "number": _l("Number"),
    "checkboxes": _l("Several choices"),
    "multiselect": _l("Several choices (list)"),
    "photo": _l("Photos"),
    "file": _l("Files"),
    "group": _l("Repeated rows"),
}


FIELD_WORDS = {"/key": _l("Key"), "/name": _l("Name"), "/kind": _l("Kind")}


def pack_roles() -> dict[str, str]:
    """Role key → label, over every loaded pack."""
    roles: dict[str, str] = {}
    for pack in Pack.select():
        roles.update({k: v.get("label", k) for k, v in (pack.roles or {}).items()})
    return roles


def departments() -> list[tuple[str, str]]:
    return [
        (n.key, n.name)
        for n in OrgNode.select().where(OrgNode.kind == "department").order_by(OrgNode.id)
    ]


def definition_or_404(key: str) -> Definition:
    return designer.definition_of(key)


@bp.before_request
def _scoped() -> None:
    """A street's admin reaches only definitions scoped to their street, and no pack I/O."""
    actor = g.get("actor")
    if actor is None or "admin" not in actor.roles:
        return  # roles_required answers (login or 403)
    if request.endpoint in ("designer.export_pack", "designer.import_pack", "designer.calendar"):
        if not designer.is_district_admin(actor):
            abort(403)
        return
    key = (request.view_args or {}).get("key")
    definition = Definition.get_or_none(Definition.key == key) if key else None
    if definition is not None and not designer.may_edit_definition(actor, definition):
        abort(403)


@bp.errorhandler(designer.BrokenDraft)
def _broken_draft(exc: designer.BrokenDraft) -> Any:
    """Every page of a definition whose stored draft is too deep to edit says so and
    offers to discard it (it would fail on copying or comparing the draft)."""
    key = (request.view_args or {}).get("key", "")
    definition = designer.definition_of(key)
    replacement = json.dumps(
        {"key": definition.key, "kind": definition.kind, "name": definition.name},
        ensure_ascii=False,
        indent=2,
    )
    return render_template(
        "designer/broken.html",
        key=key,
        message=exc.message,
        replacement=replacement,
        published=bool(definition.current),
    ), 409


def scopes(definitions: list[Definition]) -> dict[str, str]:
    """Definition key → the name of the node it is scoped to (absent: the whole district)."""
    keys = {d.key: designer.stored_body(d).get("scope") for d in definitions}
    names = (
        dict(
            OrgNode.select(OrgNode.key, OrgNode.name)
            .where(OrgNode.key.in_([k for k in keys.values() if k]))
            .tuples()
        )
        if any(keys.values())
        else {}
    )
    return {k: names.get(v, v) for k, v in keys.items() if v}


def with_form(definitions: list[Definition]) -> set[str]:
    """The keys of the definitions the form builder edits (item types, profiles, row forms)."""
    from pages.designer.targets import has_form

    return {d.key for d in definitions if has_form({"kind": d.kind, **designer.stored_body(d)})}


def editable() -> list[Definition]:
    """The definitions the admin may edit (a street's admin: those scoped to their street)."""
    every = list(Definition.select().order_by(Definition.kind, Definition.id))
    preload_versions_of(every)  # their published bodies in one query, not one each
    return [d for d in every if designer.may_edit_definition(g.actor, d)]


@bp.route("/")
@requires("design")
def index() -> Any:
    definitions = editable()
    changed = {d.key for d in definitions if designer.has_changes(d)}
    return render_template(
        "designer/index.html",
        definitions=definitions,
        changed=changed,
        scopes=scopes(definitions),
        with_form=with_form(definitions),
        roles=pack_roles(),
        node_kinds=NODE_KINDS,
        problems=[],
        values={},
        chosen_roles=["commissioner"],
        packs=list(Pack.select().order_by(Pack.key)),
        item_types=item_types(),
    )


def item_types() -> list[tuple[str, str]]:
    """(key, name) of the item types, for a new statement's questions."""
    return list(
        Definition.select(Definition.key, Definition.name)
        .where(Definition.kind == "item_type")
        .order_by(Definition.id)
        .tuples()
    )


@bp.route("/new", methods=["POST"])
@requires("design")
def new() -> Any:
    form = request.form
    kind = form.get("kind", "item_type")
    name = form.get("name", "").strip()
    taken = {k for (k,) in Definition.select(Definition.key).tuples()}
    body = designer.skeleton(
        keys.chosen(form.get("key", ""), name, taken) if name else form.get("key", "").strip(),
        name,
        kind=kind,
        raise_roles=form.getlist("raise_roles"),
        node_kinds=form.getlist("node_kinds"),
        words={
            "summary": _("Summary"),
            "open": _("Being handled"),
            "closed": _("Closed"),
            "close": _("Close"),
            "general": _("Matter of the owners"),
            "yes": _("Agree"),
            "no": _("Disagree"),
            "abstain": _("Abstain"),
            "raised": _("A new item was raised"),
            "income": _("Income"),
            "expense": _("Expenses"),
            "request": _("Asking for help"),
            "offer": _("Offering help"),
            "entry_name": _("Name"),
            "question_type": form.get("question_type", ""),
        },
    )
    scope = designer.own_scope(g.actor)
    if scope is not None:
        body["scope"] = scope
    pack = Pack.select().order_by(Pack.id).first()
    try:
        designer.create(g.actor.user, pack, body, now=clock.now())
    except Invalid as exc:
        definitions = editable()
        return render_template(
            "designer/index.html",
            definitions=definitions,
            roles=pack_roles(),
            node_kinds=NODE_KINDS,
            scopes=scopes(definitions),
            with_form=with_form(definitions),
            changed={d.key for d in definitions if designer.has_changes(d)},
            problems=[
                {"path": "", "what": FIELD_WORDS.get(p.path, p.path), "message": p.message}
                for p in exc.fields
            ],
            values=form,
            chosen_roles=form.getlist("raise_roles"),
            packs=list(Pack.select().order_by(Pack.key)),
            item_types=item_types(),
        ), 422
    if kind == "poll":
        return redirect(url_for("designer.poll_editor", key=body["key"]), 303)
    return redirect(url_for("designer.form_builder", key=body["key"]), 303)  # profiles too


def tabs_context(definition: Definition) -> dict[str, Any]:
    from pages.designer.targets import has_form

    return {
        "definition": definition,
        "changed": designer.has_changes(definition),
        "has_form": has_form(designer.draft_of(definition)),
    }


from pages.designer import (  # noqa: F401
    calendar,
    directories,
    flow,
    formbuilder,
    packio,
    polls,
    publishing,
    schedule,
    tryit,
)


@bp.context_processor
def _words() -> dict[str, Any]:
    from pages.designer.conditions import OP_LABELS

    return {"op_labels": OP_LABELS, "kind_labels": KIND_LABELS}


from pages.designer import cadence  # noqa: F401  (registers its route; issue 14)

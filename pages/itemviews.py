"""What the item pages of every audience share: raising, the detail, transitions, summons."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from flask import flash, g, get_template_attribute, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict

import forms
from engine.core import clock
from engine.core.errors import Conflict, FieldProblem, Forbidden, Invalid
from engine.definitions.definitions import Runtime, applies_at, current_version, runtime
from engine.records import attachments
from engine.store.models import Definition, Item, OrgNode
from engine.store.prepared import prepared
from engine.supervision import actions as supervision
from engine.trail import privacy
from engine.workflow import dispatch, items, queues
from engine.workflow.context import item_doc, new_item_doc
from pages.conflicts import staleness
from pages.extensions import attachment_store, htmx
from pages.guards import int_arg


def may_raise(rt: Runtime, node: OrgNode) -> bool:
    """Whether the current actor may raise items of ``rt`` at ``node``."""
    return (
        node.kind in rt.body.get("node_kinds", ["compound"])
        and applies_at(rt.body, node.path)
        and any(g.actor.reaches(role, node.path) for role in rt.body.get("raise_roles", []))
    )


def raisable_types(node: OrgNode) -> list[Runtime]:
    """Item types the current actor may raise at ``node`` (its kind, its scope, a raising
    role), newest versions."""
    found = []
    current = [  # each type's newest version id (the request's one read of definitions)
        (d.id, d.published.id)
        for d in queues.definitions().values()
        if d.kind == "item_type" and d.published is not None
    ]
    for _definition_id, version_id in current:
        rt = runtime(version_id)
        if rt.body.get("listed", True) and may_raise(rt, node):
            found.append(rt)
    return found


_ROW_INPUT = re.compile(r"(?P<group>[^-]+)-(?P<index>\d{1,4})-(?P<field>[^-]+)")


def upload_inputs(schema: Mapping[str, Any]) -> dict[str, str | None]:
    """The file inputs of a form and what each accepts (its ``x-accept``; a photo takes
    images): ``name`` for a field, ``group-*-name`` for a field of a repeatable group."""
    found: dict[str, str | None] = {}

    def accept(spec: Any) -> str | None:
        return spec.accept or ("image/*" if spec.kind == "photo" else None)

    for spec in forms.field_specs(schema):
        if spec.kind in ("photo", "file"):
            found[spec.name] = accept(spec)
        elif spec.kind == "group":
            for child in spec.children:
                if child.kind in ("photo", "file"):
                    found[f"{spec.name}-*-{child.name}"] = accept(child)
    return found


def posted_formdata(
    inputs: Mapping[str, str | None],
    rejected: list[FieldProblem] | None = None,
) -> MultiDict[str, str]:
    """The posted form, with every file sent to one of ``inputs`` (name -> accept) checked,
    stored and its id added under its input's name; files sent to any other name are
    dropped unread. Call it only once the actor may make the change the form is for.

    The generated form then sees uploads as attachment ids, like any other answer, and
    renders them as kept attachments if the page is shown again.

    :param rejected: where a refused file (its type, its size) goes, named by its input,
        to be shown on its field with every other answer kept; None raises the refusal.
    :raises Invalid: a refused file, when ``rejected`` is None.
    """
    formdata: MultiDict[str, str] = MultiDict(request.form.items(multi=True))
    for name in request.files:
        row = _ROW_INPUT.fullmatch(name)
        pattern = f"{row['group']}-*-{row['field']}" if row else name
        if pattern not in inputs:
            continue
        for upload in request.files.getlist(name):
            if upload and upload.filename:
                try:
                    att = attachments.store(
                        g.actor,
                        upload.filename,
                        upload.mimetype or "",
                        upload.stream,
                        store=attachment_store(),
                        now=clock.now(),
                        field=name,
                        accept=inputs[pattern],
                    )
                except Invalid as exc:
                    if rejected is None:
                        raise
                    rejected += [
                        FieldProblem(name, f"{upload.filename}: {p.message}") for p in exc.fields
                    ] or [FieldProblem(name, f"{upload.filename}: {exc.message}")]
                    continue
                formdata.add(name, att.public_id)
    return formdata


def bind(
    schema: Mapping[str, Any], context: Mapping[str, Any], data: Mapping[str, Any] | None = None
) -> Any:
    """The generated form of ``schema``, bound to the posted answers (on POST) or ``data``
    (so call it only after checking that the actor may post).

    A refused upload does not refuse the page: it is left out, its problem shown on its
    field, and every other answer kept; ``submit`` then does not act.
    """
    rejected: list[FieldProblem] = []
    formdata = (
        posted_formdata(upload_inputs(schema), rejected) if request.method == "POST" else None
    )
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
    definition = Definition.get_or_none(
        (Definition.key == type_key) & (Definition.kind == "item_type")
    )
    rt = (
        runtime(current_version(definition))
        if definition is not None and definition.current
        else None
    )
    if rt is None or not applies_at(rt.body, node.path):  # a street's type is not offered elsewhere
        return render_template("error.html", status=404, message=_("Not found."), fields=[]), 404
    if request.method == "POST" and not may_raise(rt, node):
        # Before bind(): a refused request stores none of its files.
        raise Forbidden(_("You may not raise %(type)s here.", type=rt.body["name"]))
    context = new_item_doc(node, {}, type_key=type_key, actor=g.actor, now=clock.now())
    context.pop("data")
    bound = bind(rt.body["schema"], context)
    conflict = None
    try:
        result, loose = submit(
            bound,
            lambda data: done(items.raise_item(g.actor, type_key, node.key, data, now=clock.now())),
        )
    except Conflict as exc:  # the database too busy to write: the answers stay for another try
        result, loose, conflict = None, [exc.message], exc
    if result is not None:
        return result
    if htmx and request.method == "POST":
        return render_template(
            "items/_raise_fields.html", bound=bound, rt=rt, loose=loose
        ), 409 if conflict else 200
    status = 409 if conflict else 422 if is_submit(bound) else 200
    return render_template(template, bound=bound, rt=rt, node=node, loose=loose), status


def supervise_context(item: Item) -> dict[str, Any]:
    """What the supervision panel (督办, re-route) needs; empty unless supervising."""
    if not supervision.supervises(g.actor, item.node_path):
        return {"supervising": False}
    if item.closed:  # the panel offers no re-route: nothing to choose from (one query less)
        return {"supervising": True, "departments": [], "reroute_roles": []}
    departments, roles = supervision.reroute_choices(item)
    return {"supervising": True, "departments": departments, "reroute_roles": roles}


def detail_context(
    item: Item, *, reveal: bool = False, audience: str = "staff", timeline: bool = True
) -> dict[str, Any]:
    """What an item page shows ``g.actor``; personal data as their sight allows.

    :param reveal: show personal data whole (audited; refused unless the actor needs it).
    :param audience: ``resident`` leaves the staff's internal steps out of the timeline.
    :param timeline: read the timeline (a page that tells the item's story its own way
        need not).
    """
    now = clock.now()
    rt = runtime(item.version_id)
    assignments = items.assignments_of(item)
    view = privacy.sight(g.actor, item, rt, unit_paths=[a.unit_path for a in assignments])
    if reveal:
        view = items.reveal(g.actor, item, view, now=now)
    return {
        **supervise_context(item),
        # the staff's page names who handles the item; a resident's never does
        "handlers": supervision.handlers_of(item) if audience == "staff" else [],
        "item": item,
        "rt": rt,
        "now": now,
        "specs": list(privacy.type_fields(rt)),
        "answers": privacy.shown_data(item, rt, view),
        "sight": view,
        "raiser": privacy.raiser_name(item, view),
        "has_personal": bool(privacy.personal_names(rt) & set(item.data or {})),
        "assignments": assignments,
        "offers": items.offers(g.actor, item, now=now, assignments=assignments),
        "timeline": timeline_view(
            item, rt, view, audience, unit_paths=[a.unit_path for a in assignments]
        )
        if timeline
        else [],
        "acting": {a.id for a in assignments if g.actor.reaches(a.role, a.unit_path)},
    }


@dataclass
class _Words:
    """An item type's routing vocabulary (field, context and option labels in one language)
    and the rule sentences already put in its words."""

    rt: Runtime  # kept so that the cache's id(rt) is never another runtime's
    vocabulary: Any
    sentences: dict[tuple[Any, ...], str] = dc_field(default_factory=dict)
    # each rule outcome as the timeline shows it (label, fired, sentence, error), by
    # (table, rule, fired, evaluated, error): an item's routing events repeat the same few
    outcomes: dict[tuple[Any, ...], dict[str, Any]] = dc_field(default_factory=dict)
    # an answer's label by its path (``data.x``, ``node.path`` ...)
    names: dict[str, str] = dc_field(default_factory=dict)
    # a routing event's outcomes as HTML (items/_route_outcomes.html), by their keys above
    outcomes_html: dict[tuple[Any, ...], Any] = dc_field(default_factory=dict)


# Routing vocabularies by (runtime, places, role labels, file form's version, language), kept
# by the process: building one parses every form of the type, and the inputs rarely change.
# Read only.
_VOCABULARIES: dict[tuple[Any, ...], _Words] = {}


def route_trace(rt: Runtime) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """A routing event's detail in words (staff only: residents never see routing events):
    the table's and rules' names, each rule's condition as a sentence, the answers read.
    Templates call it as ``route_words(detail, rt)`` (pages/extensions.py). Place names
    are read (one query per page) only when a decision read the place."""
    from engine.authoring.design_context import context_rows, profile_form_for
    from engine.authoring.words import Vocabulary, outcome_words
    from engine.org.scope import role_labels

    kinds = rt.body.get("node_kinds") or ["compound"]
    seen: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    vocabularies: dict[tuple[tuple[str, ...], bool], _Words] = {}

    tables: dict[Any, tuple[str, dict[Any, Any]]] = {}

    def table_of(table_key: Any) -> tuple[str, dict[Any, Any]]:
        """A routing table's label and its rules by key (once per request and table)."""
        if table_key not in tables:
            table = (rt.body.get("routing") or {}).get(table_key, {})
            specs = {r.get("key"): r for r in table.get("rules", [])}
            tables[table_key] = (table.get("label") or _("routing"), specs)
        return tables[table_key]

    def sentence(
        words: _Words, table_key: Any, spec: Mapping[str, Any], o: Mapping[str, Any]
    ) -> str:
        fired = bool(o.get("fired"))
        evaluated = not str(o.get("reason", "")).startswith("not evaluated")
        key = (table_key, o.get("key"), fired, evaluated)
        if key not in words.sentences:
            words.sentences[key] = outcome_words(spec, fired, words.vocabulary, evaluated=evaluated)
        return words.sentences[key]

    def outcome(
        words: _Words, table_key: Any, specs: Mapping[Any, Any], o: Mapping[str, Any]
    ) -> dict[str, Any]:
        spec = specs.get(o.get("key")) or {}
        return {
            "label": spec.get("label") or _("a rule"),
            "fired": o.get("fired"),
            "words": sentence(words, table_key, spec, o),
            "error": o.get("error"),
        }

    def outcome_key(table_key: Any, o: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """What an outcome's words depend on; None for an odd record (not kept)."""
        evaluated = not str(o.get("reason", "")).startswith("not evaluated")
        # the page says only that a rule failed (an error is a string in older events, a
        # message id and parameters since)
        key = (table_key, o.get("key"), o.get("fired"), evaluated, bool(o.get("error")))
        try:
            hash(key)
        except TypeError:  # a list where a word was recorded
            return None
        return key

    def outcomes_of(
        words: _Words, table_key: Any, specs: Mapping[Any, Any], detail: Mapping[str, Any]
    ) -> tuple[list[dict[str, Any]], Any]:
        """The event's outcomes (kept by :func:`outcome_key`, shared between events: read
        only) and their HTML (kept by the outcomes' keys)."""
        found, keys = [], []
        for o in detail.get("outcomes", []):
            key = outcome_key(table_key, o)
            shown = words.outcomes.get(key) if key is not None else None
            if shown is None:
                shown = outcome(words, table_key, specs, o)
                if key is not None and len(words.outcomes) < 1024:  # errors may vary: bounded
                    words.outcomes[key] = shown
                else:
                    key = None
            found.append(shown)
            keys.append(key)
        kept = tuple(keys) if None not in keys else None
        html = words.outcomes_html.get(kept) if kept is not None else None
        if html is None:
            html = get_template_attribute("items/_route_outcomes.html", "route_outcomes")(found)
            if kept is not None and len(words.outcomes_html) < 1024:
                words.outcomes_html[kept] = html
        return found, html

    def inputs_in_words(words: _Words, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
        """:func:`input_words`, each answer's label looked up once per vocabulary."""
        names, vocabulary = words.names, words.vocabulary
        shown = []
        for path, value in inputs.items():
            if path not in names:
                names[path] = vocabulary.name(path)
            shown.append((names[path], vocabulary.value(path, value)))
        return shown

    def inputs_line(shown: list[tuple[str, str]]) -> Markup:
        """The answers read as the "Why" says them: "label = value、…" (escaped)."""
        return Markup("、".join([f"{escape(label)} = {escape(value)}" for label, value in shown]))

    def words_of(detail: Mapping[str, Any]) -> _Words:
        """The vocabulary the event's words are in: the type's, the places its decision
        read (named once per request), the role labels, the file's form, the language
        (kept by the process while these are the same: the same object)."""
        inputs = detail.get("inputs") or {}
        path = inputs.get("node.path")
        keys = [k for k in path if isinstance(k, str)] if isinstance(path, list) else []
        if tuple(keys) not in seen:  # one item's events read the same places: one query
            seen[tuple(keys)] = list(
                prepared(  # one statement per number of places
                    ("route_places", len(keys)),
                    lambda **slots: (
                        OrgNode.select(OrgNode.key, OrgNode.name)
                        .where(OrgNode.key.in_([slots[f"key{i}"] for i in range(len(keys))]))
                        .tuples()
                    ),
                    **{f"key{i}": key for i, key in enumerate(keys)},
                )
                if keys
                else []
            )
        reads_file = any(str(k).startswith("node.profile.") for k in inputs)
        cache_key = (tuple(keys), reads_file)
        if cache_key not in vocabularies:  # the same places and reads: the same words
            places = seen[tuple(keys)]
            # The file's fields by their titles in the profile definition (read once per
            # request, and only when a rule read the file); its version's id and digest tell
            # a newly published form (the form's JSON was written out as the key).
            roles = role_labels()
            form, schema = profile_form_for(kinds) if reads_file else (None, None)
            kept = (id(rt), tuple(places), tuple(roles.items()), form, str(get_locale()))
            found = _VOCABULARIES.get(kept)
            if found is None or found.rt is not rt:
                context = context_rows(
                    roles, kinds, where="raise", places=places, profile_schema=schema
                )
                if len(_VOCABULARIES) >= 256:
                    _VOCABULARIES.clear()
                found = _VOCABULARIES[kept] = _Words(rt, Vocabulary.of_type(rt.body, context))
            vocabularies[cache_key] = found
        return vocabularies[cache_key]

    def explain(detail: Mapping[str, Any]) -> dict[str, Any]:
        inputs = detail.get("inputs") or {}
        words = words_of(detail)
        table_key = detail.get("table")
        label, specs = table_of(table_key)
        outcomes, outcomes_html = outcomes_of(words, table_key, specs, detail)
        read = inputs_in_words(words, inputs)
        return {
            "table": label,
            "fired": [
                (specs.get(k) or {}).get("label") or _("a rule") for k in detail.get("fired", [])
            ],
            "outcomes": outcomes,
            "outcomes_html": outcomes_html,
            "inputs": read,
            "inputs_line": inputs_line(read),
        }

    explain.words = words_of  # type: ignore[attr-defined]
    return explain


# Steps of the staff's own work that a resident's timeline leaves out: urges (督办) and
# escalations name supervisors and carry their messages; routing shows rule internals.
STAFF_ONLY = (
    "item.urge",
    "summons.urge",
    "escalation",
    "route",
    "item.set",
    "item.migrate",
    "item.reassign",
    "item.reveal",
)


def timeline_view(
    item: Item,
    rt: Runtime,
    view: privacy.Sight,
    audience: str,
    events: list[Any] | None = None,
    *,
    unit_paths: list[str] | None = None,
) -> list[items.TimelineEvent]:
    """The item's timeline (or ``events`` of it) with personal data as ``view`` allows; for a
    resident, without the staff's internal steps and with staff named by their role."""
    events = (
        items.timeline_rows(item)
        if events is None
        else [
            e if isinstance(e, items.TimelineEvent) else items.TimelineEvent.of(e) for e in events
        ]
    )
    kinds = privacy.personal_kinds(rt)
    roles: dict[int, str] = {}
    if audience == "resident":
        events = [e for e in events if e.action not in STAFF_ONLY]
        roles = items.role_names(
            item, {e.actor_id for e in events if e.actor_id}, unit_paths=unit_paths
        )
    shown = []
    for e in events:
        name = privacy.actor_name(e.actor_id, e.actor_name, item, view)
        if audience == "resident" and e.actor_id and e.actor_id != item.raised_by_id:
            name = roles.get(e.actor_id) or _("Staff")
        shown.append(
            e._replace(
                actor_name=name,
                before=privacy.shown_event_part(e.before, kinds, view),
                after=privacy.shown_event_part(e.after, kinds, view),
                detail=privacy.shown_event_part(e.detail, kinds, view),
            )
        )
    return shown


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
    expected = int_arg("version", source=request.form)
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
            raise Conflict(
                _("The item has changed since you opened it; %(action)s is no longer possible.")
                % {"action": spec["label"]}
            )
        result, loose = submit(
            bound,
            lambda data: went_to(
                items.transition(g.actor, item.id, key, data, expected=expected, now=clock.now()),
                item_endpoint,
            ),
        )
    except Conflict as exc:
        result, loose, conflict = None, [], exc
        item = Item.get_by_id(item.id)  # as the other change left it
    if result is not None:
        return result
    possible = offer is not None and (
        conflict is None or any(o.key == key for o in items.offers(g.actor, item, now=clock.now()))
    )
    stale = staleness(item.lock, "version", item=item, conflict=conflict)
    args = {
        "bound": bound,
        "item": item,
        "spec": spec,
        "rt": rt,
        "loose": loose,
        "stale": stale,
        "possible": possible,
        "item_endpoint": item_endpoint,
        "changed": _changed_meanwhile(item, rt, stale.since, item_endpoint),
    }
    status = stale.status or (422 if is_submit(bound) else 200)
    if htmx:
        # sanfang.js has htmx swap 409 and 422 too: the form replaces itself, answers kept.
        return render_template("items/_transition_form.html", **args), status
    return render_template(template, **args), status


def _changed_meanwhile(item: Item, rt: Runtime, since: list[Any], item_endpoint: str) -> list[Any]:
    """The events a stale form missed, as the viewer may see them (read only when there are)."""
    if not since:
        return []
    paths = [a.unit_path for a in items.assignments_of(item)]
    view = privacy.sight(g.actor, item, rt, unit_paths=paths)
    audience = "resident" if item_endpoint.startswith("resident.") else "staff"
    return timeline_view(item, rt, view, audience, since, unit_paths=paths)


def summons_action(assignment_id: int, action: str) -> Any:
    """Report in, complete or decline a summons, as the unit's user."""
    now = clock.now()
    reply = request.form.get("reply", "")
    if action == "report_in":
        return dispatch.report_in(g.actor, assignment_id, now=now)
    if action == "complete":
        return dispatch.complete(g.actor, assignment_id, reply, now=now)
    return dispatch.decline(g.actor, assignment_id, reply, now=now)

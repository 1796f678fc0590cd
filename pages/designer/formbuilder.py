"""The form builder: field rows of the draft's schema, one field's editor, the live preview."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from flask import abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

import forms
from engine.authoring import designer, keys
from engine.authoring.words import Vocabulary
from engine.core import clock
from engine.core.errors import FieldProblem
from engine.workflow.context import new_item_doc
from forms.builder import (
    BOUND_KEYS,
    CHOICE,
    MULTI_CHOICE,
    OPERATORS,
    FieldRow,
    FormRows,
    Group,
    parse_group,
    parse_value,
    property_from_row,
)
from forms.specs import KINDS, PRESETS
from pages.auth import requires
from pages.designer import bp, conditions, tabs_context
from pages.designer.locate import located
from pages.designer.targets import Target, rows_of, store, stored, target_of, whole_schema
from pages.extensions import htmx

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,59}$")


def _save_rows(key: str, target: Target, form: FormRows) -> dict[str, Any]:
    return designer.edit_draft(g.actor.user, key, lambda b: store(target, b, form), now=clock.now())


def _target(key: str, code: str) -> tuple[Any, dict[str, Any], Target]:
    definition = designer.definition_of(key)
    body = designer.draft_of(definition)
    return definition, body, target_of(code, body)


def preview_context(body: dict[str, Any]) -> dict[str, Any]:
    """The rule document a worker raising this type at a sample node would give the form."""
    if body.get("kind") not in ("item_type", "profile"):
        return {}
    from pages.designer.tryit import sample_nodes

    nodes = sample_nodes(body)  # inside the definition's scope
    node = nodes[0] if nodes else None
    if node is None:
        return {}
    doc = new_item_doc(node, {}, type_key=body["key"], actor=g.actor, now=clock.now())
    doc.pop("data")
    return doc


def builder_context(
    key: str, code: str = "main", bound: Any = None, valid: bool = False
) -> dict[str, Any]:
    definition, body, target = _target(key, code)
    form = rows_of(target, body)
    whole = whole_schema(target, body)
    problems = forms.check_schema(whole, gettext=_)
    context = show_context(body, target) if any(r.show_if for r in form.rows) else []
    schema_problems = [FieldProblem(target.pointer + p.path, p.message) for p in problems]
    if bound is None and not schema_problems:
        bound = forms.bind(whole, base=FlaskForm, context=preview_context(body), formdata=None)
    return {
        **tabs_context(definition),
        "body": body,
        "rows": form.rows,
        "target": target,
        "kinds": [k for k in KINDS if not (target.group and k == "group")],
        "problems": located(key, schema_problems, body),
        "bound": bound,
        "valid": valid,
        "summaries": {
            r.name: summary(
                r,
                {x.name: x.label or x.name for x in [*form.rows, *context]},
                Vocabulary([*form.rows, *context]),
            )
            for r in form.rows
        },
    }


def summary(row: FieldRow, names: dict[str, str], words: Vocabulary | None = None) -> str:
    """The visibility condition in words (table of fields)."""
    if row.show_if_raw is not None:
        return _("a condition written in the JSON view")
    if row.show_if is None:
        return ""
    return group_words(row.show_if, names, words)


def group_words(group: Group, names: dict[str, str], words: Vocabulary | None = None) -> str:
    words = words or Vocabulary([])
    parts = [
        f"({group_words(c, names, words)})" if isinstance(c, Group) else _row_words(c, names, words)
        for c in group.items
    ]
    return (_(" and ") if group.join == "all" else _(" or ")).join(parts)


def _row_words(c: Any, names: dict[str, str], words: Vocabulary) -> str:
    head = f"{names.get(c.field, c.field)} {conditions.OP_LABELS.get(c.op, c.op)}"
    if c.op in ("is empty", "is not empty"):
        return head
    return f"{head} {words.value(c.field, c.value)}"


def _builder_url(key: str, code: str) -> str:
    return url_for("designer.form_builder", key=key, target=code)


@bp.route("/<key>/form", defaults={"target": "main"})
@bp.route("/<key>/forms/<target>")
@requires("design")
def form_builder(key: str, target: str) -> Any:
    context = builder_context(key, target)
    if context["body"].get("kind") == "meeting" and target == "main":
        from pages.designer.cadence import cadence_context

        context.update(cadence_context(context["body"]))
    return render_template("designer/form.html", **context)


@bp.route("/<key>/transitions/<int:index>/form")
@requires("design")
def transition_form(key: str, index: int) -> Any:
    """A transition's own form, in the same builder."""
    return render_template("designer/form.html", **builder_context(key, f"t{index}"))


def _builder_response(key: str, code: str) -> Any:
    if htmx:
        return render_template("designer/_builder.html", **builder_context(key, code))
    return redirect(_builder_url(key, code), 303)


@bp.route("/<key>/form/add", methods=["POST"], defaults={"target": "main"})
@bp.route("/<key>/forms/<target>/add", methods=["POST"])
@requires("design")
def add_field(key: str, target: str) -> Any:
    _definition, body, where = _target(key, target)
    form = rows_of(where, body)
    kind = request.form.get("kind", "text")
    label = request.form.get("label", "").strip()
    taken = {r.name for r in form.rows}
    name = keys.chosen(request.form.get("name", ""), label, taken) if label else ""
    name = name or request.form.get("name", "").strip()
    error = None
    if not label and not name:
        error = _("Shown label: give the field a name.")
    elif not NAME.match(name):
        error = _("Field name: it starts with a letter and holds letters, digits and _.")
    elif name in taken:
        error = _("Field name: there is already a field named %(name)s.", name=name)
    elif kind not in KINDS or (where.group and kind == "group"):
        error = _("Unknown field kind.")
    if error:
        context = builder_context(key, target)
        context.update(add_error=error, add_values=request.form)
        template = "designer/_builder.html" if htmx else "designer/form.html"
        return render_template(template, **context), 200 if htmx else 422
    row = FieldRow(name, kind, label or name)
    if kind in CHOICE or kind in MULTI_CHOICE:
        row.options = [(_("Option 1"), _("Option 1")), (_("Option 2"), _("Option 2"))]
    if kind == "group":
        row.children = [FieldRow("note", "text", _("Note"))]
    form.rows.append(row)
    _save_rows(key, where, form)
    return redirect(url_for("designer.field", key=key, name=name, target=target), 303)


@bp.route(
    "/<key>/form/<name>/<any(up, down, delete):action>",
    methods=["POST"],
    defaults={"target": "main"},
)
@bp.route("/<key>/forms/<target>/<name>/<any(up, down, delete):action>", methods=["POST"])
@requires("design")
def field_action(key: str, name: str, action: str, target: str) -> Any:
    _definition, body, where = _target(key, target)
    form = rows_of(where, body)
    index = next((i for i, r in enumerate(form.rows) if r.name == name), None)
    if index is None:
        abort(404)
    if action == "delete":
        form.rows.pop(index)
    else:
        other = index - 1 if action == "up" else index + 1
        if 0 <= other < len(form.rows):
            form.rows[index], form.rows[other] = form.rows[other], form.rows[index]
    _save_rows(key, where, form)
    return _builder_response(key, target)


PRESET_LABELS = {
    "": _l("none"),
    "phone": _l("Mobile or landline"),
    "mobile": _l("Mobile number"),
    "landline": _l("Landline number"),
    "id-card": _l("Identity card number"),
    "uscc": _l("Unified social credit code"),
    "plate": _l("Vehicle plate"),
    "postcode": _l("Postal code"),
    "room": _l("Building-room"),
}
BOUND_LABELS = {
    "minLength": _l("Minimum length"),
    "maxLength": _l("Maximum length"),
    "minimum": _l("Minimum"),
    "maximum": _l("Maximum"),
    "exclusiveMinimum": _l("Greater than"),
    "exclusiveMaximum": _l("Less than"),
    "multipleOf": _l("Multiple of"),
    "minItems": _l("At least (items)"),
    "maxItems": _l("At most (items)"),
}


def _options_text(row: FieldRow) -> str:
    return "\n".join(str(v) if str(v) == label else f"{v}|{label}" for v, label in row.options)


def _parse_options(text: str, value_type: str) -> list[tuple[Any, str]]:
    options = []
    for line in text.splitlines():
        if not line.strip():
            continue
        value, _sep, label = line.partition("|")
        options.append((parse_value(value, value_type), label.strip() or value.strip()))
    return options


def show_context(body: Mapping[str, Any], where: Target) -> list[FieldRow]:
    """What a field's visibility may read besides the form's answers: the raiser's roles, the
    place and its file for an item type's own form; on a transition's form also the
    summonses and the item's age and priority (the same document the form is bound to and
    validated against, engine/workflow/items.py)."""
    if body.get("kind") != "item_type" or where.group:
        return []
    from pages.designer.flow import condition_context

    return condition_context(body, "raise" if where.transition is None else "move")


def _apply(
    row: FieldRow,
    form: MultiDict[str, str],
    others: list[FieldRow],
    existing: Any,
    scope: str,
    context: Sequence[FieldRow] = (),
) -> None:
    row.kind = form.get("kind", row.kind) if form.get("kind") in KINDS else row.kind
    row.label = form.get("label", "").strip()
    row.help = form.get("help", "").strip()
    row.placeholder = form.get("placeholder", "").strip()
    row.required = bool(form.get("required"))
    if form.get("personal_shown"):  # the field editor's personal-data box (x-personal)
        if form.get("personal"):
            row.extra["x-personal"] = True
        else:
            row.extra.pop("x-personal", None)
    row.pattern = form.get("pattern", "").strip()
    preset = form.get("preset", "")
    if preset == "phone":  # mobile or landline: the phone kind's own format
        row.kind, row.preset = "phone", ""
    elif preset in PRESETS and row.kind in ("text", "phone"):
        row.kind, row.preset = PRESETS[preset], preset
    elif row.kind in ("text", "phone"):
        row.preset = ""
    row.message = form.get("message", "").strip()
    row.accept = form.get("accept", "").strip()
    row.value_type = (
        form.get("value_type", "string")
        if form.get("value_type") in ("string", "integer", "number")
        else "string"
    )
    row.bounds = {}
    for bound in BOUND_KEYS.get(row.kind, ()):
        text = form.get(f"bound-{bound}", "").strip()
        if text:
            row.bounds[bound] = parse_value(text, "number")
    if "options" in form:
        row.options = _parse_options(
            form["options"], row.value_type if row.kind in CHOICE else "string"
        )
    rule = conditions.posted(form, "show", others, existing, scope, context=context)
    row.show_if_raw, row.show_if = None, None
    if rule is not None:
        row.show_if = parse_group(rule, scope, context=True)
        if row.show_if is None:
            row.show_if, row.show_if_raw = None, rule


@bp.route("/<key>/form/field/<name>", methods=["GET", "POST"], defaults={"target": "main"})
@bp.route("/<key>/forms/<target>/field/<name>", methods=["GET", "POST"])
@requires("design")
def field(key: str, name: str, target: str) -> Any:
    definition, body, where = _target(key, target)
    form = rows_of(where, body)
    index = next((i for i, r in enumerate(form.rows) if r.name == name), None)
    if index is None:
        abort(404)
    row = form.rows[index]
    others = [r for r in form.rows if r.name != name]
    existing = property_from_row(row, where.scope).get("x-show-if")
    context = show_context(body, where)
    problems: list[dict[str, str]] = []
    if request.method == "POST":
        new_name = request.form.get("name", name).strip()
        try:
            _apply(row, request.form, others, existing, where.scope, context)
        except conditions.BadValue as exc:
            problems.append({"path": "", "message": str(exc), "link": "", "what": _("Shown when")})
        if where.group and row.kind == "group":
            row.kind = "text"
        if problems:
            pass
        elif new_name != name and (
            not NAME.match(new_name) or any(r.name == new_name for r in others)
        ):
            problems.append(
                {
                    "path": "/name",
                    "message": _("This name is taken or not valid."),
                    "link": "",
                    "what": _("Field name"),
                }
            )
        else:
            row.name = new_name
            candidate = whole_schema(where, stored(where, body, form))
            found = forms.check_schema(candidate, gettext=_)
            mine = [p for p in found if p.path.startswith(f"{where.inner}/properties/{new_name}")]
            if not mine:
                _save_rows(key, where, form)
                return redirect(_builder_url(key, target) + f"#f-{new_name}", 303)
            problems += [
                {"path": p.path, "message": p.message, "link": "", "what": ""} for p in mine
            ]
    show = conditions.editor("show", existing, where.scope, context=context)
    return render_template(
        "designer/field.html",
        **tabs_context(definition),
        row=row,
        others=others,
        condition_fields=[*others, *context],
        target=where,
        kinds=[k for k in KINDS if not (where.group and k == "group")],
        bounds=[(b, BOUND_LABELS[b], row.bounds.get(b, "")) for b in BOUND_KEYS.get(row.kind, ())],
        options_text=_options_text(row),
        show=show,
        operators=OPERATORS,
        problems=problems,
        choice=row.kind in CHOICE or row.kind in MULTI_CHOICE,
        presets=PRESET_LABELS,
        preset=row.preset or ("phone" if row.kind == "phone" else ""),
    ), (422 if problems else 200)


@bp.route("/<key>/preview", methods=["POST"], defaults={"target": "main"})
@bp.route("/<key>/forms/<target>/preview", methods=["POST"])
@requires("design")
def preview(key: str, target: str) -> Any:
    """The preview form posted: a refresh re-renders its fields; a submit shows the messages."""
    _definition, body, where = _target(key, target)
    formdata: MultiDict[str, str] = MultiDict(request.form.items(multi=True))
    bound = forms.bind(
        whole_schema(where, body), base=FlaskForm, context=preview_context(body), formdata=formdata
    )
    valid = False
    if not request.form.get("_refresh") and not bound.rows_changed:
        valid = not bound.validate(_)
    return render_template(
        "designer/_preview_fields.html",
        bound=bound,
        valid=valid,
        answers=answer_words(whole_schema(where, body), bound.data()) if valid else None,
    )


def answer_words(schema: dict[str, Any], data: dict[str, Any]) -> list[tuple[str, str]]:
    """The preview's valid answers as (label, value in words): no keys, no true/false."""
    words = Vocabulary.of(schema)
    return [(words.name(k), words.value(k, v)) for k, v in data.items()]

"""The workflow editor (states, transitions, effects) and the routing table editor, as forms.

A transition's form opens in the form builder; its guard message, branches and ``set``
effects are rows here (``pages/designer/transitions.py``). What the forms do not show (a
notify message, ``set`` effects on creation) is kept as it is in the draft.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from flask import g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from engine.authoring import designer, keys
from engine.authoring.deadline_examples import example
from engine.authoring.design_context import context_rows, profile_schema_for
from engine.core import clock
from engine.definitions.checks import PSEUDO_ROLES, graph_findings
from engine.definitions.definitions import known_roles
from forms.builder import FieldRow, rows_from_schema
from pages.auth import requires
from pages.designer import bp, conditions, departments, pack_roles, settings, tabs_context
from pages.designer.diagram import workflow_svg
from pages.designer.formbuilder import NAME
from pages.designer.transitions import (
    apply_extras,
    extras_context,
    posted_sets,
    set_rows,
    set_targets,
)

FINDING_WORDS = {
    "unreachable": _l("State %(subject)s cannot be reached from the initial state."),
    "dead_end": _l("State %(subject)s is not final, but no transition leaves it."),
    "nobody": _l("Nobody may take transition %(subject)s: it names no known role."),
}


def _number(text: str | None) -> float | int | None:
    try:
        value = float((text or "").strip())
    except ValueError:
        return None
    if not math.isfinite(value):
        return None  # "inf", "nan", "1e999" are no numbers a definition can hold
    return int(value) if value.is_integer() else value


def _effects(
    old: list[dict[str, Any]],
    form: MultiDict[str, str],
    prefix: str,
    sets: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The effects with the form's summon table, notified roles and (when given) ``set``
    assignments, each in its old place (effects run in order: a summon after a ``set``
    routes on the new value; a new ``set`` comes first)."""
    summon = form.get(f"{prefix}-summon", "")
    notify = form.getlist(f"{prefix}-notify")
    out: list[dict[str, Any]] = []
    placed = {"summon": False, "notify": False, "set": sets is None}
    for effect in old:
        if "set" in effect and not placed["set"]:
            placed["set"] = True
            if sets:
                out.append({"set": sets})
            continue
        if "summon" in effect and not placed["summon"]:
            placed["summon"] = True
            if summon:
                out.append({"summon": summon})
            continue
        if "notify" in effect and not placed["notify"]:
            placed["notify"] = True
            if notify:
                message = form.get(f"{prefix}-notify_message", effect["notify"].get("message"))
                message = (message or "").strip()
                out.append(
                    {"notify": {"roles": notify, **({"message": message} if message else {})}}
                )
            continue
        out.append(effect)
    head: list[dict[str, Any]] = [{"set": sets}] if sets and not placed["set"] else []
    head += [{"summon": summon}] if summon and not placed["summon"] else []
    message = form.get(f"{prefix}-notify_message", "").strip()
    tail: list[dict[str, Any]] = (
        [{"notify": {"roles": notify, **({"message": message} if message else {})}}]
        if notify and not placed["notify"]
        else []
    )
    return head + out + tail


def _in_old_order(chosen: list[str], old: list[str]) -> list[str]:
    """The ticked boxes, those already written first in their written order."""
    return [v for v in old if v in chosen] + [v for v in chosen if v not in old]


def _first(effects: list[dict[str, Any]], kind: str) -> Any:
    return next((e[kind] for e in effects if kind in e), None)


def apply_workflow(body: dict[str, Any], form: MultiDict[str, str]) -> list[str]:
    """Apply the posted workflow form to ``body``; returns problems with the form itself."""
    workflow = body.setdefault("workflow", {"initial": "", "states": {}, "transitions": []})
    fields = rows_from_schema(body.get("schema") or {}).rows
    context = condition_context(body, "move")
    old_title = body.get("title")
    problems: list[str] = []
    renames: dict[str, str] = {}
    states: dict[str, Any] = {}
    old_states = workflow.get("states", {})
    i = 0
    while f"state-{i}-key" in form:
        prefix = f"state-{i}"
        label = form.get(f"{prefix}-label", "").strip()
        key = form.get(f"{prefix}-key", "").strip()
        if not key and label and prefix + "-new" in form:
            key = keys.derive(label, set(old_states) | set(states))
        i += 1
        if not key or form.get(f"{prefix}-delete"):
            continue
        if not NAME.match(key.replace("-", "_")):
            problems.append(
                _(
                    "State %(label)s, key %(key)s: use letters, digits, - and _.",
                    label=label,
                    key=key,
                )
            )
            continue
        rename = form.get(f"{prefix}-rename", "").strip()
        if rename and rename != key and key in old_states:
            if not keys.DEFINITION.match(rename) or rename in old_states:
                problems.append(
                    _(
                        "State %(label)s, new key %(key)s: use lower-case letters, digits, - and _, "
                        "not a key another state has.",
                        label=label,
                        key=rename,
                    )
                )
            else:
                renames[key] = rename
        spec = dict(old_states.get(key, {}))
        spec["label"] = label or key
        spec.pop("calendar", None)
        if form.get(f"{prefix}-calendar") == "natural":
            spec["calendar"] = "natural"
        hours = _number(form.get(f"{prefix}-hours"))
        spec.pop("hours", None)
        if hours is not None:
            spec["hours"] = hours
        spec.pop("final", None)
        if form.get(f"{prefix}-final"):
            spec["final"] = True
        if f"{prefix}-resident_label" in form:  # the state as a resident reads it (/r)
            spec.pop("resident_label", None)
            if form[f"{prefix}-resident_label"].strip():
                spec["resident_label"] = form[f"{prefix}-resident_label"].strip()
        _apply_gate(spec, form.get(f"{prefix}-gate", ""))
        states[key] = spec
    workflow["states"] = states
    workflow["initial"] = form.get("initial", workflow.get("initial", ""))
    transitions = []
    old = workflow.get("transitions", [])
    i = 0
    while f"tr-{i}-key" in form:
        prefix = f"tr-{i}"
        spec = dict(old[i]) if i < len(old) else {}
        i += 1
        key = form.get(f"{prefix}-key", "").strip()
        label = form.get(f"{prefix}-label", "").strip()
        if not key and label:
            key = keys.derive(label, {t.get("key") for t in old} | {t["key"] for t in transitions})
        if not key or form.get(f"{prefix}-delete"):
            continue
        if not keys.DEFINITION.match(key):
            problems.append(
                _(
                    "Transition %(label)s, key %(key)s: %(why)s",
                    label=label or key,
                    key=key,
                    why=BAD_KEY,
                )
            )
            continue
        spec.update(
            key=key,
            label=label or key,
            to=form.get(f"{prefix}-to", ""),
        )
        spec["from"] = _in_old_order(form.getlist(f"{prefix}-from"), spec.get("from", []))
        spec["roles"] = _in_old_order(form.getlist(f"{prefix}-roles"), spec.get("roles", []))
        guard = conditions.posted(form, f"guard{i - 1}", fields, spec.get("guard"), context=context)
        spec.pop("guard", None)
        if guard is not None:
            spec["guard"] = guard
        apply_extras(spec, form, i - 1, body, context)
        spec.pop("decision", None)
        if form.get(f"{prefix}-decision", "").strip():
            spec["decision"] = form[f"{prefix}-decision"].strip()
        sets = posted_sets(form, prefix, _first(spec.get("effects", []), "set") or {}, body)
        effects = _effects(list(spec.get("effects", [])), form, prefix, sets)
        spec.pop("effects", None)
        if effects:
            spec["effects"] = effects
        transitions.append(spec)
    workflow["transitions"] = transitions
    old_create = list(workflow.get("on_create", []))
    sets = posted_sets(form, "oc", _first(old_create, "set") or {}, body)
    on_create = _effects(old_create, form, "oc", sets)
    workflow.pop("on_create", None)
    if on_create:
        workflow["on_create"] = on_create
    settings.apply_resolved(workflow, form)
    settings.apply_live_board(body, form)
    body.pop("title", None)
    title = settings.posted_title(form, old_title)
    if title is not None:
        body["title"] = title
    for old_key, new_key in renames.items():
        settings.rename_state(body, old_key, new_key)
    return problems


BAD_KEY = _l("use lower-case letters, digits, - and _, starting with a letter (or leave it empty)")
DAY_WORDS = {0: _l("today"), 1: _l("tomorrow"), 2: _l("the day after tomorrow")}


def deadline_example(
    definition: Any,
    body: Mapping[str, Any],
    spec: Mapping[str, Any],
    hours: Any,
    table: Mapping[str, Any] | None = None,
) -> str:
    """ "今天 17:37 召集 → 明天 13:00 到期": a deadline of ``hours`` on the calendar it runs on."""
    if not isinstance(hours, int | float) or isinstance(hours, bool):
        return ""
    found = example(definition.id, body, spec, hours, now=clock.now(), table=table)
    if found is None:
        return ""
    start, due = found
    days = (due.date() - start.date()).days
    day = DAY_WORDS.get(days) or _("in %(n)s days", n=days)
    return _(
        "e.g. set %(start)s today → due %(day)s %(due)s",
        start=start.strftime("%H:%M"),
        day=day,
        due=due.strftime("%H:%M"),
    )


def condition_context(body: Mapping[str, Any], where: str) -> list[FieldRow]:
    """What this type's conditions may read besides the answers (engine/authoring/design_context.py)."""
    kinds = body.get("node_kinds") or ["compound"]
    return context_rows(pack_roles(), kinds, where=where, profile_schema=profile_schema_for(kinds))


def _apply_gate(spec: dict[str, Any], role: str) -> None:
    """A state's gate (先议先审) from its posted role: unchanged when the role is the gate's
    first (a gate of several roles, written in the JSON view, keeps them), else replaced."""
    old = spec.pop("gate", None)
    if not role:
        return
    if isinstance(old, dict) and (old.get("roles") or [None])[0] == role:
        spec["gate"] = old
    else:
        spec["gate"] = {**(old if isinstance(old, dict) else {}), "roles": [role]}


def workflow_context(key: str, body: dict[str, Any]) -> dict[str, Any]:
    definition = designer.definition_of(key)
    workflow = body.get("workflow") or {"states": {}, "transitions": []}
    transitions = workflow.get("transitions", [])
    fields = rows_from_schema(body.get("schema") or {}).rows
    context = condition_context(body, "move")
    roles = {**pack_roles(), "raiser": _("the raiser"), "assignee": _("a summoned unit")}
    blank = {"key": "", "label": "", "from": [], "to": "", "roles": []}
    findings = graph_findings(workflow, known_roles())
    labels = {
        **{k: (v or {}).get("label", k) for k, v in workflow.get("states", {}).items()},
        **{t.get("key"): t.get("label", t.get("key")) for t in transitions},
    }
    return {
        "examples": {
            k: deadline_example(definition, body, v or {}, (v or {}).get("hours"))
            for k, v in workflow.get("states", {}).items()
        },
        "diagram": workflow_svg(
            workflow,
            [f.subject for f in findings if f.kind != "nobody"],
            title=_("Workflow of %(name)s", name=body.get("name", key)),
        ),
        "warnings": [
            {
                "kind": f.kind,
                "path": f.path,
                "message": FINDING_WORDS[f.kind]
                % {"subject": f"{labels.get(f.subject, f.subject)} ({f.subject})"},
            }
            for f in findings
        ],
        "workflow": workflow,
        "states": workflow.get("states", {}),
        "fields": fields,
        "transitions": [*transitions, blank, blank],
        "roles": roles,
        "pack_roles": pack_roles(),
        "notify_roles": roles,
        "tables": [
            (k, (v or {}).get("label") or k) for k, v in (body.get("routing") or {}).items()
        ],
        "guards": [
            conditions.editor(f"guard{i}", t.get("guard"), context=context)
            for i, t in enumerate([*transitions, blank, blank])
        ],
        "condition_fields": [*fields, *context],
        "first": _first,
        "on_create": workflow.get("on_create", []),
        "oc_sets": set_rows(_first(workflow.get("on_create", []), "set") or {}),
        "set_targets": set_targets(body),
        "resolved": (
            workflow["resolved_states"]
            if workflow.get("resolved_states") is not None
            else settings.default_resolved(workflow.get("states", {}))
        ),
        "title_rows": settings.title_rows(body.get("title"))[0],
        "title_shown": settings.title_rows(body.get("title"))[1],
        "pseudo": PSEUDO_ROLES,
        "extras": [
            extras_context(body, t, i, context) for i, t in enumerate([*transitions, blank, blank])
        ],
    }


@bp.route("/<key>/workflow", methods=["GET", "POST"])
@requires("design")
def workflow(key: str) -> Any:
    definition = designer.definition_of(key)
    body = designer.draft_of(definition)
    problems: list[str] = []
    if request.method == "POST":
        try:
            problems = apply_workflow(body, request.form)
        except conditions.BadValue as exc:
            problems = [str(exc)]
        if not problems:
            designer.save_draft(g.actor.user, key, body, now=clock.now())
            return redirect(url_for("designer.workflow", key=key), 303)
    return render_template(
        "designer/workflow.html",
        **tabs_context(definition),
        body=body,
        form_problems=problems,
        **workflow_context(key, body),
    ), (422 if problems else 200)


def apply_routing(body: dict[str, Any], form: MultiDict[str, str]) -> list[str]:
    """Apply the posted routing form to ``body``; returns problems with the form itself."""
    routing = body.setdefault("routing", {})
    fields = rows_from_schema(body.get("schema") or {}).rows
    context = condition_context(body, "raise")
    problems: list[str] = []
    out: dict[str, Any] = {}
    for t, (name, table) in enumerate(list(routing.items())):
        if form.get(f"t{t}-delete"):
            continue
        table = dict(table)
        table["hit_policy"] = "first" if form.get(f"t{t}-policy") == "first" else "collect"
        label = form.get(f"t{t}-label", "").strip()
        if label and label != (table.get("label") or name):  # (the key stands in for none)
            table["label"] = label
        rules = []
        old = table.get("rules", [])
        i = 0
        while f"t{t}-r{i}-key" in form:
            prefix = f"t{t}-r{i}"
            spec = dict(old[i]) if i < len(old) else {}
            i += 1
            rule_key = form.get(f"{prefix}-key", "").strip()
            label = form.get(f"{prefix}-label", "").strip()
            if not rule_key and label:
                rule_key = keys.derive(
                    label, {r.get("key") for r in old} | {r["key"] for r in rules}
                )
            if not rule_key or form.get(f"{prefix}-delete"):
                continue
            if not keys.DEFINITION.match(rule_key):
                problems.append(
                    _(
                        "Rule %(label)s, key %(key)s: %(why)s",
                        label=label or rule_key,
                        key=rule_key,
                        why=BAD_KEY,
                    )
                )
                continue
            when = conditions.posted(
                form, f"{prefix}-when", fields, spec.get("when"), context=context
            )
            spec.update(
                key=rule_key,
                when=True if when is None else when,
                summon=_units(form.getlist(f"{prefix}-summon")),
            )
            spec.pop("label", None)
            if label:
                spec["label"] = label
            spec.pop("calendar", None)
            if form.get(f"{prefix}-calendar") == "natural":
                spec["calendar"] = "natural"
            for number in ("report_hours", "handle_hours", "priority"):
                value = _number(form.get(f"{prefix}-{number}"))
                spec.pop(number, None)
                if value is not None:
                    spec[number] = int(value) if number == "priority" else value
            rules.append(spec)
        table["rules"] = rules
        default = _units(form.getlist(f"t{t}-default"))
        # An explicit empty default (summon only when a rule holds) stays written.
        if default or "default" in table:
            table["default"] = default
        out[name] = table
    new = form.get("new-table", "").strip()
    if new:
        key = new if keys.DEFINITION.match(new) else keys.derive(new, set(routing) | set(out))
        if key in out:
            return [_("Routing table %(name)s: a table of that name exists.", name=new)]
        out[key] = {"label": new, "hit_policy": "collect", "rules": []}
    body["routing"] = out
    return problems


def _units(values: list[str]) -> list[dict[str, str]]:
    return [
        {"role": v[5:]} if v.startswith("role:") else {"unit": v[5:]} for v in values if ":" in v
    ]


@bp.route("/<key>/routing", methods=["GET", "POST"])
@requires("design")
def routing(key: str) -> Any:
    definition = designer.definition_of(key)
    body = designer.draft_of(definition)
    problems: list[str] = []
    if request.method == "POST":
        try:
            problems = apply_routing(body, request.form)
        except conditions.BadValue as exc:
            problems = [str(exc)]
        if not problems:
            designer.save_draft(g.actor.user, key, body, now=clock.now())
            return redirect(url_for("designer.routing", key=key), 303)
        body = designer.draft_of(definition)  # shown as saved; the message says what was wrong
    tables = []
    context = condition_context(body, "raise")
    blank = {"key": "", "when": None, "summon": []}
    for t, (name, table) in enumerate((body.get("routing") or {}).items()):
        rules = [*table.get("rules", []), blank]
        tables.append(
            {
                "name": name,
                "label": table.get("label") or name,
                "index": t,
                "table": table,
                "rules": [
                    {
                        "spec": r,
                        "example": deadline_example(
                            definition,
                            body,
                            r,
                            r.get("report_hours", table.get("report_hours")),
                            table,
                        ),
                        "when": conditions.editor(
                            f"t{t}-r{i}-when",
                            None if r["when"] is True else r["when"],
                            context=context,
                        ),
                        "chosen": {
                            ("role:" + u["role"]) if "role" in u else ("unit:" + u.get("unit", ""))
                            for u in r.get("summon", [])
                        },
                    }
                    for i, r in enumerate(rules)
                ],
                "default": {
                    ("role:" + u["role"]) if "role" in u else ("unit:" + u.get("unit", ""))
                    for u in table.get("default", [])
                },
            }
        )
    units = [(f"unit:{k}", n) for k, n in departments()] + [
        (f"role:{k}", _("%(role)s of the compound", role=label))
        for k, label in pack_roles().items()
    ]
    from pages.designer.tryit import tryit_context

    return render_template(
        "designer/routing.html",
        **tabs_context(definition),
        tables=tables,
        units=units,
        fields=[*rows_from_schema(body.get("schema") or {}).rows, *context],
        form_problems=problems,
        **tryit_context(body, None),
    ), (422 if problems else 200)

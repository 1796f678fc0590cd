"""Publish the draft, the version history with diffs and republishing, and the JSON view."""

from __future__ import annotations

import json
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.authoring import designer, evolve, kpi_rollover
from engine.authoring.changes import changes
from engine.core import clock, limits
from engine.core.errors import Conflict, FieldProblem, Invalid, ServiceError
from engine.definitions.checks import definition_problems
from engine.definitions.definitions import current_version, known_role_labels, known_units
from engine.store.models import DefinitionVersion, Item
from pages.auth import requires
from pages.designer import bp, departments, pack_roles, tabs_context
from pages.designer.locate import located


def readable(definition: Any, a: str, b: str) -> list[Any]:
    """The changes from body ``a`` to body ``b`` (``draft`` or a version number) in words."""
    units = {**dict(departments()), **pack_roles()}
    return changes(designer.body_at(definition, a), designer.body_at(definition, b), units=units)


def _problems(key: str, body: dict[str, Any]) -> list[dict[str, str]]:
    return located(
        key, definition_problems(body, roles=known_role_labels(), units=known_units()), body
    )


def _mapping_context(
    definition: Any, body: dict[str, Any], mapping: dict[str, str]
) -> dict[str, Any]:
    """The removed states that hold open items, with the states they may move to."""
    stranded = evolve.stranded_states(definition, body)
    old = (
        (current_version(definition).body.get("workflow") or {}).get("states", {})
        if stranded
        else {}
    )
    targets = evolve.mapping_targets(body)
    labels = {s: (old.get(s) or {}).get("label", s) for s in stranded}
    new_states = (body.get("workflow") or {}).get("states") or {}
    proposed = dict(mapping)
    for state in stranded:  # a renamed state: the new state with its label
        same = [k for k in targets if (new_states.get(k) or {}).get("label") == labels[state]]
        if state not in proposed and len(same) == 1:
            proposed[state] = same[0]
    return {
        "stranded": stranded,
        "targets": targets,
        "mapping": proposed,
        "old_labels": labels,
    }


@bp.route("/<key>/publish", methods=["GET", "POST"])
@requires("design")
def publish(key: str) -> Any:
    definition = designer.definition_of(key)
    body = designer.draft_of(definition)
    mapping = {k[4:]: v for k, v in request.form.items() if k.startswith("map-") and v}
    if request.method == "POST":
        try:
            version = designer.publish_draft(g.actor.user, key, now=clock.now(), mapping=mapping)
        except (Invalid, Conflict) as exc:
            fields = exc.fields if isinstance(exc, Invalid) else []
            blocking = [f for f in fields if f not in designer.stranded(definition, body, mapping)]
            return render_template(
                "designer/publish.html",
                **tabs_context(definition),
                problems=located(key, fields, body),
                diff=[],
                refused=bool(blocking),
                blocking=blocking,
                conflict=str(exc) if isinstance(exc, Conflict) else "",
                **_mapping_context(definition, body, mapping),
            ), 422
        moved = Item.select().where(Item.version == version).count() if mapping else 0
        flash(
            _("Published as version %(n)s.", n=version.number)
            + (" " + _("%(n)s item(s) moved to it by the mapping.", n=moved) if moved else "")
        )
        return redirect(url_for("designer.history", key=key), 303)
    diff = designer.diff(definition, str(definition.current), "draft") if definition.current else []
    words = readable(definition, str(definition.current), "draft") if definition.current else []
    problems = _problems(key, body)
    return render_template(
        "designer/publish.html",
        **tabs_context(definition),
        problems=problems,
        blocking=problems,
        diff=diff,
        changes=words,
        refused=False,
        conflict="",
        **_mapping_context(definition, body, {}),
    )


@bp.route("/<key>/history")
@requires("design")
def history(key: str) -> Any:
    definition = designer.definition_of(key)
    versions = list(definition.versions.order_by(DefinitionVersion.number.desc()))
    a, b = request.args.get("a", ""), request.args.get("b", "")
    if not (a and b) and definition.current:
        # By default: this draft against the published version (else the last two versions).
        if designer.has_changes(definition):
            a, b = str(definition.current), "draft"
        elif len(versions) > 1:
            a, b = str(versions[1].number), str(versions[0].number)
    diff: list[str] | None = None
    words: list[Any] = []
    if a and b:
        diff = designer.diff(definition, a, b)
        words = readable(definition, a, b)
    return render_template(
        "designer/history.html",
        **tabs_context(definition),
        versions=versions,
        a=a,
        b=b,
        diff=diff,
        changes=words,
        rollover_year=_rollover_year(definition),
    )


def _rollover_year(definition: Any) -> int | None:
    """The year a yearly KPI list would roll over to (None for any other definition)."""
    if definition.kind != "checklist" or not definition.current:
        return None
    body = current_version(definition).body
    year = (body.get("period") or {}).get("year")
    if body.get("list_kind") != "kpi" or not isinstance(year, int):
        return None
    return max(year + 1, clock.local(clock.now()).year)


@bp.route("/<key>/republish/<int:number>", methods=["POST"])
@requires("design")
def republish(key: str, number: int) -> Any:
    definition = designer.definition_of(key)
    try:
        version = designer.republish(g.actor.user, key, number, now=clock.now())
    except (Invalid, Conflict) as exc:
        body = designer.body_at(definition, str(number))
        problems = located(key, exc.fields, body) or [
            {"path": "", "message": exc.message, "link": "", "what": ""}
        ]
        return render_template(
            "designer/publish.html",
            **tabs_context(definition),
            problems=problems,
            diff=[],
            refused=True,
        ), exc.status
    flash(_("Version %(old)s was published again as version %(n)s.", old=number, n=version.number))
    return redirect(url_for("designer.history", key=key), 303)


@bp.route("/<key>/discard", methods=["POST"])
@requires("design")
def discard(key: str) -> Any:
    designer.discard_draft(g.actor.user, key, now=clock.now())
    flash(_("The draft was discarded."))
    return redirect(url_for("designer.publish", key=key), 303)


@bp.route("/<key>/json", methods=["GET", "POST"])
@requires("design")
def json_view(key: str) -> Any:
    """The whole draft as JSON: saved when it parses and keeps its key and kind."""
    definition = designer.definition_of(key)
    error = ""
    status = 200
    if request.method == "POST":
        # Read before the stored draft: a draft too deep to show can still be replaced.
        text = request.form.get("body", "")
        try:
            body = json.loads(text)
            if not designer.may_edit(g.actor, body):
                raise Invalid(
                    "scope",
                    [FieldProblem("/scope", _("You may edit only definitions of your own scope."))],
                )
            designer.save_draft(g.actor.user, key, body, now=clock.now())  # refuses one too deep
        except json.JSONDecodeError as exc:
            error, status = (
                _(
                    "Not valid JSON: line %(line)s, column %(col)s: %(msg)s",
                    line=exc.lineno,
                    col=exc.colno,
                    msg=exc.msg,
                ),
                422,
            )
        except RecursionError:
            error, status = limits.nested_too_deep(), 422
        except Invalid as exc:
            error, status = (
                "; ".join(f"{p.path}: {p.message}" for p in exc.fields) or exc.message,
                422,
            )
        else:
            flash(_("The draft was saved."))
            return redirect(url_for("designer.json_view", key=key), 303)
    else:
        text = json.dumps(designer.draft_of(definition), ensure_ascii=False, indent=2)
    problems = [] if error else _problems(key, designer.draft_of(definition))
    from pages.designer.schedule import SCHEDULES, schedule_of

    return render_template(
        "designer/json.html",
        **tabs_context(definition),
        text=text,
        error=error,
        problems=problems,
        schedule=schedule_of(designer.draft_of(definition)),
        schedules=SCHEDULES,
    ), status


@bp.route("/<key>/rollover", methods=["POST"])
@requires("design")
def rollover(key: str) -> Any:
    """Draft a yearly KPI list rolled over to a new year (its deadlines moved, its targets
    copied), then review and publish it; the old list stays with its reports."""
    designer.definition_of(key)  # 404 for an unknown key; the blueprint checks the scope
    try:
        year = int(request.form.get("year", ""))
    except ValueError:
        flash(_("Year: please enter a year such as 2026."), "error")
        return redirect(url_for("designer.history", key=key), 303)
    try:
        created = kpi_rollover.rollover(g.actor.user, key, year, now=clock.now())
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("designer.history", key=key), 303)
    flash(_("Drafted %(name)s: check its targets, then publish it.", name=created.name))
    return redirect(url_for("designer.publish", key=created.key), 303)

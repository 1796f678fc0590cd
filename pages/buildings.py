"""/lists/c/<compound>/buildings — who is in charge of each building (一名党员一幢楼,
楼栋长): the compound's party organisation and commissioner assign, supervisors read
(names and phones masked); /lists/buildings — the coverage of each compound in reach."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.core import clock
from engine.core.errors import Conflict, Invalid, NotFound
from engine.org.permissions import can
from engine.records import buildings
from engine.store.models import OrgNode
from engine.trail.privacy import mask
from pages.auth import requires
from pages.checklists import bp
from pages.extensions import htmx


def _compound(key: str) -> tuple[OrgNode, buildings.Roster]:
    node = OrgNode.get_or_none((OrgNode.key == key) & (OrgNode.kind == "compound"))
    if node is None or not buildings.may_view(g.actor, node):
        abort(404)
    roster = buildings.roster_for(node)
    if roster is None:
        abort(404)
    return node, roster


def _shown(editing: bool) -> Any:
    """What a reader sees of a name or phone: all of it to who assigns, masked to others."""
    return (lambda v, kind="text": v) if editing else mask


def _context(node: OrgNode, roster: buildings.Roster, rows: list[OrgNode]) -> dict[str, Any]:
    editing = buildings.may_edit(g.actor, node)
    names = {
        r.key: sorted({str(b.profile.get(r.key)) for b in rows if (b.profile or {}).get(r.key)})
        for r in roster.roles
    }
    return {
        "node": node,
        "roster": roster,
        "rows": rows,
        "editing": editing,
        "shown": _shown(editing),
        "names": names if editing else {},
        "cover": buildings.coverage(roster, [b.profile or {} for b in rows]),
        "errors": {},
        "answers": {},
        "saved": None,
        "conflict": None,
    }


@bp.route("/c/<key>/buildings")
@requires("roster.view")
def buildings_page(key: str) -> Any:
    node, roster = _compound(key)
    return render_template(
        "lists/buildings.html", **_context(node, roster, buildings.buildings_of(node))
    )


@bp.route("/c/<key>/buildings/<building>", methods=["POST"])
@requires("roster.edit")
def building_save(key: str, building: str) -> Any:
    """Save one building's people; HTMX gets the building's form back and the coverage."""
    node, roster = _compound(key)
    if not buildings.may_edit(g.actor, node):
        abort(403)
    status, errors, conflict, saved = 200, {}, None, None
    try:
        buildings.assign(
            g.actor,
            node,
            building,
            request.form,
            expected=request.form.get("lock", type=int),
            now=clock.now(),
        )
        saved = building
    except NotFound:
        abort(404)
    except Invalid as exc:
        status, errors = 422, {p.path: p.message for p in exc.fields}
    except Conflict as exc:
        status, conflict = 409, exc.message
    if not htmx and status == 200:
        flash(_("Saved."))
        return redirect(url_for("lists.buildings_page", key=key), 303)
    rows = buildings.buildings_of(node)
    context = _context(node, roster, rows)
    context.update(errors=errors, conflict=conflict, saved=saved)
    if status != 200:
        context["answers"] = request.form
    if not htmx:
        return render_template("lists/buildings.html", **context), status
    row = next((b for b in rows if b.key == building), None)
    if row is None:
        abort(404)
    return render_template("lists/_building_saved.html", b=row, **context), status


@bp.route("/buildings")
@requires("roster.view")
def buildings_overview() -> Any:
    """The coverage of every compound in the reader's reach, by street."""
    roster = buildings.roster_for("compound")
    if roster is None:
        abort(404)
    within = None
    if request.args.get("within"):
        within = OrgNode.get_or_none(OrgNode.key == request.args["within"])
        if within is None:
            abort(404)
    rows = buildings.compounds_coverage(g.actor, roster, within)
    above = {int(p) for c, _cover in rows for p in c.path.strip("/").split("/") if p}
    streets = {
        n.id: n
        for n in OrgNode.select(OrgNode.id, OrgNode.name, OrgNode.key).where(
            OrgNode.id.in_(above) & (OrgNode.kind == "street")
        )
    }
    street_of = {
        c.id: next(
            (streets[int(p)] for p in c.path.strip("/").split("/") if p and int(p) in streets), None
        )
        for c, _cover in rows
    }
    return render_template(
        "lists/buildings_overview.html",
        roster=roster,
        rows=rows,
        street_of=street_of,
        within=within,
        may_edit=lambda c: can(g.actor, "roster.edit", c),
    )

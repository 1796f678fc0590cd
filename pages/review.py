"""/review — supervisors: what is open and overdue, by street, community and compound."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template, request

from engine import clock, overview
from engine.models import OrgNode
from pages.auth import roles_required

bp = Blueprint("review", __name__, url_prefix="/review")


@bp.route("/")
@roles_required("supervisor", "admin")
def index() -> Any:
    now = clock.now()
    grants = [x for x in g.actor.grants if x.role in ("supervisor", "admin")]
    wanted = request.args.get("node")
    roots = [OrgNode.get_by_id(x.node_id) for x in grants]
    parent = next((n for n in roots if n.key == wanted), None)
    if parent is None and wanted:
        candidate = OrgNode.get_or_none(OrgNode.key == wanted)
        if candidate and any(candidate.path.startswith(r.path) for r in roots):
            parent = candidate
    parent = parent or roots[0]
    return render_template(
        "review/index.html", parent=parent, now=now,
        rows=overview.counts_by_child(g.actor, parent, now=now),
        overdue=overview.overdue_items(g.actor, now=now),
        totals=overview.totals(g.actor, now=now),
    )

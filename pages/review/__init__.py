"""/review — supervisors: what is open and overdue, urging (督办), re-routing, reassigning,
and the evaluation of departments (履职评价)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, render_template, request

from engine.core import clock
from engine.org import permissions
from engine.org.scope import sees_everything
from engine.store.models import OrgNode
from engine.supervision import overview
from pages.auth import requires
from pages.links import VARY, url_pattern

bp = Blueprint("review", __name__, url_prefix="/review")
SUPERVISORS = permissions.roles_of("supervise")


def supervised_roots() -> list[OrgNode]:
    """The nodes the current actor supervises from."""
    return [OrgNode.get_by_id(x.node_id) for x in g.actor.grants if x.role in SUPERVISORS]


def chosen_node(wanted: str | None) -> OrgNode | None:
    """The node named ``wanted`` if it lies inside what the actor supervises."""
    if not wanted:
        return None
    candidate = OrgNode.get_or_none(OrgNode.key == wanted)
    if candidate and any(
        candidate.path.startswith(x.node_path) for x in g.actor.grants if x.role in SUPERVISORS
    ):
        return candidate
    return None


def _supervises(node: OrgNode) -> bool:
    return any(node.path.startswith(x.node_path) for x in g.actor.grants if x.role in SUPERVISORS)


# The overdue items the home page lists, longest overdue first; the overdue board has the
# rest (the page listed a hundred and said nothing of the others).
OVERDUE_SHOWN = 20


@bp.route("/")
@requires("supervise")
def index() -> Any:
    now = clock.now()
    parent, children, roots = None, [], []
    wanted = request.args.get("node")
    if wanted:  # the node, its children and the roots in one query, as ``chosen_node``
        parent, children, roots = overview.node_with_children_and_roots(key=wanted)
        if parent is not None and not _supervises(parent):
            parent = None
    if parent is None:
        root = next(x for x in g.actor.grants if x.role in SUPERVISORS)
        parent, children, roots = overview.node_with_children_and_roots(node_id=root.node_id)
        assert parent is not None
    rows, totals = overview.summary(
        g.actor,
        parent,
        now=now,
        children=children,
        roots=roots,
        medians_max_age=float(current_app.config["STATISTICS_MAX_AGE"]),
    )
    return render_template(
        "review/index.html",
        parent=parent,
        now=now,
        rows=_child_rows(rows),
        overdue=_overdue_rows(
            overview.overdue_items(
                g.actor,
                now=now,
                everything=sees_everything(g.actor, roots),
                limit=OVERDUE_SHOWN,
            )
        ),
        totals=totals,
    )


def _child_rows(rows: list[overview.NodeCounts]) -> list[tuple[Any, ...]]:
    """The table by unit's cells (link, name, items, open, overdue, rate, median hours),
    worked out here rather than read attribute by attribute through Jinja."""
    link = url_pattern("review.index", node=VARY)
    return [
        (link(node=r.node.key), r.node.name, r.total, r.open, r.overdue)
        + (r.resolution_rate, r.median_hours)
        for r in rows
    ]


def _overdue_rows(items: list[overview.OverdueItem]) -> list[tuple[Any, ...]]:
    """The overdue list's cells (id, link, title, node, deadline), worked out here: the
    template called the link builder and the time filter and read five attributes per
    row through Jinja, for up to a hundred rows."""
    link = url_pattern("work.item", item_id=VARY)
    local = current_app.jinja_env.filters["localtime"]
    return [(o.id, link(item_id=o.id), o.title, o.node_name, local(o.due_at)) for o in items]


from pages.review import (  # noqa: F401 - register their routes
    actions,
    board,
    dashboards,
    evaluation,
    live,
    trends,
)

"""/review dashboards: district, street, community and compound (a commissioner may open
their compound's), with radar and ranking charts and Excel exports of every table."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, g, redirect, render_template, request, url_for

from engine.core import clock
from engine.metrics import dashboard as boards
from engine.metrics import facts
from engine.org.scope import evidence_items, may_review, review_roots
from engine.org.shown import nodes_by_key
from engine.store.models import Item, OrgNode
from pages import charts, dashboards, xlsx
from pages.auth import requires
from pages.guards import page_arg
from pages.review import bp, trends

EVIDENCE_FILTERS = ("all", "open", "overdue", "unresolved", "reopened", "unsatisfied")
# Items a page of the list behind an indicator shows (newest first, the overdue ones longest
# overdue first), with a link to the next page (it listed the first 200 and said nothing of
# the rest: a street's overdue items at a million are thousands).
EVIDENCE_PAGE = 50
EVIDENCE_COLUMNS = (
    Item.id,
    Item.title,
    Item.state,
    Item.version,
    Item.closed,
    Item.raised_at,
    Item.due_at,
)


def _reviewable(key: str) -> OrgNode:
    node = nodes_by_key([key]).get(key)  # the request keeps it for the page's other keys
    if node is None or not may_review(g.actor, node):
        abort(404)
    return node


@bp.route("/dashboards")
@requires("dashboards")
def dashboards_home() -> Any:
    roots = review_roots(g.actor)
    if not roots:
        abort(403)
    return redirect(url_for("review.dashboard", key=roots[0].key), 303)


@bp.route("/n/<key>")
@requires("dashboards")
def dashboard(key: str) -> Any:
    node = _reviewable(key)
    now = clock.now()
    board = boards.build(g.actor, node, now=now, kpi_key=request.args.get("kpi") or None)
    nodes_by_key(list(node.keys)[:-1] + dashboards.lead_keys(board))  # one query for both
    found = dashboards.tables(board)
    ranked = sorted(board.children, key=lambda r: r.rank or 10**6)
    return render_template(
        "review/dashboard.html",
        board=board,
        node=node,
        tables=found,
        kpi_key=board.kpi[0][0].body["key"] if board.kpi else None,
        period_label=dashboards.period_label,
        profile_labels=_profile_labels(),
        ancestors=[n for n in _ancestors(node) if may_review(g.actor, n)],
        radar=charts.radar(dashboards.radar_axes(board), title=node.name)
        if node.kind == "compound"
        else None,
        ranking=charts.bars([(r.node.name, r.score) for r in ranked], title=node.name)
        if ranked
        else None,
        trend=charts.sparkline([s.score for s in board.trend]) if len(board.trend) > 1 else None,
        yearly=trends.yearly_types(),
        snapshot_rows=dashboards.snapshot_rows,
        yearly_lines=dashboards.yearly_lines,
        now=now,
    )


def _profile_labels() -> dict[str, str]:
    # The compound file's facts as the pack names them: schema titles, then derived facts.
    declared = facts.file_facts()
    return declared.labels() if declared is not None else {}


def _ancestors(node: OrgNode) -> list[OrgNode]:
    keys = list(node.keys)[:-1]
    by_key = nodes_by_key(keys)
    return [by_key[k] for k in keys if k in by_key]


@bp.route("/n/<key>/export/<table>.xlsx")
@requires("dashboards")
def export(key: str, table: str) -> Any:
    node = _reviewable(key)
    board = boards.build(g.actor, node, now=clock.now(), kpi_key=request.args.get("kpi") or None)
    found = dashboards.tables(board)
    if table not in found:
        abort(404)
    chosen = found[table]
    body = xlsx.workbook(str(chosen.title), [str(h) for h in chosen.headers], chosen.plain_rows())
    return Response(
        body,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{node.key}-{table}.xlsx"'},
    )


@bp.route("/n/<key>/items")
@requires("dashboards")
def evidence(key: str) -> Any:
    node = _reviewable(key)
    wanted = request.args.get("filter", "all")
    if wanted not in EVIDENCE_FILTERS:
        abort(404)
    page = page_arg(EVIDENCE_PAGE)
    type_key = request.args.get("type") or None
    now = clock.now()
    items = evidence_items(g.actor, node, filter=wanted, type_key=type_key, now=now)
    # Only what the list shows (the answers, files and routing record are decoded per row
    # otherwise); the state's label comes from the version's cached runtime.
    shown, more = page.split(
        list(items.select(*EVIDENCE_COLUMNS).limit(page.limit).offset(page.offset))
    )
    return render_template(
        "review/evidence.html",
        node=node,
        items=shown,
        filter=wanted,
        type_key=type_key,
        page=page.number,
        more=more,
        now=now,
    )

"""/review dashboards: district, street, community and compound (a commissioner may open
their compound's), with radar and ranking charts and Excel exports of every table."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, abort, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from markupsafe import Markup

from engine.core import clock
from engine.definitions.definitions import current_versions
from engine.definitions.runtimes import runtime
from engine.metrics import dashboard as boards
from engine.metrics import facts
from engine.org.scope import evidence_items, may_review, review_roots
from engine.org.shown import nodes_by_key
from engine.store import fetched
from engine.store.models import Item, OrgNode
from pages import charts, dashboards, xlsx
from pages.auth import requires
from pages.extensions import localtime
from pages.guards import page_arg
from pages.links import id_url
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
    kpi_key = request.args.get("kpi") or None
    board = boards.build(g.actor, node, now=now, kpi_key=kpi_key)
    lead = nodes_by_key(list(node.keys)[:-1] + dashboards.lead_keys(board))  # one query for both
    yearly = trends.yearly_types()
    profile_labels = _profile_labels()
    body = _BODIES.build_once(
        (node.id, str(get_locale()), kpi_key),
        _body_inputs(board, now, yearly, profile_labels, lead),
        lambda: _body(board, node, now, yearly, profile_labels),
    )
    return render_template(
        "review/dashboard.html",
        board=board,
        node=node,
        body=body,
        ancestors=[n for n in _ancestors(node) if may_review(g.actor, n)],
    )


# Each node's dashboard body (below its heading and the figures' age), kept with everything
# it was rendered from (``_body_inputs``) and served again while that is equal: a district's
# body is some five hundred cells and three charts, most of the page's time, and changes
# only when the facts are refreshed, a snapshot is taken, a report is made, a definition or
# the org tree changes, or the day does. Per process, at most ``BODIES_KEPT`` bodies.
BODIES_KEPT = 256
_BODIES = fetched.Shelf(BODIES_KEPT)
_KINDS = ("index", "checklist", "profile", "item_type", "directory")


def _body_inputs(
    board: boards.Dashboard,
    now: dt.datetime,
    yearly: list[Any],
    profile_labels: dict[str, str],
    lead: dict[str, OrgNode],
) -> tuple[Any, ...]:
    """What the body of ``board`` is rendered from (beside its key: node, language and KPI
    list), to compare whole: the facts documents as the same objects while their stored
    text is the same (``facts._parsed``), nodes by their names and paths (a model compares
    by id alone), versions by id and digest."""
    node = board.node
    today = clock.local(now)
    return (
        today.date() if today is not None else None,  # the snapshots' "today", KPI states
        (node.key, node.name, node.kind, node.path),
        [(c.node.key, c.node.name, c.node.path, c.facts, c.score, c.rank) for c in board.children],
        board.facts,
        _versions([board.index] if board.index else []),
        board.score,
        board.rank,
        board.pulls_down,
        board.trend,
        [(_versions([v]), statuses, counts) for v, statuses, counts in board.kpi],
        board.kpi_reports,
        [(_versions([v]), state, counts) for v, state, counts in board.kpi_lists],
        board.kpi_frozen_at,
        board.usage,
        _versions(yearly),
        profile_labels,
        [(k, n.name) for k, n in lead.items()],
        [_versions(current_versions(kind, by_key=True)) for kind in _KINDS],
    )


def _versions(versions: list[Any]) -> list[tuple[int, str]]:
    return [(v.id, v.digest) for v in versions]


def _body(
    board: boards.Dashboard,
    node: OrgNode,
    now: dt.datetime,
    yearly: list[Any],
    profile_labels: dict[str, str],
) -> Markup:
    """The dashboard's body: its figures, charts, tables, snapshots and compound file."""
    ranked = sorted(board.children, key=lambda r: r.rank or 10**6)
    return Markup(
        render_template(
            "review/_dashboard_body.html",
            board=board,
            node=node,
            tables=dashboards.tables(board),
            kpi_key=board.kpi[0][0].body["key"] if board.kpi else None,
            period_label=dashboards.period_label,
            profile_labels=profile_labels,
            radar=charts.radar(dashboards.radar_axes(board), title=node.name)
            if node.kind == "compound"
            else None,
            ranking=charts.bars([(r.node.name, r.score) for r in ranked], title=node.name)
            if ranked
            else None,
            trend=charts.sparkline([s.score for s in board.trend])
            if len(board.trend) > 1
            else None,
            yearly=yearly,
            snapshot_rows=dashboards.snapshot_rows,
            yearly_lines=dashboards.yearly_lines,
            now=now,
        )
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


def evidence_lines(items: list[tuple[Any, ...]], now: dt.datetime) -> list[dict[str, Any]]:
    """What the list shows of each item (``EVIDENCE_COLUMNS``' tuples), worked out here
    rather than by a lookup, a call or a filter per cell of the template."""
    item_url = id_url("work.item", "item_id")
    rows = []
    for item_id, title, state, version_id, closed, raised_at, due_at in items:
        rows.append(
            {
                "id": item_id,
                "url": item_url(item_id),
                "title": title,
                "state": runtime(version_id).state_label(state),
                "raised": localtime(raised_at),
                "deadline": localtime(due_at) if due_at else "–",
                "overdue": bool(due_at and not closed and due_at < now),
            }
        )
    return rows


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
        list(items.select(*EVIDENCE_COLUMNS).limit(page.limit).offset(page.offset).tuples())
    )
    return render_template(
        "review/evidence.html",
        node=node,
        rows=evidence_lines(shown, now),
        filter=wanted,
        type_key=type_key,
        page=page.number,
        more=more,
    )

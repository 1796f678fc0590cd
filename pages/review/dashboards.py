"""/review dashboards: district, street, community and compound (a commissioner may open
their compound's), with radar and ranking charts and Excel exports of every table."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from engine import clock
from engine import dashboard as boards
from engine.models import DefinitionVersion, OrgNode
from engine.queues import attach
from engine.scope import evidence_items, may_review, review_roots
from pages import charts, dashboards, xlsx
from pages.auth import roles_required
from pages.review import bp

EVIDENCE_FILTERS = ("all", "open", "overdue", "unresolved", "reopened", "unsatisfied")


def _reviewable(key: str) -> OrgNode:
    node = OrgNode.get_or_none(OrgNode.key == key)
    if node is None or not may_review(g.actor, node):
        abort(404)
    return node


@bp.route("/dashboards")
@roles_required("supervisor", "admin", "commissioner")
def dashboards_home() -> Any:
    roots = review_roots(g.actor)
    if not roots:
        abort(403)
    return redirect(url_for("review.dashboard", key=roots[0].key), 303)


@bp.route("/n/<key>")
@roles_required("supervisor", "admin", "commissioner")
def dashboard(key: str) -> Any:
    node = _reviewable(key)
    now = clock.now()
    board = boards.build(g.actor, node, now=now)
    found = dashboards.tables(board)
    ranked = sorted(board.children, key=lambda r: r.rank or 10**6)
    return render_template(
        "review/dashboard.html", board=board, node=node, tables=found, profile_labels=PROFILE_LABELS,
        ancestors=[n for n in _ancestors(node) if may_review(g.actor, n)],
        radar=charts.radar(dashboards.radar_axes(board), title=node.name) if node.kind == "compound" else None,
        ranking=charts.bars([(r.node.name, r.score) for r in ranked], title=node.name) if ranked else None,
        trend=charts.sparkline([s.score for s in board.trend]) if len(board.trend) > 1 else None,
    )


def _ancestors(node: OrgNode) -> list[OrgNode]:
    keys = list(node.keys)[:-1]
    by_key = {n.key: n for n in OrgNode.select().where(OrgNode.key.in_(keys))} if keys else {}
    return [by_key[k] for k in keys if k in by_key]


@bp.route("/n/<key>/export/<table>.xlsx")
@roles_required("supervisor", "admin", "commissioner")
def export(key: str, table: str) -> Any:
    node = _reviewable(key)
    found = dashboards.tables(boards.build(g.actor, node, now=clock.now()))
    if table not in found:
        abort(404)
    chosen = found[table]
    body = xlsx.workbook(str(chosen.title), [str(h) for h in chosen.headers], chosen.plain_rows())
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{node.key}-{table}.xlsx"'})


# The compound file's facts (engine/profile_facts.py, docs/facts.md) as the card names them.
PROFILE_LABELS = {
    "has_party_org": _l("Party organisation set up"), "party_org_name": _l("Party organisation"),
    "party_org_type": _l("Party organisation type"), "has_commissioner": _l("Commissioner appointed"),
    "commissioner_name": _l("Commissioner"), "has_service_point": _l("Service point"),
    "committee_type": _l("Owners' organisation"), "has_committee": _l("Owners' committee set up"),
    "committee_members": _l("Committee members"), "committee_party_members": _l("Party members on the committee"),
    "committee_party_ratio": _l("Party-member ratio of the committee (%)"),
    "property_company": _l("Property company"), "has_property_company": _l("Property company in place"),
    "professional_property": _l("Professional property service"), "buildings": _l("Buildings"),
    "building_leader_system": _l("Building-leader system"), "building_leaders": _l("Building leaders"),
    "building_leader_ratio": _l("Buildings with a leader (%)"),
    "party_member_buildings": _l("Buildings with a party member"),
    "party_member_building_rate": _l("One party member per building (%)"), "households": _l("Households"),
    "party_members": _l("Party members"), "in_service_party_members": _l("In-service party members"),
    "in_service_party_members_reported": _l("In-service party members registered"),
    "in_service_report_rate": _l("Registration rate of in-service party members (%)"),
    "fee_collection_rate": _l("Fee collection rate (%)"),
    "finance_disclosure_online": _l("Income and expenditure disclosed online"),
    "evote_declared": _l("E-voting in use"), "property_petitions": _l("Property petitions this year"),
    "property_petitions_last_year": _l("Property petitions last year"),
}


@bp.route("/n/<key>/items")
@roles_required("supervisor", "admin", "commissioner")
def evidence(key: str) -> Any:
    node = _reviewable(key)
    wanted = request.args.get("filter", "all")
    if wanted not in EVIDENCE_FILTERS:
        abort(404)
    now = clock.now()
    items = evidence_items(g.actor, node, filter=wanted, type_key=request.args.get("type") or None, now=now)
    rows = list(items.limit(200))
    attach(rows, "version", DefinitionVersion)  # the state labels
    return render_template("review/evidence.html", node=node, items=rows,
                           filter=wanted, now=now)

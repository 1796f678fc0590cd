"""/work/meetings — deliberation meetings (议事会): convene, minutes, resolutions, outcomes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

import forms
from engine.core import clock
from engine.core.errors import Invalid, ServiceError
from engine.decisions import cadence, common, meetings, opinions
from engine.definitions.definitions import current_versions, preload_current_versions, runtime
from engine.metrics import facts
from engine.store.models import OrgNode
from pages.auth import requires
from pages.extensions import htmx
from pages.guards import int_arg
from pages.itemviews import bind, submit

bp = Blueprint("meetings", __name__, url_prefix="/work")


ACT_KINDS = ("street", "community", "compound")
MAX_PAGE = 100_000  # 5 million meetings deep; keeps the OFFSET a small integer


def nodes_to_act_at() -> list[OrgNode]:
    """The streets, communities and compounds where the actor holds a grant (convene, open),
    in grant order."""
    ids = [x.node_id for x in g.actor.grants if x.node_kind in ACT_KINDS]
    nodes = common.nodes_with_scopes(ids, ("meeting", "opinion"))
    return [nodes[i] for i in dict.fromkeys(ids) if i in nodes]


def cadence_rollups() -> list[dict[str, Any]]:
    """For each area the actor oversees (a district, street or community grant), each cadenced
    meeting's on-time share over the recent periods, from the cached facts (one query)."""
    areas = [x for x in g.actor.grants if x.node_kind in ("district", "street", "community")]
    if not areas:
        return []
    ids = list(dict.fromkeys(x.node_id for x in areas))
    docs = facts.cached_many(ids)
    names = {v.body["key"]: v.body for v in current_versions("meeting")}
    out = []
    for node_id in ids:
        doc = docs.get(node_id) or {}
        by_definition = (doc.get("meetings") or {}).get("by_definition") or {}
        for key, numbers in by_definition.items():
            body = names.get(key)
            if body is None:
                continue
            out.append(
                {
                    "area": (doc.get("node") or {}).get("name", ""),
                    "name": body["name"],
                    "cadence": cadence.cadence_label(cadence.cadence_of(body)),
                    **numbers,
                }
            )
    return out


@bp.route("/decisions")
@requires("decisions")
def index() -> Any:
    """Meetings and opinion collections in reach, and what the actor may start where."""
    now = clock.now()
    page = int_arg("page", 1, minimum=1, maximum=MAX_PAGE)
    cpage = int_arg("cpage", 1, minimum=1, maximum=MAX_PAGE)
    preload_current_versions("meeting", "opinion")
    nodes = nodes_to_act_at()
    starts = [
        (node, meetings.conveners(g.actor, node), opinions.openers(g.actor, node)) for node in nodes
    ]
    return render_template(
        "decisions/index.html",
        statuses=cadence.statuses(nodes, now=now),
        rollups=cadence_rollups(),
        meetings=meetings.meeting_rows_in_reach(g.actor, page=page),
        collections=opinions.collection_rows_in_reach(g.actor, page=cpage),
        page=page,
        cpage=cpage,
        starts=[s for s in starts if s[1] or s[2]],
        now=now,
    )


@bp.route("/meetings/new/<type_key>", methods=["GET", "POST"])
@requires("decisions.edit")
def convene(type_key: str) -> Any:
    node_key = request.values.get("node", "")
    problems: list[Any] = []
    if request.method == "POST":
        fields = {
            "title": request.form.get("title"),
            "held_at": request.form.get("held_at"),
            "place": request.form.get("place"),
            "agenda": request.form.get("agenda"),
            "invited": request.form.getlist("invited"),
        }
        try:
            meeting = meetings.convene(g.actor, type_key, node_key, fields, now=clock.now())
        except Invalid as exc:
            problems = exc.fields
        else:
            flash(_("Meeting convened."))
            return redirect(url_for("meetings.meeting", meeting_id=meeting.id), 303)
    node = next((n for n in nodes_to_act_at() if n.key == node_key), None)
    rt = (
        next((r for r in meetings.conveners(g.actor, node) if r.key == type_key), None)
        if node
        else None
    )
    if rt is None:
        return render_template("error.html", status=404, message=_("Not found."), fields=[]), 404
    return render_template(
        "decisions/convene.html",
        rt=rt,
        node=node,
        problems={p.path: p.message for p in problems},
        values=request.form,
        invited=request.form.getlist("invited")
        if request.method == "POST"
        else rt.body.get("parties", []),
    ), 422 if problems else 200


def meeting_context(
    meeting: Any, bound: Any = None, loose: list[str] | None = None
) -> dict[str, Any]:
    rt = runtime(meeting.version_id)
    recorder = meetings.may_record(g.actor, meeting)
    if recorder and bound is None:
        bound = bind(rt.body["schema"], {"node": {"key": meeting.node.key}}, meeting.minutes or {})
    return {
        "meeting": meeting,
        "rt": rt,
        "specs": forms.field_specs(rt.body["schema"]),
        "resolutions": meetings.resolutions_of(meeting),
        "outcomes": meetings.offered_outcomes(g.actor, meeting),
        "recorder": recorder,
        "bound": bound,
        "loose": loose or [],
    }


@bp.route("/meetings/<int:meeting_id>")
@requires("decisions")
def meeting(meeting_id: int) -> Any:
    found = meetings.get_meeting(g.actor, meeting_id)
    return render_template("decisions/meeting.html", **meeting_context(found))


@bp.route("/meetings/<int:meeting_id>/minutes", methods=["POST"])
@requires("decisions.edit")
def minutes(meeting_id: int) -> Any:
    found = meetings.get_meeting(g.actor, meeting_id)
    if not meetings.may_record(g.actor, found):
        return render_template("error.html", status=403, message=_("Forbidden."), fields=[]), 403
    rt = runtime(found.version_id)
    bound = bind(rt.body["schema"], {"node": {"key": found.node.key}})
    attendance = {role: request.form.get(f"attendance-{role}", "") for role in found.invited}
    expected = int_arg("lock", None, source=request.form)

    def act(data: dict[str, Any]) -> Any:
        meetings.record_minutes(
            g.actor, found.id, attendance, data, expected=expected, now=clock.now()
        )
        flash(_("Minutes saved."))
        return redirect(url_for("meetings.meeting", meeting_id=found.id), 303)

    try:
        result, loose = submit(bound, act)
    except ServiceError as exc:  # a stale form: the answers stay on the page
        result, loose = None, [exc.message]
    if result is not None:
        return result
    if htmx:
        return render_template("decisions/_minutes_fields.html", bound=bound)
    return render_template(
        "decisions/meeting.html", **meeting_context(found, bound, loose)
    ), 422 if request.form.get("_refresh") is None else 200


@bp.route("/meetings/<int:meeting_id>/resolutions", methods=["POST"])
@requires("decisions.edit")
def resolve(meeting_id: int) -> Any:
    try:
        meetings.resolve(g.actor, meeting_id, request.form.get("text"), now=clock.now())
    except Invalid as exc:
        found = meetings.get_meeting(g.actor, meeting_id)
        context = meeting_context(found)
        return render_template(
            "decisions/meeting.html",
            **context,
            resolution_error=exc.message,
            text=request.form.get("text", ""),
        ), 422
    flash(_("Resolution recorded."))
    return redirect(url_for("meetings.meeting", meeting_id=meeting_id) + "#resolutions", 303)


@bp.route("/resolutions/<int:resolution_id>/outcome/<key>", methods=["POST"])
@requires("decisions.edit")
def outcome(resolution_id: int, key: str) -> Any:
    try:
        done = meetings.take_outcome(g.actor, resolution_id, key, now=clock.now())
    except Invalid as exc:
        flash(
            exc.message + " " + "; ".join(p.message for p in exc.fields if p.message != exc.message)
        )
        from engine.store.decision_tables import Resolution

        found = Resolution.get_or_none(Resolution.id == resolution_id)
        meeting_id = found.meeting_id if found else 0
        return redirect(url_for("meetings.meeting", meeting_id=meeting_id) + "#resolutions", 303)
    if done.item_id:
        flash(_("The item was raised from the resolution."))
        return redirect(url_for("work.item", item_id=done.item_id), 303)
    return redirect(url_for("meetings.meeting", meeting_id=done.meeting_id), 303)

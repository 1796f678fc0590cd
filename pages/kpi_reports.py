"""/lists/kpi — the KPI rows that cannot be measured: the responsible unit reports with a
note and evidence, the lead unit accepts or returns."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.core import clock
from engine.core.errors import FieldProblem, Invalid, ServiceError
from engine.records import kpi_reports
from engine.records.kpi import is_over, kpi_lists
from engine.store.models import OrgNode
from pages.auth import back_to_referrer, requires
from pages.checklists import bp
from pages.dashboards import period_label
from pages.itemviews import posted_formdata


@bp.route("/kpi")
@bp.route("/kpi/<list_key>")
@requires("kpi")
def kpi(list_key: str | None = None) -> Any:
    return _kpi_page(list_key)


def _kpi_page(list_key: str | None, typed: dict[str, Any] | None = None) -> Any:
    """The list's rows with their reports; ``typed``: a refused report's answers and
    problems, shown again in its row's form."""
    now = clock.now()
    lists = kpi_lists(now)  # the list in force first
    if not lists:
        abort(404)
    version = next((v for v in lists if v.body["key"] == (list_key or lists[0].body["key"])), None)
    if version is None:
        abort(404)
    key = version.body["key"]
    latest = kpi_reports.latest(key)
    units = {n.id: n for n in OrgNode.select().where(OrgNode.id.in_({u for _, u in latest} or {0}))}
    mine = kpi_reports.reporting_units(g.actor)
    return render_template(
        "lists/kpi.html",
        version=version,
        rows=kpi_reports.unmeasurable_rows(key),
        latest=latest,
        units=units,
        mine=lambda row: [u for u in mine if kpi_reports.responsible_for(row, u)],
        may_review=lambda report, row: kpi_reports.may_review_report(g.actor, report, row),
        typed=typed,
        lists=lists,
        over=is_over(version.body, now),
        period_label=period_label,
    )


@bp.route("/kpi/<list_key>/<row_key>/report", methods=["POST"])
@requires("kpi")
def kpi_report(list_key: str, row_key: str) -> Any:
    unit = OrgNode.get_or_none(OrgNode.key == request.form.get("unit", ""))
    if unit is None:
        abort(404)
    if unit.id not in {u.id for u in kpi_reports.reporting_units(g.actor)}:
        abort(403)  # before any evidence is stored
    rejected: list[FieldProblem] = []
    evidence = posted_formdata({"evidence": None}, rejected).getlist("evidence")
    note = request.form.get("note", "")
    try:
        if rejected:
            raise Invalid(_("Some answers need fixing."), rejected)
        kpi_reports.report(g.actor, list_key, row_key, unit, note, evidence, now=clock.now())
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise  # not this unit's row: refused, not a note to fix
        # The row's form comes back with the note, the unit and the accepted files kept.
        typed = {
            "row": row_key,
            "unit": unit.key,
            "note": note,
            "evidence": evidence,
            "problems": [p.message for p in exc.fields] or [exc.message],
        }
        return _kpi_page(list_key, typed), exc.status
    flash(_("Reported."))
    return redirect(url_for("lists.kpi", list_key=list_key), 303)


@bp.route("/kpi/review/<int:report_id>", methods=["POST"])
@requires("kpi")
def kpi_review(report_id: int) -> Any:
    accept = request.form.get("decision") == "accept"
    try:
        done = kpi_reports.review(
            g.actor, report_id, accept, request.form.get("note", ""), now=clock.now()
        )
        flash(_("Accepted.") if accept else _("Returned."))
        return redirect(url_for("lists.kpi", list_key=done.list_key), 303)
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise  # not a reviewer of this report
        flash(str(exc))
        return back_to_referrer(url_for("lists.kpi"))

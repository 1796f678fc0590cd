"""Progress reports on the KPI rows that cannot be measured, and their review.

Only a unit the row declares responsible (``responsible_units``: a unit by key, or every
node of a kind) reports, with a note and evidence: a supervisor for their street, community or
district, a department user for their department. A user of one of the row's lead units
(``lead``), or an admin, accepts or returns the report — never the user who reported it nor a
user of the reporting unit; a returned report is reported again. Every step is an audit event.

A report belongs to one list (``list_key``) and so to its period: a list whose period is over
takes no new report, and the next year's list (rolled over, engine/authoring/kpi_rollover.py)
starts with none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from peewee import JOIN, fn

from engine.core.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from engine.core.i18n import gettext as _
from engine.org.actors import Actor
from engine.org.scope import path_pattern
from engine.records import attachments
from engine.records.kpi import is_over, kpi_lists, measurable
from engine.store.db import backend, database
from engine.store.models import OrgNode, User
from engine.store.prepared import prepared_cursor
from engine.store.tables import KpiReport
from engine.trail import audit

REPORT_ROLES = {"supervisor": ("street", "community", "district"), "department": ("department",)}
STATES = ("reported", "accepted", "returned")


def list_body(list_key: str) -> dict[str, Any]:
    """The current body of the KPI list ``list_key``.

    :raises NotFound: no KPI list has that key.
    """
    version = next((v for v in kpi_lists() if v.body["key"] == list_key), None)
    if version is None:
        raise NotFound(_("No such list."))
    return version.body


def unmeasurable_rows(list_key: str) -> list[dict[str, Any]]:
    body = list_body(list_key)
    return [r for r in sorted(body["rows"], key=lambda r: r["no"]) if not measurable(r)]


def _row(list_key: str, row_key: str) -> dict[str, Any]:
    row = next((r for r in unmeasurable_rows(list_key) if r["key"] == row_key), None)
    if row is None:
        raise NotFound(_("No such row."))
    return row


def responsible_for(row: dict[str, Any], unit: OrgNode) -> bool:
    """Whether the row names ``unit`` among its responsible units (by key, or by its kind)."""
    return any(
        spec.get("unit") == unit.key or spec.get("kind") == unit.kind
        for spec in row.get("responsible_units", [])
    )


def reporting_units(actor: Actor, row: dict[str, Any] | None = None) -> list[OrgNode]:
    """The units ``actor`` reports for; with ``row``, only those responsible for it."""
    ids = [g.node_id for g in actor.grants if g.node_kind in REPORT_ROLES.get(g.role, ())]
    units = list(OrgNode.select().where(OrgNode.id.in_(ids)).order_by(OrgNode.path)) if ids else []
    return units if row is None else [u for u in units if responsible_for(row, u)]


def may_review(actor: Actor, row: dict[str, Any]) -> bool:
    """Whether ``actor`` reviews reports on ``row``: a user of a lead unit, or an admin."""
    return "admin" in actor.roles or any(g.node_key in row["lead"] for g in actor.grants)


def may_review_report(actor: Actor, report: KpiReport, row: dict[str, Any]) -> bool:
    """:func:`may_review`, and the actor neither made the report nor belongs to its unit:
    no unit accepts its own report."""
    if report.reported_by_id == actor.user.id or any(
        g.node_id == report.unit_id for g in actor.grants
    ):
        return False
    return may_review(actor, row)


@attachments.record_kind("kpi-report")
def may_read(actor: Actor, report_id: int) -> bool:
    """The reporting unit's people and the row's reviewers see a report and its evidence."""
    found = KpiReport.get_or_none(KpiReport.id == report_id)
    if found is None:
        return False
    reporters = {u.id for u in reporting_units(actor)}
    return found.unit_id in reporters or may_review(actor, _row(found.list_key, found.row_key))


def latest(list_key: str) -> dict[tuple[str, int], KpiReport]:
    """The newest report per (row key, unit id)."""
    found: dict[tuple[str, int], KpiReport] = {}
    for report in KpiReport.select().where(KpiReport.list_key == list_key).order_by(KpiReport.id):
        found[(report.row_key, report.unit_id)] = report
    return found


@dataclass(frozen=True)
class ReportStatus:
    """Where the newest report on a row stands, as a dashboard shows it."""

    state: str  # reported, accepted, returned
    unit: str  # the reporting unit's name
    by: str  # who reported, or who reviewed once reviewed
    at: dt.datetime
    reason: str  # why it was returned; empty otherwise


def statuses_within(list_key: str, node: OrgNode) -> dict[str, ReportStatus]:
    """The newest report per row of ``list_key`` by a unit inside ``node``'s subtree.

    One query whatever the number of rows; the caller has checked that the actor
    may review ``node``.
    """
    newest: dict[str, tuple[Any, ...]] = {}
    # the raw cursor of a statement built once: every report of the list is read, only
    # each row's newest is kept and only its times converted
    rows = prepared_cursor(
        "kpi_reports.statuses_within",
        _newest_reports,
        list_key=list_key,
        pattern=path_pattern(node.path),
    )
    for found in rows:
        newest[found[0]] = found
    at = KpiReport.reported_at.python_value
    return {
        row_key: ReportStatus(
            state,
            unit_name,
            (reviewer_name if state != "reported" else reporter_name) or "",
            at(reviewed_at) if state != "reported" and reviewed_at else at(reported_at),
            note if state == "returned" else "",
        )
        for row_key, (
            _,
            state,
            unit_name,
            reporter_name,
            reviewer_name,
            reviewed_at,
            reported_at,
            note,
        ) in newest.items()
    }


def _newest_reports(list_key: Any, pattern: Any) -> Any:
    # only the newest report of each row (the highest id, as the caller's order keeps):
    # reading every report of the list to drop all but one per row cost a district's
    # dashboard half a millisecond
    within = KpiReport.alias()
    newest = (
        within.select(fn.MAX(within.id))
        .join(OrgNode, on=(within.unit == OrgNode.id))
        # path_test: the reports are found by list, their units by id, so the path is
        # tested on rows, and the statement is not planned again for each pattern
        .where((within.list_key == list_key) & backend().path_test(OrgNode.path, pattern))
        .group_by(within.row_key)
    )
    reporter, reviewer = User.alias(), User.alias()
    return (
        KpiReport.select(  # only what a status shows, as tuples: no note, evidence, models
            KpiReport.row_key,
            KpiReport.state,
            OrgNode.name,
            fn.COALESCE(fn.NULLIF(reporter.name, ""), reporter.username),
            fn.COALESCE(fn.NULLIF(reviewer.name, ""), reviewer.username),
            KpiReport.reviewed_at,
            KpiReport.reported_at,
            KpiReport.review_note,
        )
        .join(OrgNode)
        .switch(KpiReport)
        .join(reporter, JOIN.LEFT_OUTER, on=(KpiReport.reported_by == reporter.id))
        .switch(KpiReport)
        .join(reviewer, JOIN.LEFT_OUTER, on=(KpiReport.reviewed_by == reviewer.id))
        .where(KpiReport.id.in_(newest))
        .order_by(KpiReport.id)
    )


def report(
    actor: Actor,
    list_key: str,
    row_key: str,
    unit: OrgNode,
    note: str,
    evidence: list[str],
    *,
    now: dt.datetime,
) -> KpiReport:
    """Report progress on a row for ``unit``.

    :raises Forbidden: the actor does not report for ``unit``.
    :raises Invalid: no note.
    :raises Conflict: the unit's report waits for review or was accepted, or the list's
        period is over (a report belongs to its list and period: roll the list over).
    """
    row = _row(list_key, row_key)
    if is_over(list_body(list_key), now):
        raise Conflict(_("This list's period is over; report on the list in force."))
    if unit.id not in {u.id for u in reporting_units(actor)}:
        raise Forbidden(_("You do not report for this unit."))
    if not responsible_for(row, unit):
        raise Forbidden(_("%(unit)s is not responsible for this row.") % {"unit": unit.name})
    if not note.strip():
        raise Invalid(
            _("Some answers need fixing."),
            [FieldProblem("note", _("Please describe the progress."))],
        )
    previous = latest(list_key).get((row_key, unit.id))
    if previous is not None and previous.state != "returned":
        raise Conflict(_("This unit's report is waiting for review or was accepted."))
    with database.atomic():
        created = KpiReport.create(
            list_key=list_key,
            row_key=row_key,
            unit=unit,
            note=note.strip(),
            evidence=list(evidence),
            reported_by=actor.user,
            reported_at=now,
        )
        attachments.claim(
            [("evidence", e) for e in created.evidence],
            actor,
            record=attachments.record_ref("kpi-report", created.id),
        )
        audit.record(
            "kpi.report",
            at=now,
            actor=actor.user,
            target=attachments.record_ref("kpi-report", created.id),
            after={
                "list": list_key,
                "row": row_key,
                "unit": unit.key,
                "note": created.note,
                "evidence": created.evidence,
            },
        )
    return created


def review(actor: Actor, report_id: int, accept: bool, note: str, *, now: dt.datetime) -> KpiReport:
    """Accept or return a report, as a lead unit of its row (or an admin) other than the
    reporting unit and the reporter.

    :raises Forbidden: the actor is not of a lead unit, or reported it, or is of its unit.
    :raises Conflict: the report was already reviewed.
    """
    found = KpiReport.get_or_none(KpiReport.id == report_id)
    if found is None:
        raise NotFound(_("No such report."))
    row = _row(found.list_key, found.row_key)
    if not may_review(actor, row):
        raise Forbidden(_("Only a lead unit reviews this row."))
    if not may_review_report(actor, found, row):
        raise Forbidden(_("A report is reviewed by someone other than its own unit."))
    state = "accepted" if accept else "returned"
    with database.atomic():
        changed = (
            KpiReport.update(state=state, reviewed_by=actor.user, reviewed_at=now, review_note=note)
            .where((KpiReport.id == found.id) & (KpiReport.state == "reported"))
            .execute()
        )
        if not changed:
            raise Conflict(_("This report was already reviewed."))
        audit.record(
            "kpi.review",
            at=now,
            actor=actor.user,
            target=attachments.record_ref("kpi-report", found.id),
            before={"state": "reported"},
            after={"state": state, "note": note},
        )
    return KpiReport.get_by_id(found.id)

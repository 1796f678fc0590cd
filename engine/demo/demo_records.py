"""Demo records: each compound's task, coordination and difficulty lists filled, and the
KPI lists' rows that cannot be measured reported by their responsible units and reviewed
by their lead units — all from the pack's demo.json (``checklist_rows``,
``checklist_fill``, ``kpi_reports``).

Rows pass their list's row form (the forms layer, as a click would), and their ``done``
and ``deadline`` columns are derived as ``engine/records/checklists.py`` derives them; a report's
reporter may report for its unit and its reviewer is of a lead unit and not of the
reporting one, as ``engine/records/kpi_reports.py`` requires. Every step is timed at a working
moment of the pack's calendar and has its audit event; rows are inserted in batches.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Mapping
from typing import Any

import forms
from engine.core import clock
from engine.core.calendar import Calendar
from engine.demo.demo_items import move_sequences
from engine.records.checklists import derived, row_lists
from engine.records.kpi import in_force, kpi_lists, measurable
from engine.records.kpi_reports import REPORT_ROLES, responsible_for
from engine.store.db import bulk_insert, database
from engine.store.models import Event, Grant, OrgNode, User
from engine.store.tables import ChecklistRow, KpiReport


class Records:
    """Plans checklist rows and KPI reports; :meth:`write` inserts them in one transaction."""

    def __init__(
        self, rng: random.Random, pools: Mapping[str, Any], calendar: Calendar, now: dt.datetime
    ) -> None:
        self.rng, self.pools, self.calendar, self.now = rng, pools, calendar, now
        self.rows: list[dict[str, Any]] = []
        self._valid: dict[str, dict[str, Any] | None] = {}
        self.reports: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.ids = {
            m.__name__: (m.select(m.id).order_by(m.id.desc()).scalar() or 0) + 1
            for m in (ChecklistRow, KpiReport, Event)
        }
        # Who holds which role where: (role, node id) → user ids, oldest grant first.
        self.holders: dict[tuple[str, int], list[int]] = {}
        for role, node_id, user_id in (
            Grant.select(Grant.role, Grant.node, Grant.user).order_by(Grant.id).tuples()
        ):
            self.holders.setdefault((role, node_id), []).append(user_id)

    def _id(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    def _moment(self, days_ago: float) -> dt.datetime:
        """A working moment about ``days_ago`` days before now (never after it)."""
        start = self.now - dt.timedelta(days=days_ago)
        when = self.calendar.due(start, self.rng.uniform(0.2, 6)) or start
        return min(when, self.now).replace(microsecond=0)

    def _event(
        self, at: dt.datetime, actor: int | None, action: str, target: str, **parts: Any
    ) -> None:
        self.events.append(
            {
                "id": self._id("Event"),
                "at": at,
                "actor": actor,
                "action": action,
                "item": None,
                "target": target,
                "before": parts.get("before"),
                "after": parts.get("after"),
                "detail": parts.get("detail"),
            }
        )

    # -- task, coordination and difficulty lists ---------------------------------------

    def checklists(self, compounds: list[OrgNode]) -> None:
        """A few rows on each list of each compound, entered by its commissioner."""
        fill = self.pools.get("checklist_fill", {})
        templates = self.pools.get("checklist_rows", {})
        statuses = fill.get("status") or {}
        low, high = fill.get("rows", (2, 5))
        for version in row_lists():
            body = version.body
            pool = templates.get(body["key"]) or []
            if not pool:
                continue
            for node in compounds:
                author = next(iter(self.holders.get(("commissioner", node.id), [])), None)
                for template in self.rng.sample(
                    pool, k=min(len(pool), self.rng.randint(low, high))
                ):
                    status = self.rng.choices(
                        list(statuses), [float(w) for w in statuses.values()]
                    )[0]
                    self._row(version.definition_id, body, node, author, template, status, fill)

    def _row(
        self,
        definition_id: int,
        body: Mapping[str, Any],
        node: OrgNode,
        author: int | None,
        template: Mapping[str, Any],
        status: str,
        fill: Mapping[str, Any],
    ) -> None:
        created = self._moment(self.rng.uniform(*fill.get("days_ago", (10, 150))))
        done = status in body.get("done_values", ())
        # A done row was due after it was entered; an open one may be overdue or ahead.
        low, high = fill.get("deadline_days", (-60, 90))
        offset = self.rng.uniform(5, 60) if done else self.rng.uniform(low, high)
        deadline = self._workday(
            created + dt.timedelta(days=offset) if done else self.now + dt.timedelta(days=offset)
        )
        status_field = body.get("status_field", "status")
        first = body["row_schema"].get("properties", {}).get(status_field, {}).get("default")
        # What a row of this status says besides (``answers``: status → field → texts).
        extra = {
            name: self.rng.choice(texts)
            for name, texts in (fill.get("answers", {}).get(status) or {}).items()
        }
        cleaned = self._answers(body, node, {**template, status_field: status, **extra}, deadline)
        if cleaned is None:
            return  # a template the list's form refuses is left out, never written half
        # Entered at its first status, then moved on to where it stands now (unless that
        # step is still to come: then it stands at its first status).
        entered = (
            self._answers(body, node, {**template, status_field: first}, deadline)
            if first is not None and first != status
            else None
        )
        moved = self._after(created, self.rng.uniform(4, 24 * 6)) if entered else None
        if entered is not None and moved is None:
            cleaned, entered = entered, None
        row_id = self._id("ChecklistRow")
        target = f"checklist-row:{row_id}"
        detail = {"list": body["key"], "node": node.key}
        self._event(
            created, author, "checklist.row.add", target, after=entered or cleaned, detail=detail
        )
        updated = created
        if entered is not None and moved is not None:
            updated = moved
            self._event(
                updated,
                author,
                "checklist.row.update",
                target,
                before=entered,
                after=cleaned,
                detail=detail,
            )
        self.rows.append(
            {
                "id": row_id,
                "definition": definition_id,
                "node": node.id,
                "node_path": node.path,
                "data": cleaned,
                "created_by": author,
                "created_at": created,
                "updated_at": updated,
                "lock": 2 if entered is not None else 1,
                **derived(body, cleaned),
            }
        )

    def _answers(
        self, body: Mapping[str, Any], node: OrgNode, data: dict[str, Any], deadline: dt.date
    ) -> dict[str, Any] | None:
        """``data`` with its deadline as the list's row form cleans it; None if refused.
        Rows differing only in their deadline date pass or fail the form alike (cached)."""
        deadline_field = body.get("deadline_field", "deadline")
        key = json.dumps([body["key"], node.kind, data], ensure_ascii=False, sort_keys=True)
        if key not in self._valid:
            cleaned, errors = forms.validate(
                body["row_schema"],
                {**data, deadline_field: deadline.isoformat()},
                context={"node": {"key": node.key, "kind": node.kind, "name": node.name}},
            )
            self._valid[key] = None if errors else cleaned
        found = self._valid[key]
        return None if found is None else {**found, deadline_field: deadline.isoformat()}

    def _workday(self, moment: dt.datetime) -> dt.date:
        """The local date of ``moment``, moved on to a working day of the calendar."""
        local = clock.local(moment)
        assert local is not None
        day = local.date()
        for _ in range(30):
            if self.calendar.is_workday(day):
                break
            day += dt.timedelta(days=1)
        return day

    # -- KPI reports ---------------------------------------------------------------------

    def kpi_reports(self) -> None:
        """Each responsible unit's report on each row that cannot be measured, reviewed by
        a lead unit: accepted, returned (and mostly reported again) or still waiting."""
        spec = self.pools.get("kpi_reports", {})
        notes: Mapping[str, str] = spec.get("notes", {})
        states = spec.get("states") or {"reported": 1}
        units = list(
            OrgNode.select()
            .where(OrgNode.kind.in_([k for ks in REPORT_ROLES.values() for k in ks]))
            .order_by(OrgNode.id)
        )
        node_ids = dict(OrgNode.select(OrgNode.key, OrgNode.id).tuples())
        admins = [
            u for (role, _node), users in self.holders.items() if role == "admin" for u in users
        ]
        for version in kpi_lists():
            if not in_force(version.body, self.now):
                continue  # a past period's reports belong to that period, not to this demo
            list_key = version.body["key"]
            for row in sorted(version.body["rows"], key=lambda r: r["no"]):
                if measurable(row) or row["key"] not in notes:
                    continue
                for unit in units:
                    reporter = self._reporter(unit)
                    if not responsible_for(row, unit) or reporter is None:
                        continue
                    lead = {node_ids[k] for k in row.get("lead", []) if k in node_ids} - {unit.id}
                    reviewers = [
                        u
                        for (_role, node_id), users in self.holders.items()
                        if node_id in lead
                        for u in users
                        if u != reporter
                    ] or [u for u in admins if u != reporter]
                    note = notes[row["key"]].format(unit=unit.name)
                    state = self.rng.choices(list(states), [float(w) for w in states.values()])[0]
                    at = self._moment(self.rng.uniform(*spec.get("days_ago", (3, 60))))
                    first = self._report(list_key, row["key"], unit, reporter, note, at)
                    if state == "reported" or not reviewers:
                        continue
                    reviewed = self._after(at)
                    if reviewed is None:
                        continue  # the review is still to come
                    self._review(
                        first,
                        self.rng.choice(reviewers),
                        state,
                        self.rng.choice(spec.get(state) or [""]),
                        reviewed,
                    )
                    again = self._after(reviewed)
                    if state == "returned" and again is not None and self.rng.random() < 0.6:
                        self._report(list_key, row["key"], unit, reporter, note, again)

    def _after(self, at: dt.datetime, hours: float | None = None) -> dt.datetime | None:
        """A working moment some working hours (a few by default) after ``at``; None when
        that is still to come."""
        when = self.calendar.due(at, hours if hours is not None else self.rng.uniform(1, 40)) or at
        return when.replace(microsecond=0) if when < self.now else None

    def _reporter(self, unit: OrgNode) -> int | None:
        """A user who reports for ``unit`` (its supervisor, or its department user)."""
        for role, kinds in REPORT_ROLES.items():
            if unit.kind in kinds and self.holders.get((role, unit.id)):
                return self.holders[(role, unit.id)][0]
        return None

    def _report(
        self, list_key: str, row_key: str, unit: OrgNode, reporter: int, note: str, at: dt.datetime
    ) -> dict[str, Any]:
        report = {
            "id": self._id("KpiReport"),
            "list_key": list_key,
            "row_key": row_key,
            "unit": unit.id,
            "note": note,
            "evidence": [],
            "state": "reported",
            "reported_by": reporter,
            "reported_at": at,
            "reviewed_by": None,
            "reviewed_at": None,
            "review_note": "",
        }
        self.reports.append(report)
        self._event(
            at,
            reporter,
            "kpi.report",
            f"kpi-report:{report['id']}",
            after={
                "list": list_key,
                "row": row_key,
                "unit": unit.key,
                "note": note,
                "evidence": [],
            },
        )
        return report

    def _review(
        self, report: dict[str, Any], reviewer: int, state: str, note: str, at: dt.datetime
    ) -> None:
        report.update(state=state, reviewed_by=reviewer, reviewed_at=at, review_note=note)
        self._event(
            at,
            reviewer,
            "kpi.review",
            f"kpi-report:{report['id']}",
            before={"state": "reported"},
            after={"state": state, "note": note},
        )

    def write(self) -> None:
        with database.atomic():
            bulk_insert(ChecklistRow, self.rows)
            bulk_insert(KpiReport, self.reports)
            bulk_insert(Event, self.events)
        move_sequences("checklist_row", "kpi_report", "event")
        self.rows, self.reports, self.events = [], [], []


def supervisors_missing() -> list[OrgNode]:
    """The streets no supervisor is granted at (the demo gives each one)."""
    held = Grant.select(Grant.node).where(Grant.role == "supervisor")
    return list(
        OrgNode.select()
        .where((OrgNode.kind == "street") & OrgNode.id.not_in(held))
        .order_by(OrgNode.id)
    )


def add_supervisors(streets: list[OrgNode], names: list[str], hashes: list[str]) -> None:
    """A supervisor account (``<street key>-ducha``) for each street, named ``names``."""
    for street, name, digest in zip(streets, names, hashes, strict=False):
        user = User.get_or_none(User.username == f"{street.key}-ducha") or User.create(
            username=f"{street.key}-ducha", name=name, password_hash=digest
        )
        Grant.get_or_create(user=user, role="supervisor", node=street)

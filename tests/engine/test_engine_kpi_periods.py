"""A KPI list has a period: its deadlines are judged within it, a past list shows its final
state, a list rolls over to the next year, and reports stay with their list (issue 14)."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.authoring import designer, kpi_rollover
from engine.core.errors import Conflict, Invalid
from engine.definitions.definitions import current_version
from engine.org.actors import actor_for
from engine.records import kpi, kpi_reports
from engine.store.models import Event, OrgNode, User
from engine.store.tables import KpiReport
from tests.engine.conftest import NOW

WITHIN = dt.datetime(2026, 11, 15, 2)  # 2026: after the October deadlines, before December's


def _rows(key: str) -> dict[str, dict]:
    return {r["key"]: r for r in current_version(key).body["rows"]}


def _facts(**values: float) -> dict:
    return {"coverage": dict(values), "polls": {}, "meetings": {}}


def test_the_seed_ships_2026_in_force_and_2021_as_history(app):
    lists = kpi.kpi_lists(NOW)
    assert [v.body["key"] for v in lists] == ["tasks-2026", "tasks-2021"]  # in force first
    old, new = current_version("tasks-2021").body, current_version("tasks-2026").body
    assert (kpi.in_force(new, NOW), kpi.is_over(new, NOW)) == (True, False)
    assert (kpi.in_force(old, NOW), kpi.is_over(old, NOW)) == (False, True)
    assert kpi.period_of(old) == kpi.Period(dt.date(2021, 1, 1), dt.date(2021, 12, 31), 2021)
    dated = kpi.period_of({"period": {"start": "2026-07-01", "end": "2027-06-30"}})
    assert dated is not None and dated.year is None and dated.end == dt.date(2027, 6, 30)
    text = " ".join(r["content"] for r in new["rows"] + old["rows"])
    assert "三方强基指数" in text and "电子落图" in text
    assert "布数" not in text and "商网" not in text


def test_the_past_list_shows_final_states_never_overdue(app):
    old = current_version("tasks-2021").body
    doc = _facts(commissioner_rate=100, party_org_rate=50)
    statuses = {s.row["key"]: s.status for s in kpi.measure_list(old, doc, now=NOW)}
    assert statuses["commissioner"] == "achieved" and statuses["party-org"] == "missed"
    assert "overdue" not in statuses.values() and "unmet" not in statuses.values()
    counts = kpi.progress(kpi.measure_list(old, doc, now=NOW))
    assert counts["done"] == counts["achieved"] >= 1 and counts["overdue"] == 0


def test_the_current_list_is_judged_against_its_own_deadlines(app):
    new = current_version("tasks-2026").body
    doc = _facts(party_org_rate=50, professional_property_rate=50)
    at = {s.row["key"]: s.status for s in kpi.measure_list(new, doc, now=WITHIN)}
    assert at["party-org"] == "overdue"  # due 2026-10-31
    assert at["professional-property"] == "unmet"  # due 2026-12-31: not late yet
    assert _rows("tasks-2026")["party-org"]["deadline"] == "2026-10-31"


def test_row_8_measures_both_targets(app):
    row = _rows("tasks-2026")["committee"]
    both = kpi.measure_row(
        row, _facts(committee_rate=90, committee_party_half_rate=100), now=WITHIN
    )
    half = kpi.measure_row(row, _facts(committee_rate=90, committee_party_half_rate=40), now=WITHIN)
    none = kpi.measure_row(row, _facts(committee_rate=90), now=WITHIN)
    assert [p.label for p in both.parts] == [
        "业委会(物管委)覆盖率",
        "党员比例不低于50%的业委会占比",
    ]
    assert [p.value for p in half.parts] == [90.0, 40.0]
    assert [p.status for p in half.parts] == ["met", "unmet"]
    assert (both.status, half.status, none.status) == ("met", "unmet", "no_data")
    assert kpi.measurable(row) and row["key"] not in {
        r["key"] for r in kpi_reports.unmeasurable_rows("tasks-2026")
    }


def test_a_list_with_both_measure_and_measures_or_a_deadline_outside_its_period_is_refused():
    from engine.definitions.checks import definition_problems

    body = {
        "key": "x",
        "kind": "checklist",
        "name": "x",
        "list_kind": "kpi",
        "period": {"year": 2027},
        "rows": [
            {
                "no": 1,
                "key": "a",
                "content": "c",
                "lead": [],
                "deadline": "2026-12-31",
                "measure": {"var": "coverage.x"},
                "goal": {"op": ">=", "value": 1},
                "measures": [{"measure": {"var": "coverage.y"}, "goal": {"op": ">=", "value": 1}}],
            }
        ],
    }
    paths = {p.path for p in definition_problems(body, roles=set(), units=set())}
    assert {"/rows/0/measures", "/rows/0/deadline"} <= paths


def test_rollover_copies_rows_with_the_new_deadlines_and_keeps_history(app):
    admin = User.get(User.username == "admin")
    old = current_version("tasks-2026").body
    created = kpi_rollover.rollover(admin, "tasks-2026", 2027, now=NOW)
    assert created.key == "tasks-2027" and created.current == 0  # a draft to check first
    draft = designer.draft_of(created)
    assert draft["period"] == {"year": 2027} and draft["name"].startswith("2027年度")
    assert [r["key"] for r in draft["rows"]] == [r["key"] for r in old["rows"]]
    assert [r["deadline"] for r in draft["rows"]] == [
        "2027" + r["deadline"][4:] for r in old["rows"]
    ]
    assert [r.get("goal") for r in draft["rows"]] == [r.get("goal") for r in old["rows"]]
    assert Event.get(Event.action == "definition.rollover").target == "definition:tasks-2027"
    designer.publish_draft(admin, "tasks-2027", now=NOW)
    keys = [v.body["key"] for v in kpi.kpi_lists(NOW)]
    assert keys[0] == "tasks-2026" and set(keys) == {"tasks-2021", "tasks-2026", "tasks-2027"}
    assert current_version("tasks-2026").body == old  # history untouched
    with pytest.raises(Conflict):
        kpi_rollover.rollover(admin, "tasks-2026", 2027, now=NOW)
    with pytest.raises(Invalid):
        kpi_rollover.rollover(admin, "tasks-2026", 2026, now=NOW)
    with pytest.raises(Invalid):
        kpi_rollover.rollover(admin, "task-list", 2027, now=NOW)  # no period: not a yearly list


def test_rolled_body_may_set_new_goals_and_moves_29_february():
    body = {
        "key": "plan",
        "name": "计划",
        "list_kind": "kpi",
        "period": {"year": 2024},
        "rows": [
            {"key": "a", "deadline": "2024-02-29", "measure": {}, "goal": {"op": ">=", "value": 1}},
            {
                "key": "b",
                "deadline": "2024-12-31",
                "measures": [
                    {"measure": {}, "goal": {"op": ">=", "value": 1}},
                    {"measure": {}, "goal": {"op": ">=", "value": 2}},
                ],
            },
        ],
    }
    new = kpi_rollover.rolled_body(body, 2025, goals={"a": 5, "b": [7, 8]})
    assert new["key"] == "plan-2025" and new["name"] == "计划"
    assert new["rows"][0]["deadline"] == "2025-02-28" and new["rows"][0]["goal"]["value"] == 5
    assert [m["goal"]["value"] for m in new["rows"][1]["measures"]] == [7, 8]
    assert body["rows"][0]["goal"]["value"] == 1  # the old body is not changed


def test_reports_stay_with_their_list_and_period(app):
    street = OrgNode.get(OrgNode.key == "chaohui")
    reporter = actor_for(User.get(User.username == "chaohui-ducha"))
    report = kpi_reports.report(
        reporter, "tasks-2026", "street-office-staff", street, "已发文成立三方办", [], now=NOW
    )
    with pytest.raises(Conflict):  # 2021 is over: no new report on its list
        kpi_reports.report(
            reporter, "tasks-2021", "street-office-staff", street, "补报", [], now=NOW
        )
    admin = User.get(User.username == "admin")
    kpi_rollover.rollover(admin, "tasks-2026", 2027, now=NOW)
    designer.publish_draft(admin, "tasks-2027", now=NOW)
    assert kpi_reports.latest("tasks-2027") == {}
    assert kpi_reports.latest("tasks-2026")[("street-office-staff", street.id)].id == report.id
    assert KpiReport.select().where(KpiReport.list_key == "tasks-2021").count() == 0


def test_an_ended_list_keeps_the_figures_of_its_end(app, actor_of):
    """2021's 达成/未达成 is 2021's: the first refresh after the period keeps what its
    measures read per district and street, and the dashboard measures against that while
    the list in force follows today's facts."""
    from engine.metrics import dashboard, facts
    from engine.metrics.kpi_close import close_due
    from engine.store.tables import KpiClose

    facts.refresh(now=NOW)  # nothing cached yet: nothing to freeze from
    assert KpiClose.select().count() == 0
    facts.refresh(now=NOW + dt.timedelta(minutes=5))
    district = OrgNode.get(OrgNode.kind == "district")
    kept = KpiClose.get((KpiClose.list_key == "tasks-2021") & (KpiClose.node == district))
    assert KpiClose.select().where(KpiClose.list_key == "tasks-2026").count() == 0  # in force
    assert {n.kind for n in OrgNode.select().join(KpiClose, on=(KpiClose.node == OrgNode.id))} == {
        "district",
        "street",
    }
    before = kept.facts["coverage"]["party_org_rate"]
    assert before > 0 and set(kept.facts) <= {
        "coverage",
        "meetings",
        "directories",
        "by_type",
        "polls",
    }
    assert close_due(now=NOW + dt.timedelta(minutes=6)) == 0  # closed once

    # The district loses every compound's party organisation today.
    for node in OrgNode.select().where(OrgNode.kind == "compound"):
        node.profile = {**(node.profile or {}), "has_party_org": False}
        node.save()
    later = NOW + dt.timedelta(hours=1)
    facts.refresh(now=later)
    live, _ = facts.cached(district)
    assert live["coverage"]["party_org_rate"] == 0
    assert live["kpi_final"]["tasks-2021"]["facts"]["coverage"]["party_org_rate"] == before

    actor = actor_of("ducha")
    old = dashboard.build(actor, district, now=later, kpi_key="tasks-2021")
    row = {s.row["key"]: s for s in old.kpi[0][1]}["party-org"]
    assert row.value == before and old.kpi_frozen_at["tasks-2021"]
    new = dashboard.build(actor, district, now=later, kpi_key="tasks-2026")
    assert {s.row["key"]: s for s in new.kpi[0][1]}["party-org"].value == 0
    assert "tasks-2026" not in new.kpi_frozen_at

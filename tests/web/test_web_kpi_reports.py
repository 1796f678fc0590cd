"""KPI reports: only the units a row declares responsible report on it, and a report is never
accepted or returned by its own unit or by the user who made it."""

from __future__ import annotations

import pytest

from engine.accounts.users import upsert_user
from engine.core.errors import Forbidden
from engine.records import kpi_reports
from engine.store.models import OrgNode
from engine.store.tables import KpiReport
from tests.conftest import NOW


def report_via_page(client, row: str, unit: str, note: str = "进度说明") -> int:
    return client.post(
        f"/lists/kpi/tasks-2026/{row}/report", data={"unit": unit, "note": note}
    ).status_code


@pytest.mark.parametrize(
    "username, row, unit, allowed",
    [
        ("chaohui-ducha", "street-office-staff", "chaohui", True),  # 各街道
        (
            "dept-zhifa-user",
            "street-office-staff",
            "dept-zhifa",
            False,
        ),  # a department, row of the streets
        ("dept-zhifa-user", "stations", "dept-zhifa", True),  # 区综合行政执法局 by name
        ("dept-gaj-user", "stations", "dept-gaj", False),  # another department
        ("chaohui-ducha", "stations", "chaohui", False),
        ("dept-gaj-user", "whistle-system", "dept-gaj", True),  # 各部门
        ("chaohui-ducha", "whistle-system", "chaohui", True),  # 各街道
        ("ducha", "street-office-staff", "gongshu", False),  # the district is no street
    ],
)
def test_only_a_responsible_unit_reports(client, auth, username, row, unit, allowed):
    auth.login(username)
    page = client.get("/lists/kpi/tasks-2026").text
    section = page.split(f'id="kpi-{row}"', 1)[1].split("</section>", 1)[0]
    assert (f'value="{unit}"' in section) is allowed  # the form offers only responsible units
    assert report_via_page(client, row, unit) == (303 if allowed else 403)
    assert KpiReport.select().where(KpiReport.row_key == row).count() == (1 if allowed else 0)


def test_the_engine_refuses_a_unit_not_responsible(app, actor_of):
    with pytest.raises(Forbidden):
        kpi_reports.report(
            actor_of("dept-zhifa-user"),
            "tasks-2026",
            "street-office-staff",
            OrgNode.get(OrgNode.key == "dept-zhifa"),
            "不是我的行",
            [],
            now=NOW,
        )
    assert KpiReport.select().count() == 0


def test_a_lead_unit_does_not_accept_its_own_report(client, auth):
    # Row 13 (whistle-system): lead dept-zzb, responsible 各部门 — dept-zzb itself reports.
    auth.login("dept-zzb-user")
    report_via_page(client, "whistle-system", "dept-zzb")
    found = KpiReport.get()
    page = client.get("/lists/kpi/tasks-2026").text
    assert f"/lists/kpi/review/{found.id}" not in page  # no accept/return for its own report
    assert (
        client.post(f"/lists/kpi/review/{found.id}", data={"decision": "accept"}).status_code == 403
    )
    assert KpiReport.get().state == "reported"
    auth.logout()
    # A colleague of the same unit may not either.
    upsert_user(
        "zzb-2", "组织部二", "demo1234", [{"role": "department", "node": "dept-zzb"}], now=NOW
    )
    auth.login("zzb-2")
    assert (
        client.post(
            f"/lists/kpi/review/{found.id}", data={"decision": "return", "note": "自己退回"}
        ).status_code
        == 403
    )
    assert KpiReport.get().state == "reported"
    auth.logout()
    # The admin (another unit) reviews it.
    auth.login("admin")
    assert f"/lists/kpi/review/{found.id}" in client.get("/lists/kpi/tasks-2026").text
    client.post(f"/lists/kpi/review/{found.id}", data={"decision": "accept"})
    assert KpiReport.get().state == "accepted"


def test_the_reporter_never_reviews_even_holding_a_lead_grant(client, auth, actor_of):
    upsert_user(
        "twohats",
        "两顶帽子",
        "demo1234",
        [{"role": "supervisor", "node": "chaohui"}, {"role": "department", "node": "dept-zzb"}],
        now=NOW,
    )
    auth.login("twohats")
    report_via_page(
        client, "street-office-staff", "chaohui"
    )  # lead of street-office-staff: dept-zzb
    found = KpiReport.get()
    assert f"/lists/kpi/review/{found.id}" not in client.get("/lists/kpi/tasks-2026").text
    client.post(f"/lists/kpi/review/{found.id}", data={"decision": "accept"})
    assert KpiReport.get().state == "reported"
    with pytest.raises(Forbidden):
        kpi_reports.review(actor_of("twohats"), found.id, True, "", now=NOW)
    # A street admin is of the reporting unit too.
    upsert_user(
        "chaohui-admin", "朝晖管理员", "demo1234", [{"role": "admin", "node": "chaohui"}], now=NOW
    )
    with pytest.raises(Forbidden):
        kpi_reports.review(actor_of("chaohui-admin"), found.id, False, "退回", now=NOW)
    # Another user of the lead unit does.
    done = kpi_reports.review(actor_of("dept-zzb-user"), found.id, True, "", now=NOW)
    assert done.state == "accepted" and done.reviewed_by.username == "dept-zzb-user"


def test_a_community_reports_on_a_row_of_the_communities(client, auth):
    # The seed's one row of the communities (12, 协商机制) is measured since issue 11 (the
    # compounds that held a meeting); as a row without a measure, the communities report it.
    from engine.authoring.publishing import publish
    from engine.definitions.definitions import current_version
    from engine.store.models import Pack

    tasks = dict(current_version("tasks-2026").body)
    tasks["rows"] = [
        {k: v for k, v in r.items() if r["key"] != "consultation" or k not in ("measure", "goal")}
        for r in tasks["rows"]
    ]
    publish(Pack.get(), tasks, now=NOW, by=None)
    upsert_user(
        "shijia-ducha",
        "施家督查",
        "demo1234",
        [{"role": "supervisor", "node": "shijiahuayuan"}],
        now=NOW,
    )
    auth.login("shijia-ducha")
    report_via_page(client, "consultation", "shijiahuayuan")  # 各社区
    report_via_page(client, "street-office-staff", "shijiahuayuan")  # 各街道: not a community's row
    assert [(r.row_key, r.unit.key) for r in KpiReport.select()] == [
        ("consultation", "shijiahuayuan")
    ]


def test_pack_validation_checks_responsible_units(app):
    from engine.definitions.checks import definition_problems
    from engine.definitions.definitions import current_version, known_roles, known_units

    body = dict(current_version("tasks-2026").body)
    body["rows"] = [dict(r) for r in body["rows"]]
    body["rows"][0]["responsible_units"] = [{"unit": "dept-nope"}]
    problems = definition_problems(body, roles=known_roles(), units=known_units())
    assert [p.path for p in problems] == ["/rows/0/responsible_units/0/unit"]
    body["rows"][0]["responsible_units"] = [{"kind": "compound"}]
    assert definition_problems(body, roles=known_roles(), units=known_units())

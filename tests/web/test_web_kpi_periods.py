"""Dashboards show the KPI list in force with its year, past lists with their final state,
row 8's two targets, and the residents' channels' usage, within the query budget; the
designer rolls a list over (issue 14)."""

from __future__ import annotations

from typing import Any

import pytest

from engine.metrics import facts
from tests.conftest import NOW

BUDGET = 8  # as tests/web/test_web_query_budgets.py


# A demo district, generated once per session (tests/conftest.py, ``demo_templates``).
DEMO = {"compounds": 12, "items": 120, "seed": 1}


@pytest.fixture
def demo(app: Any) -> None:
    """The tests asking for it run on a copy of the demo (``DEMO``), its facts counted."""
    facts.refresh(now=NOW)


def _kpi_section(page: str) -> str:
    return page.split('id="table-kpi"', 1)[1].split("</section>", 1)[0]


def test_the_district_sees_the_year_in_force_and_the_past_year_final(client, auth, demo):
    auth.login("ducha")
    page = client.get("/review/n/gongshu").text
    current = _kpi_section(page)
    assert "2026年度" in current and "2021年度" not in current
    assert "党员比例不低于50%的业委会占比" in current  # row 8's second target, measured
    assert "业委会(物管委)覆盖率" in current
    assert 'href="/review/n/gongshu?kpi=tasks-2021#table-kpi"' in page
    past = _kpi_section(client.get("/review/n/gongshu?kpi=tasks-2021").text)
    assert "2021年度" in past
    # frozen by a refresh after the period (from the documents the demo's refresh made):
    # the figures of its end, said so
    assert "期末值" not in past or "数据截至" in past
    facts.refresh(now=NOW)
    past = _kpi_section(client.get("/review/n/gongshu?kpi=tasks-2021").text)
    assert "数据截至" in past and "期末值" in past and "当前值" not in past
    current = _kpi_section(client.get("/review/n/gongshu").text)
    assert "数据截至" not in current and "期末值" not in current
    assert "已逾期" not in past and "逾期" not in past
    assert "达标" in past or "未达标" in past
    assert "达成" not in past  # one word for a met row, as on the dashboard
    assert "三方强基指数综合评价" in past and "电子落图" in past
    export = client.get("/review/n/gongshu/export/kpi.xlsx?kpi=tasks-2021")
    assert export.status_code == 200


def test_residents_channels_on_the_district_and_compound_dashboards(client, auth, demo):
    from engine.store.models import Grant, OrgNode

    district = OrgNode.get(OrgNode.key == "gongshu")
    users = facts.cached(district)[0]["residents"]["users"]
    assert users == Grant.select(Grant.user).where(Grant.role == "resident").distinct().count()
    auth.login("ducha")
    page = client.get("/review/n/gongshu").text
    assert "居民用户数" in page and "小区协商铃" in page and "居民渠道使用情况" in page
    assert f"<b>{users}</b><span>居民用户数</span>" in page
    auth.logout()
    auth.login("xifang")  # the compound's commissioner
    page = client.get("/review/n/lvzhouhuayuan").text
    assert "居民渠道使用情况" in page and "报事报修" in page


@pytest.mark.parametrize(
    "username, page",
    [
        ("ducha", "/review/n/gongshu"),
        ("ducha", "/review/n/gongshu?kpi=tasks-2021"),
        ("chaohui-ducha", "/review/n/chaohui"),
        ("xifang", "/review/n/lvzhouhuayuan"),
    ],
)
def test_the_dashboards_keep_their_budget(app, demo, assert_max_queries, username, page):
    client = app.test_client()
    client.post("/login", data={"username": username, "password": "demo1234"})
    client.get(page)
    with assert_max_queries(BUDGET, page):
        assert client.get(page).status_code == 200


def test_a_past_list_takes_no_new_report(client, auth, app):
    auth.login("chaohui-ducha")
    page = client.get("/lists/kpi/tasks-2021").text
    assert "本清单的年度已结束" in page and 'name="note"' not in page
    assert 'name="note"' in client.get("/lists/kpi").text  # the list in force by default
    refused = client.post(
        "/lists/kpi/tasks-2021/street-office-staff/report", data={"unit": "chaohui", "note": "补报"}
    )
    assert refused.status_code == 409


def test_the_designer_rolls_a_list_over(client, auth, app):
    auth.login("admin")
    history = client.get("/admin/designer/tasks-2026/history").text
    assert 'action="/admin/designer/tasks-2026/rollover"' in history
    assert "rollover" not in client.get("/admin/designer/bell/history").text
    bad = client.post("/admin/designer/tasks-2026/rollover", data={"year": "明年"})
    assert bad.status_code == 303
    assert "请输入年份" in client.get(bad.headers["Location"]).text
    early = client.post("/admin/designer/tasks-2026/rollover", data={"year": "2025"})
    assert "新年度须晚于 2026 年" in client.get(early.headers["Location"]).text
    done = client.post("/admin/designer/tasks-2026/rollover", data={"year": "2027"})
    assert done.headers["Location"].endswith("/admin/designer/tasks-2027/publish")
    published = client.post("/admin/designer/tasks-2027/publish")
    assert published.status_code == 303
    auth.logout()
    auth.login("ducha")
    page = client.get("/review/n/gongshu").text
    assert "2027年度" in page and "未开始" in page  # listed, not yet in force
    assert "2026年度" in _kpi_section(page)


def test_the_compound_staff_see_their_channels_on_the_work_inbox(app, demo, assert_max_queries):
    from engine.store.models import OrgNode

    compound = OrgNode.get(OrgNode.key == "lvzhouhuayuan")
    doc = facts.cached(compound)[0]
    client = app.test_client()
    client.post("/login", data={"username": "lvzhouhuayuan-wy", "password": "demo1234"})
    client.get("/work/")
    with assert_max_queries(BUDGET, "/work/"):
        page = client.get("/work/").text
    users = doc["residents"]["users"]
    assert f"<b>{users}</b><span>{compound.name} · 居民用户数</span>" in page
    bells = doc["by_type"].get("bell", {}).get("total", 0)
    assert f"<b>{bells}</b><span>小区协商铃 · 解决率" in page

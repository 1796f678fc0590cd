"""Dashboards under /review: scoped by the org tree, tables exported to Excel."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from engine.metrics import facts, indices

NOW = dt.datetime(2026, 11, 27, 1, 0, 0)


@pytest.fixture
def refreshed(app):
    facts.refresh(now=NOW)
    indices.snapshot_all(None, now=NOW)


@pytest.mark.parametrize(
    "username, key, status",
    [
        ("chaohui-ducha", "chaohui", 200),
        ("chaohui-ducha", "shijiahuayuan", 200),
        ("chaohui-ducha", "lvzhouhuayuan", 200),
        ("chaohui-ducha", "gongshu", 404),
        ("chaohui-ducha", "xiaohe", 404),
        ("chaohui-ducha", "changzhengqiaolu", 404),
        ("xifang", "lvzhouhuayuan", 200),
        ("xifang", "shijiahuayuan", 404),
        ("xifang", "changzhengqiaolu", 404),
        ("ducha", "gongshu", 200),
        ("lvzhou-yezhu1", "lvzhouhuayuan", 403),
        ("dept-zhifa-user", "gongshu", 403),
    ],
)
def test_dashboards_and_exports_are_scoped(client, auth, refreshed, username, key, status):
    auth.login(username)
    assert client.get(f"/review/n/{key}").status_code == status
    assert client.get(f"/review/n/{key}/export/overview.xlsx").status_code == status


def test_street_supervisor_sees_only_its_streets_units(client, auth, refreshed):
    auth.login("chaohui-ducha")
    page = client.get("/review/n/chaohui").get_data(as_text=True)
    assert "施家花园社区" in page and "长征桥社区" not in page
    book = load_workbook(io.BytesIO(client.get("/review/n/chaohui/export/units.xlsx").data))
    names = [row[0] for row in book.active.iter_rows(min_row=2, values_only=True)]
    assert "施家花园社区" in names and "长征桥社区" not in names


def test_compound_dashboard_has_radar_and_what_pulls_it_down(client, auth, refreshed):
    auth.login("xifang")
    page = client.get("/review/n/lvzhouhuayuan").get_data(as_text=True)
    assert 'class="chart radar"' in page and "组织领导力" in page
    assert "三方强基指数" in page


def test_district_kpi_table_exports_22_rows(client, auth, refreshed):
    auth.login("ducha")
    page = client.get("/review/n/gongshu").get_data(as_text=True)
    assert "达标" in page or "逾期" in page
    book = load_workbook(io.BytesIO(client.get("/review/n/gongshu/export/kpi.xlsx").data))
    rows = list(book.active.iter_rows(min_row=2, values_only=True))
    assert (
        len(rows) == 22 and rows[4][0] == 5 and rows[4][6] == 100.0
    )  # every seed compound has a party org


def test_dashboard_without_facts_says_so(client, auth):
    auth.login("ducha")
    response = client.get("/review/n/gongshu")
    assert response.status_code == 200
    assert "facts refresh" in response.get_data(as_text=True)


def test_unknown_table_and_filter_are_404(client, auth, refreshed):
    auth.login("ducha")
    assert client.get("/review/n/gongshu/export/nope.xlsx").status_code == 404
    assert client.get("/review/n/lvzhouhuayuan/items?filter=nope").status_code == 404
    assert client.get("/review/n/lvzhouhuayuan/items?filter=overdue").status_code == 200


def _kpi_row(book_bytes: bytes, no: int) -> dict[str, object]:
    rows = list(load_workbook(io.BytesIO(book_bytes)).active.iter_rows(values_only=True))
    return dict(zip(rows[0], next(r for r in rows[1:] if r[0] == no), strict=True))


def test_kpi_views_show_the_latest_report_within_the_node(client, auth, refreshed):
    """Street and district KPI tables (page and Excel) show the newest report by a unit
    of their own subtree: its status, who and when, and why it was returned."""
    from engine.records.kpi_reports import unmeasurable_rows

    no = next(r["no"] for r in unmeasurable_rows("tasks-2026") if r["key"] == "street-office-staff")
    auth.login("chaohui-ducha")
    client.post(
        "/lists/kpi/tasks-2026/street-office-staff/report",
        data={"unit": "chaohui", "note": "已发文成立三方办"},
    )
    assert "已提交 · 朝晖街道" in client.get("/review/n/chaohui").text
    auth.logout()
    auth.login("dept-zzb-user")
    report_id = (
        client.get("/lists/kpi/tasks-2026").text.split("/lists/kpi/review/", 1)[1].split('"', 1)[0]
    )
    client.post(
        f"/lists/kpi/review/{report_id}", data={"decision": "return", "note": "请补充<b>文件</b>"}
    )
    auth.logout()
    auth.login("dept-zhifa-user")
    # 各部门 report on whistle-system too; a department's report is not the street's.
    client.post(
        "/lists/kpi/tasks-2026/whistle-system/report",
        data={"unit": "dept-zhifa", "note": "执法局进度"},
    )
    auth.logout()

    auth.login("chaohui-ducha")
    page = client.get("/review/n/chaohui").text
    assert (
        "已退回 · 朝晖街道" in page and "唐斌萍" in page and "请补充&lt;b&gt;文件&lt;/b&gt;" in page
    )
    assert "· 区综合行政执法局" not in page  # a department's report is not the street's
    row = _kpi_row(client.get("/review/n/chaohui/export/kpi.xlsx").data, no)
    assert row["最新报告"] == "已退回 · 朝晖街道" and row["报告或审核人"] == "唐斌萍"
    assert row["退回原因"] == "请补充<b>文件</b>" and str(row["时间"]).startswith("2026-")
    auth.logout()
    auth.login("ducha")
    row = _kpi_row(client.get("/review/n/gongshu/export/kpi.xlsx").data, no)
    assert row["最新报告"] == "已退回 · 朝晖街道"
    whistle = next(r["no"] for r in unmeasurable_rows("tasks-2026") if r["key"] == "whistle-system")
    row = _kpi_row(client.get("/review/n/gongshu/export/kpi.xlsx").data, whistle)
    assert row["最新报告"] == "已提交 · 区综合行政执法局" and row["退回原因"] is None
    measured = _kpi_row(client.get("/review/n/gongshu/export/kpi.xlsx").data, 5)
    assert measured["最新报告"] is None  # a measured row has no report


def test_compound_file_card_names_its_facts_in_words(client, auth, refreshed):
    auth.login("xifang")
    page = client.get("/review/n/lvzhouhuayuan").text
    card = page.split('id="profile"', 1)[1].split("</section>", 1)[0]
    # Labels are the pack's: the schema's titles and the derived facts' labels, never keys.
    assert (
        "已建立小区党组织" in card and "一名党员一幢楼覆盖率(%)" in card and "业主自治组织" in card
    )
    assert "has_party_org" not in card and "True" not in card and "False" not in card
    assert "_" not in card.replace("class=", "").split(">", 1)[1]  # no field key anywhere


def test_what_pulls_it_down_names_file_fields_by_their_titles(client, auth, refreshed):
    from engine.store.models import OrgNode

    node = OrgNode.get(key="lvzhouhuayuan")
    node.profile = {
        **node.profile,
        "professional_property": False,
        "finance_disclosure_online": False,
    }
    node.save()
    facts.refresh(now=NOW)
    auth.login("xifang")
    page = client.get("/review/n/lvzhouhuayuan").text
    pulls = page.split('class="pulls"', 1)[1].split("</ol>", 1)[0]
    assert "专业物业服务" in pulls and "物业服务企业" in pulls
    assert "professional_property" not in pulls and "property_company" not in pulls


def test_indicator_items_show_state_labels(client, auth):
    from tests.review_data import make_item

    item = make_item("lvzhouhuayuan", title="看状态")
    label = item.version.body["workflow"]["states"]["handling"]["label"]
    auth.login("xifang")
    page = client.get("/review/n/lvzhouhuayuan/items").text
    assert "看状态" in page and f"<td>{label}</td>" in page and "<td>handling</td>" not in page


def test_the_figures_age_and_missing_rates_read_in_words(client, auth, refreshed):
    import re

    auth.login("xifang")
    page = client.get("/review/n/lvzhouhuayuan").get_data(as_text=True)
    age = re.search(r"数据截至 [^（<]+（([^）<]+)前）", page)
    assert age and re.fullmatch(r"(\d+天)?(\d+小时)?(\d+分钟)?|不到1分钟", age.group(1)), age
    assert "–%" not in page and not re.search(r"\d+\.\d+ 小时前", page)

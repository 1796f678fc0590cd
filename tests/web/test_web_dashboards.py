"""Dashboards under /review: scoped by the org tree, tables exported to Excel."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from engine import facts, indices

NOW = dt.datetime(2026, 11, 27, 1, 0, 0)


@pytest.fixture
def refreshed(app):
    facts.refresh(now=NOW)
    indices.snapshot_all(None, now=NOW)


@pytest.mark.parametrize("username, key, status", [
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
])
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
    assert len(rows) == 22 and rows[4][0] == 5 and rows[4][6] == 100.0  # every seed compound has a party org


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

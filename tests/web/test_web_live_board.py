"""The live board (实时预警看板): open emergencies by street with their clocks in words,
scoped, polled by HTMX within the query budget, gone once the matter is closed."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from engine.accounts.users import upsert_user
from engine.core import clock
from engine.org.actors import actor_for
from engine.store.models import User
from engine.workflow import items
from tests.conftest import NOW

POLL = {"HX-Request": "true", "HX-Target": "live-board"}
GAS = {"category": "燃气泄漏", "severity": "较大", "location": "7幢3单元"}
LIFT = {"category": "电梯困人", "severity": "一般", "location": "2幢电梯"}


@pytest.fixture
def raised(app, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    upsert_user(
        "xiaohe-ducha", "小河督导", "demo1234", [{"role": "supervisor", "node": "xiaohe"}], now=NOW
    )
    xifang = actor_for(User.get(User.username == "xifang"))
    gas = items.raise_item(
        xifang, "emergency", "lvzhouhuayuan", GAS, now=NOW - dt.timedelta(hours=2, minutes=15)
    )
    lift = items.raise_item(
        xifang, "emergency", "lvzhouhuayuan", LIFT, now=NOW - dt.timedelta(minutes=10)
    )
    return gas, lift


def _row(html: str, location: str) -> str:
    start = html.index(location)
    return html[start : html.index("</tr>", start)]


def test_board_shows_open_emergencies_with_their_clocks(client, auth, raised):
    auth.login("chaohui-ducha")
    html = client.get("/review/live").get_data(as_text=True)
    assert 'hx-trigger="every 15s"' in html and "实时预警看板" in html
    assert "朝晖街道" in html or "朝晖" in html
    gas = _row(html, "7幢3单元")
    # raised 2h15m ago, reported state due after half an hour: late by 1h45m
    assert "已用 2小时15分钟" in gas and "超时 1小时45分钟" in gas and 'class="late"' in gas
    lift = _row(html, "2幢电梯")
    assert "已用 10分钟" in lift and "剩 20分钟" in lift and "超时" not in lift
    assert html.index("7幢3单元") < html.index("2幢电梯")  # the late one first
    # the street's heading counts its open and late matters
    assert "未办结 2 件" in html and '<span class="late">1 项逾期</span>' in html
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}:\d{2}", html)  # no ISO time


@pytest.mark.parametrize(
    "username, sees",
    [
        ("ducha", True),  # the district's supervisor
        ("admin", True),  # the tripartite office
        ("chaohui-ducha", True),  # the street's
        ("xiaohe-ducha", False),  # another street's
        ("dept-xfdd-user", True),  # summoned to the gas leak
        ("dept-zzb-user", False),  # not summoned
    ],
)
def test_board_is_scoped(client, auth, raised, username, sees):
    auth.login(username)
    response = client.get("/review/live")
    assert response.status_code == 200
    assert ("7幢3单元" in response.get_data(as_text=True)) is sees


@pytest.mark.parametrize("username", ["xifang", "lvzhou-yezhu1"])
def test_compound_staff_and_residents_have_no_board(client, auth, raised, username):
    auth.login(username)
    assert client.get("/review/live").status_code == 403


def test_nav_links_the_board_for_departments(client, auth, raised):
    auth.login("dept-xfdd-user")
    assert 'href="/review/live"' in client.get("/notifications").get_data(as_text=True)


def test_poll_returns_the_board_alone_within_budget(client, auth, raised, assert_max_queries):
    auth.login("chaohui-ducha")
    client.get("/review/live", headers=POLL)  # the first fills per-process caches
    with assert_max_queries(8, "live board poll"):
        response = client.get("/review/live", headers=POLL)
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="live-board"' in html and "7幢3单元" in html


def test_closed_emergency_leaves_the_board(client, auth, raised):
    gas, _lift = raised
    xifang = actor_for(User.get(User.username == "xifang"))
    items.transition(
        xifang, gas.id, "false-alarm", {"reason": "现场核实为误报"}, expected=None, now=NOW
    )
    auth.login("chaohui-ducha")
    html = client.get("/review/live", headers=POLL).get_data(as_text=True)
    assert "7幢3单元" not in html and "2幢电梯" in html


def test_live_board_is_a_checked_definition_field_the_designer_sets():
    from werkzeug.datastructures import MultiDict

    from engine.definitions.checks import definition_problems
    from pages.designer import settings

    body = {"key": "x"}
    settings.apply_live_board(body, MultiDict({"resolved-shown": "1", "live_board": "1"}))
    assert body["live_board"] is True
    settings.apply_live_board(body, MultiDict({"resolved-shown": "1"}))
    assert "live_board" not in body
    import json

    from tests.conftest import SEED

    emergency = json.loads((SEED / "items" / "emergency.json").read_text())
    assert emergency["live_board"] is True
    problems = definition_problems(emergency | {"live_board": "yes"}, roles=set(), units=set())
    assert any(p.path == "/live_board" for p in problems), problems


def test_designer_workflow_page_round_trips_the_checkbox(app, client, auth):
    from engine.store.models import Definition
    from tests.web.test_web_designer import form_values

    app.config["WTF_CSRF_ENABLED"] = False
    auth.login("admin")
    form = form_values(client.get("/admin/designer/emergency/workflow").get_data(as_text=True))
    assert form.get("live_board") == "1"  # ticked: the seed turns it on
    form.pop("live_board")
    assert client.post("/admin/designer/emergency/workflow", data=form).status_code == 303
    assert "live_board" not in Definition.get(Definition.key == "emergency").draft


@pytest.mark.parametrize("more", [1, 3])
def test_every_open_emergency_is_on_the_board_whatever_their_number(
    client, auth, raised, more, assert_max_queries
):
    """The items, their summonses' deadlines and their streets are read with IN lists of any
    length (padded to a power of two): each open emergency is listed once under its street,
    with its compound, in five statements for the whole page."""
    xifang = actor_for(User.get(User.username == "xifang"))
    for i in range(more):
        where = {**LIFT, "location": f"{i + 5}幢电梯"}
        items.raise_item(
            xifang, "emergency", "lvzhouhuayuan", where, now=NOW - dt.timedelta(minutes=i)
        )
    auth.login("ducha")
    client.get("/review/live")
    with assert_max_queries(5, "live board"):
        html = client.get("/review/live").get_data(as_text=True)
    assert html.count("<tr class=") == 2 + more
    assert f"未办结 {2 + more} 件" in html
    for i in range(more):
        assert "绿洲花园" in _row(html, f"{i + 5}幢电梯")
    assert html.count('class="card live-street"') == 1  # one street


def _raise_lifts(n: int) -> None:
    xifang = actor_for(User.get(User.username == "xifang"))
    for i in range(n):
        where = {**LIFT, "location": f"{i + 5}幢电梯"}
        items.raise_item(
            xifang, "emergency", "lvzhouhuayuan", where, now=NOW - dt.timedelta(minutes=i)
        )


def test_board_shows_a_street_s_first_rows_and_links_its_own_board(
    client, auth, raised, monkeypatch, assert_max_queries
):
    """Each street's FIRST most urgent rows on the whole board, its heading counting all
    of them, and a link to the street's own board, paged, which the poll keeps."""
    from pages.review import live

    monkeypatch.setattr(live, "FIRST", 3)
    monkeypatch.setattr(live, "PAGE", 4)
    _raise_lifts(5)  # seven open in the street, the gas leak the only late one
    auth.login("chaohui-ducha")
    html = client.get("/review/live").get_data(as_text=True)
    assert html.count("<tr class=") == 3
    assert html.index("7幢3单元") < html.index("2幢电梯")  # the late one first, still
    assert "未办结 7 件" in html and "1 项逾期" in html
    assert 'href="/review/live?street=chaohui"' in html and "查看本街道全部 7 件" in html
    assert "返回全部街道" not in html

    client.get("/review/live?street=chaohui")
    with assert_max_queries(8, "a street's live board"):
        first = client.get("/review/live?street=chaohui").get_data(as_text=True)
    assert first.count("<tr class=") == 4 and "返回全部街道" in first
    assert 'href="/review/live?page=2&amp;street=chaohui"' in first
    assert "查看本街道全部" not in first
    second = client.get("/review/live?street=chaohui&page=2", headers=POLL)
    second = second.get_data(as_text=True)
    assert second.count("<tr class=") == 3 and "<html" not in second
    assert 'hx-get="/review/live?street=chaohui&amp;page=2"' in second  # the poll stays here
    assert 'href="/review/live?page=1&amp;street=chaohui"' in second  # back to the first
    shown = re.findall(r"(\d+)幢电梯|7幢3单元", first + second)
    assert len(shown) == 7  # every open matter on one of the two pages, once


@pytest.mark.parametrize("username, rows", [("chaohui-ducha", 2), ("xiaohe-ducha", 0)])
def test_a_street_s_board_holds_only_what_the_user_sees(client, auth, raised, username, rows):
    auth.login(username)
    response = client.get("/review/live?street=chaohui")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<tr class=") == rows
    assert ("朝晖" in html.split('id="live-board"')[1]) is bool(rows)


def test_a_cut_board_says_so(client, auth, raised, monkeypatch):
    """More open than the board holds: the newest LIMIT listed, and a note saying the
    numbers count those; not cut, no note."""
    from engine.supervision import live

    auth.login("chaohui-ducha")
    assert "看板只列最新的" not in client.get("/review/live").get_data(as_text=True)
    monkeypatch.setattr(live, "LIMIT", 3)
    _raise_lifts(2)  # four open
    html = client.get("/review/live").get_data(as_text=True)
    assert "未办结的紧急事项多于 3 件：看板只列最新的 3 件" in html
    assert html.count("<tr class=") == 3 and "未办结 3 件" in html
    assert "7幢3单元" not in html  # the oldest
    # the street's own board: its rows on the board, not "all" of them
    from pages.review import live as page

    monkeypatch.setattr(page, "FIRST", 2)
    html = client.get("/review/live").get_data(as_text=True)
    assert "查看看板上本街道的 3 件" in html and "查看本街道全部" not in html


def test_a_rows_cells_are_escaped(client, auth, raised):
    """The board writes its rows' HTML in Python (``live_lines``): what a raiser typed is
    text there, never markup."""
    xifang = actor_for(User.get(User.username == "xifang"))
    items.raise_item(
        xifang, "emergency", "lvzhouhuayuan", {**GAS, "location": '<b id="x">9幢</b>'}, now=NOW
    )
    auth.login("chaohui-ducha")
    html = client.get("/review/live").get_data(as_text=True)
    assert '<b id="x">' not in html
    assert "&lt;b id=&#34;x&#34;&gt;9幢&lt;/b&gt;" in html

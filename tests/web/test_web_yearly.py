"""The year-over-year trend of an item type (petitions per street and month) on the
supervisors' dashboards, within the query budget."""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.core import clock
from engine.definitions.definitions import current_version
from engine.metrics import facts, yearly
from engine.org.org import node_by_key
from engine.store.models import Item

BUDGET = 8


def _petition(node_key: str, at: dt.datetime) -> None:
    version = current_version("petition")
    node = node_by_key(node_key)
    Item.create(
        definition=version.definition_id,
        version=version,
        node=node,
        node_path=node.path,
        title="t",
        state="replied",
        closed=True,
        raised_at=at,
        state_since=at,
    )


def _petitions() -> None:
    b = yearly.bounds(clock.now())
    hour = dt.timedelta(hours=1)
    for _ in range(2):  # 2 this year at lvzhouhuayuan (朝晖)
        _petition("lvzhouhuayuan", b.this_start + hour)
    for _ in range(4):  # 4 in January last year
        _petition("lvzhouhuayuan", b.last_start + hour)
    _petition("changzhengqiaolu", b.last_start + 30 * 24 * hour)  # 小河, February last year
    facts.refresh(now=clock.now())


def test_a_street_supervisor_sees_the_trend_by_community(
    app: Any, client: Any, auth: Any, assert_max_queries: Any
) -> None:
    _petitions()
    auth.login("chaohui-ducha")
    board = client.get("/review/n/chaohui").get_data(as_text=True)
    assert "同比趋势" in board and "/review/n/chaohui/yearly/petition" in board
    assert "今年 2 件,去年同期 4 件" in board
    client.get("/review/n/chaohui/yearly/petition")
    with assert_max_queries(BUDGET, "trend page"):
        response = client.get("/review/n/chaohui/yearly/petition")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "物业信访件" in html and "施家花园社区" in html and "-50.0%" in html
    assert "<svg" in html and "petition" not in html.replace("/yearly/petition", "")


def test_the_district_sees_every_street_and_others_see_nothing_outside(
    app: Any, client: Any, auth: Any
) -> None:
    _petitions()
    auth.login("ducha")
    html = client.get("/review/n/gongshu/yearly/petition").get_data(as_text=True)
    assert "朝晖街道" in html and "小河街道" in html and "-100.0%" in html  # 小河: 0 against 1
    auth.logout()
    auth.login("chaohui-ducha")
    assert client.get("/review/n/gongshu/yearly/petition").status_code == 404
    assert client.get("/review/n/chaohui/yearly/bell").status_code == 404  # no trend asked for


def test_the_change_on_last_year_in_words():
    from pages.review.trends import change

    assert change(None) == "–" and change({"year_change_rate": None}) == "–"
    assert change({"year_change_rate": -33.33}) == '<span class="good">-33.3%</span>'
    assert change({"year_change_rate": 50}) == '<span class="bad">+50.0%</span>'
    assert change({"year_change_rate": 0.0}) == '<span class="">+0.0%</span>'

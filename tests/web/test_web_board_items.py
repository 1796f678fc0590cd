"""The items behind a count of the overdue board (/review/overdue/<level>/<key>): every
overdue item in deadline order with its node and late summonses, each with its urge form,
whatever the number of items (the late summonses are read by a padded IN list)."""

from __future__ import annotations

import re

import pytest

from engine.core import clock
from tests.review_data import NOW, H, build, make_item, summons


@pytest.fixture
def data(app, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    return build()


def _rows(html: str) -> list[str]:
    return re.findall(r'<a href="/work/items/\d+">([^<]+)</a>', html)


@pytest.mark.parametrize("count", [1, 3, 5])
def test_every_overdue_item_is_listed_with_its_late_summonses(client, auth, data, count):
    extra = [
        make_item("lvzhouhuayuan", due=NOW - (10 + i) * H, title=f"逾期{i}") for i in range(count)
    ]
    late = [summons(item, "dept-zhifa", NOW - 100 * H) for item in extra]
    on_time = summons(extra[0], "dept-gaj", NOW - H)  # within its report deadline: not late
    make_item("changzhengqiaolu", due=NOW - 20 * H, title="小河逾期")  # another street
    auth.login("chaohui-ducha")
    for path in ("/review/overdue/compound/lvzhouhuayuan", "/review/overdue/street/chaohui"):
        html = client.get(path).get_data(as_text=True)
        # earliest deadline first: the extra items (10+ hours late), then 三号 (5 hours)
        assert _rows(html) == [f"逾期{i}" for i in reversed(range(count))] + ["三号"]
        assert "绿洲花园" in html and "小河逾期" not in html
        for summons_ in late:
            assert f"/review/summons/{summons_.id}/urge" in html
        assert f"/review/summons/{on_time.id}/urge" not in html
        assert html.count('class="urge-form"') == 2 * (
            count + 1
        )  # each item, each late summons (三号 has one)
        assert f'name="next" value="{path}?"' in html


def test_a_departments_items_are_those_its_late_summonses_are_on(client, auth, data):
    item = make_item("lvzhouhuayuan", due=NOW + 50 * H, title="执法迟到")
    summons(item, "dept-zhifa", NOW - 100 * H)
    auth.login("chaohui-ducha")
    html = client.get("/review/overdue/department/dept-zhifa").get_data(as_text=True)
    assert _rows(html) == ["执法迟到"]
    assert "区综合行政执法局" in html
    within = client.get("/review/overdue/department/dept-zhifa?within=chaohui")
    assert _rows(within.get_data(as_text=True)) == ["执法迟到"]
    assert client.get("/review/overdue/street/xiaohe").status_code == 404


def test_every_urge_form_carries_the_pages_token(client, auth, data):
    """The list signs the CSRF token once and hands it to each form: the same as the
    layout's."""
    auth.login("chaohui-ducha")
    html = client.get("/review/overdue/compound/lvzhouhuayuan").get_data(as_text=True)
    tokens = re.findall(r'name="csrf_token" value="([^"]*)"', html)
    layout = re.findall(r'name="csrf-token" content="([^"]*)"', html)
    assert len(tokens) >= 2 and set(tokens) == set(layout) and all(tokens)

"""The lists behind a count: the items behind an indicator (/review/n/<key>/items) and
behind a count of the overdue board (/review/overdue/<level>/<key>), every one of them a
page at a time; the home page's overdue items, the longest overdue with a link to the rest."""

from __future__ import annotations

import re
from typing import Any

import pytest

from engine.core import clock
from engine.org.actors import actor_for
from engine.org.scope import evidence_items
from engine.store.models import OrgNode, User
from pages.review.dashboards import EVIDENCE_PAGE

# A demo district, generated once per session (tests/conftest.py, ``demo_templates``).
DEMO = {"compounds": 40, "items": 200, "seed": 1}


@pytest.fixture
def demo(app: Any) -> None:
    """The tests asking for it run on a copy of the demo (``DEMO``)."""


ITEM_LINK = re.compile(r'href="/work/items/(\d+)"')


def _walk(client: Any, url: str) -> list[list[int]]:
    """The item ids of each page of the list at ``url``, following its "next page" link."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        pages.append([int(i) for i in ITEM_LINK.findall(text)])
        after = re.search(r'<a href="([^"]+)">下一页</a>', text)
        url = after.group(1).replace("&amp;", "&") if after else ""
        assert len(pages) < 50, "the pages never end"
    return pages


@pytest.mark.parametrize(
    "username, key, wanted",
    [
        ("ducha", "gongshu", "all"),
        ("ducha", "gongshu", "open"),
        ("chaohui-ducha", "chaohui", "all"),
    ],
)
def test_the_list_pages_through_every_item_behind_the_indicator(
    demo, client, auth, username, key, wanted
):
    """Pages of at most ``EVIDENCE_PAGE``, none overlapping, that together hold every
    item the reader may see behind the indicator, in the list's order (it showed the
    first 200 and nothing of the rest)."""
    actor = actor_for(User.get(User.username == username))
    node = OrgNode.get(OrgNode.key == key)
    expected = [
        i.id for i in evidence_items(actor, node, filter=wanted, type_key=None, now=clock.now())
    ]
    assert len(expected) > 2 * EVIDENCE_PAGE  # three pages at least: a middle one too
    auth.login(username)
    pages = _walk(client, f"/review/n/{key}/items?filter={wanted}")
    assert all(0 < len(page) <= EVIDENCE_PAGE for page in pages)
    assert [i for page in pages for i in page] == expected
    # a later page links back to the one before, with the same filter
    second = client.get(f"/review/n/{key}/items?filter={wanted}&page=2").get_data(as_text=True)
    assert f"filter={wanted}" in second and "page=1" in second and "上一页" in second


ROW = re.compile(
    r'<tr class="(overdue)?"><td>(\d+)</td><td><a href="/work/items/\d+">[^<]*</a></td>'
    r"<td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>"
)


def test_each_row_shows_its_state_times_and_whether_it_is_overdue(demo, client, auth):
    """A row's state by its version's label, its raised time and deadline as the staff
    lists show times, and the overdue mark on the open items past their deadline only."""
    from engine.store.models import Item
    from pages.extensions import localtime, state_label

    now = clock.now()
    auth.login("ducha")
    text = client.get("/review/n/gongshu/items?filter=all").get_data(as_text=True)
    rows = ROW.findall(text)
    assert len(rows) == EVIDENCE_PAGE
    marked = set()
    for overdue, item_id, state, raised, deadline in rows:
        item = Item.get_by_id(int(item_id))
        assert state == state_label(item) and state
        assert raised == localtime(item.raised_at)
        assert deadline == (localtime(item.due_at) if item.due_at else "–")
        assert bool(overdue) == bool(item.due_at and not item.closed and item.due_at < now)
        marked.add(bool(overdue))
    assert marked == {True, False}  # the demo's first page has both


def test_a_page_past_the_end_is_empty_and_a_bad_page_names_itself(demo, client, auth):
    auth.login("ducha")
    past = client.get("/review/n/gongshu/items?filter=all&page=999")
    assert past.status_code == 200 and not ITEM_LINK.findall(past.get_data(as_text=True))
    assert "下一页" not in past.get_data(as_text=True)
    for bad in ("0", "x", "-1"):
        response = client.get(f"/review/n/gongshu/items?filter=all&page={bad}")
        assert response.status_code == 422 and "page" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "username, level, key",
    [
        ("ducha", "department", None),
        ("ducha", "street", "chaohui"),
        ("chaohui-ducha", "department", None),
        ("chaohui-ducha", "street", "chaohui"),
    ],
)
def test_the_items_behind_a_board_count_page_through_all_of_them(
    demo, client, auth, monkeypatch, username, level, key
):
    """The overdue board's drill-down, a page at a time (a few rows a page here, fifty
    served): pages in the list's order that together hold every item behind the count,
    each with its late summonses' urge forms; the count in the heading only when one
    page holds them all (it said 200 when a department was late on thousands)."""
    from engine.supervision import board_items
    from pages.review import board

    now = clock.now()
    monkeypatch.setattr(clock, "now", lambda: now)
    actor = actor_for(User.get(User.username == username))

    def listed(node: OrgNode) -> list[int]:
        rows = board_items.overdue_items(actor, level, node, now=now, limit=10**6)
        return [row["id"] for row in rows]

    # a department: the one late on most items the reader sees
    nodes = OrgNode.select().where((OrgNode.key == key) if key else (OrgNode.kind == "department"))
    node = max(nodes, key=lambda n: len(listed(n)))
    key, expected = node.key, listed(node)
    assert len(expected) >= 2
    per_page = max(1, (len(expected) - 1) // 2)  # two pages at least, three where it can
    monkeypatch.setattr(board, "OVERDUE_PAGE", per_page)
    auth.login(username)
    pages = _walk(client, f"/review/overdue/{level}/{key}")
    assert all(0 < len(page) <= per_page for page in pages)
    assert [i for page in pages for i in page] == expected
    second = client.get(f"/review/overdue/{level}/{key}?page=2").get_data(as_text=True)
    assert "上一页" in second and 'class="urge-form"' in second
    assert not re.search(r"<h1>[^<]*<small", second)  # no count that is only the page's
    monkeypatch.setattr(board, "OVERDUE_PAGE", len(expected))
    whole = client.get(f"/review/overdue/{level}/{key}").get_data(as_text=True)
    assert f'<small class="muted">{len(expected)}</small>' in whole and "下一页" not in whole


@pytest.mark.parametrize("username", ["ducha", "chaohui-ducha", "xifang", "admin"])
def test_the_list_behind_an_indicator_is_the_readers_items_under_the_node(demo, username):
    """Every node the reader may review, every filter: the list holds exactly the items
    the reader sees (``visible_items``) under the node, newest first (the overdue ones
    longest overdue first); inside a subtree the reader sees whole the scope condition is
    left out, and at a root the path is tested on each row, but the items are the same."""
    from engine.org.scope import item_within, may_review, visible_items
    from engine.store.models import Item
    from pages.review.dashboards import EVIDENCE_FILTERS

    actor = actor_for(User.get(User.username == username))
    now = clock.now()
    nodes = [n for n in OrgNode.select() if may_review(actor, n)]
    assert any(n.parent_id is None for n in nodes) or username in ("chaohui-ducha", "xifang")
    for node in nodes:
        seen = {i.id for i in visible_items(actor).where(item_within(node.path))}
        for wanted in EVIDENCE_FILTERS:
            listed = list(evidence_items(actor, node, filter=wanted, type_key=None, now=now))
            ids = [i.id for i in listed]
            assert len(ids) == len(set(ids)) and set(ids) <= seen, (node.key, wanted)
            if wanted == "overdue":  # longest overdue first
                assert [(i.due_at, i.id) for i in listed] == sorted(
                    (i.due_at, i.id) for i in listed
                )
            else:
                assert [(i.raised_at, i.id) for i in listed] == sorted(
                    ((i.raised_at, i.id) for i in listed), reverse=True
                )
            if wanted == "all":
                assert set(ids) == seen, node.key
    assert Item.select().count() > 0


@pytest.mark.parametrize("username", ["ducha", "chaohui-ducha", "admin"])
def test_the_home_page_lists_the_longest_overdue_and_links_the_rest(
    demo, client, auth, monkeypatch, username
):
    """/review/ lists the ``OVERDUE_SHOWN`` longest overdue items in the reader's scope, in
    deadline order, and links the overdue board when there are more (it listed a hundred
    and said nothing of the others)."""
    from engine.supervision import overview
    from pages import review

    now = clock.now()
    monkeypatch.setattr(clock, "now", lambda: now)
    actor = actor_for(User.get(User.username == username))
    every = [o.id for o in overview.overdue_items(actor, now=now, limit=10**6)]
    auth.login(username)
    for shown in (5, len(every)):
        monkeypatch.setattr(review, "OVERDUE_SHOWN", shown)
        page = client.get("/review/").get_data(as_text=True)
        panel = page.split("<h2>逾期事项</h2>", 1)[1].split("</section>", 1)[0]
        assert [int(i) for i in ITEM_LINK.findall(panel)] == every[:shown]
        linked = f'href="/review/overdue">全部 {len(every)} 件逾期事项' in panel
        assert linked == (shown < len(every))
    assert len(every) > 5

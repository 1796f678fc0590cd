"""Query budgets of the main pages: a page that starts running a query per row (N+1)
fails here, naming its statements.

The data is the demo's (items with summonses, replies, ratings at many compounds), so
every list below has several rows; a per-row query would add one statement per row.
Each page is counted on its second visit, as a running server serves it: the
first fills per-process caches (compiled runtimes, index scores). Every main page of
/work, /r and /review (and an item page) runs at most ``BUDGET`` statements (issue 10,
point 7; docs/performance.md, "Pages").
"""

from __future__ import annotations

from typing import Any

import pytest
from peewee import fn

from engine.org.actors import actor_for
from engine.org.scope import visible_assignments, visible_items
from engine.store.decision_tables import Meeting
from engine.store.models import Assignment, Grant, Item, OrgNode, User
from engine.store.resident_tables import Statement

BUDGET = 8  # statements per page, the session's lookup and the header's count included


# A demo district, generated once per session (tests/conftest.py, ``demo_templates``).
DEMO = {"compounds": 40, "items": 200, "seed": 1}


@pytest.fixture
def demo(app: Any) -> None:
    """The tests asking for it run on a copy of the demo (``DEMO``)."""


def _busiest_item(username: str) -> int:
    actor = actor_for(User.get(User.username == username))
    ids = [i.id for i in visible_items(actor).order_by(Item.id)]
    assert len(ids) >= 3, f"{username} sees too few items for an N+1 to show"
    counts = dict(
        Assignment.select(Assignment.item, fn.COUNT(Assignment.id))
        .where(Assignment.item.in_(ids))
        .group_by(Assignment.item)
        .tuples()
    )
    return max(ids, key=lambda i: (counts.get(i, 0), -i))


def _first_at(model: Any, node_key: str) -> int:
    """The first record of ``model`` (a meeting, a poll, a statement) at the node."""
    found = (
        model.select(model.id)
        .join(OrgNode, on=(model.node == OrgNode.id))
        .where(OrgNode.key == node_key)
        .order_by(model.id)
        .scalar()
    )
    assert found is not None, (model, node_key)
    return int(found)


def _busiest_resident() -> str:
    query = (
        User.select(User.username)
        .join(Item, on=(Item.raised_by == User.id))
        .join(Grant, on=(Grant.user == User.id))
        .where(Grant.role == "resident")
        .group_by(User.username)
        .order_by(fn.COUNT(Item.id).desc(), User.username)
    )
    return str(query.first().username)


def _pages() -> list[tuple[str, str, int]]:
    """(user, page, budget) for each role's main pages."""
    dept = actor_for(User.get(User.username == "dept-zhifa-user"))
    summoned = visible_assignments(dept).order_by(Assignment.id).first()
    assert summoned is not None
    resident = _busiest_resident()
    street, district, compound = "chaohui", "gongshu", "lvzhouhuayuan"
    return [
        ("xifang", "/work/", BUDGET),
        ("xifang", "/work/?all=1", BUDGET),
        ("xifang", "/work/?view=summons", BUDGET),
        ("xifang", f"/work/items/{_busiest_item('xifang')}", BUDGET),
        ("xifang", f"/work/new?node={compound}", BUDGET),
        ("xifang", f"/review/n/{compound}", BUDGET),
        ("xifang", "/notifications", BUDGET),
        ("lvzhouhuayuan-wy", "/work/", BUDGET),
        ("lvzhouhuayuan-wy", "/work/?view=items", BUDGET),
        ("dept-zhifa-user", "/work/", BUDGET),
        ("dept-zhifa-user", "/work/?view=items", BUDGET),
        ("dept-zhifa-user", f"/work/items/{summoned.item_id}", BUDGET),
        ("dept-zhifa-user", "/review/evaluation", BUDGET),
        ("chaohui-ducha", "/review/", BUDGET),
        ("chaohui-ducha", "/review/overdue", BUDGET),
        ("chaohui-ducha", "/review/overdue?level=compound", BUDGET),
        ("chaohui-ducha", "/review/overdue?level=department", BUDGET),
        ("chaohui-ducha", f"/review/n/{street}", BUDGET),
        ("chaohui-ducha", f"/review/n/{street}/items?filter=open", BUDGET),
        ("chaohui-ducha", f"/review/n/{street}/items?filter=overdue", BUDGET),
        ("chaohui-ducha", f"/review/overdue/street/{street}", BUDGET),
        ("ducha", "/review/overdue/department/dept-zhifa", BUDGET),
        ("chaohui-ducha", "/review/evaluation", BUDGET),
        ("chaohui-ducha", "/work/", BUDGET),
        ("chaohui-ducha", f"/work/items/{_busiest_item('chaohui-ducha')}", BUDGET),
        ("ducha", "/review/", BUDGET),
        ("ducha", f"/review/?node={street}", BUDGET),
        ("ducha", "/review/overdue", BUDGET),
        ("ducha", "/review/overdue?level=department", BUDGET),
        ("ducha", f"/review/overdue?level=department&within={street}", BUDGET),
        ("ducha", f"/review/n/{district}", BUDGET),
        ("ducha", "/review/evaluation", BUDGET),
        ("ducha", "/work/", BUDGET),
        ("lvzhou-yezhu1", "/r/", BUDGET),
        ("lvzhou-yezhu1", "/r/new/bell", BUDGET),
        (resident, "/r/", BUDGET),
        (resident, f"/r/items/{_busiest_item(resident)}", BUDGET),
        ("admin", "/review/", BUDGET),
        ("admin", "/work/", BUDGET),
        ("admin", "/admin/", BUDGET),
        ("ducha", "/work/directories", BUDGET),
        ("ducha", "/work/directories/social-orgs", BUDGET),
        ("ducha", "/work/directories/in-service-members", BUDGET),
        ("ducha", "/work/directories/property-party-orgs/gongshu", BUDGET),
        ("chaohui-ducha", "/work/directories/volunteer-projects", BUDGET),
        ("xifang", "/work/directories", BUDGET),
        ("xifang", f"/work/directories/in-service-members/{compound}", BUDGET),
        ("xifang", "/work/decisions", BUDGET),
        ("chaohui-ducha", "/work/decisions", BUDGET),
        ("ducha", "/work/decisions", BUDGET),
        ("chaohui-ducha", "/work/cobuild", BUDGET),
        ("ducha", "/work/cobuild", BUDGET),
        ("ducha", "/work/accounts", BUDGET),
        ("xifang", "/work/accounts", BUDGET),
        ("lvzhou-yezhu1", f"/r/help?node={compound}", BUDGET),
        ("xifang", f"/work/meetings/{_first_at(Meeting, compound)}", BUDGET),
        ("xifang", f"/work/accounts/{_first_at(Statement, compound)}", BUDGET),
        ("ducha", "/review/live", BUDGET),
        ("dept-zhifa-user", "/review/live", BUDGET),
        ("ducha", f"/review/n/{district}/yearly/mediation", BUDGET),
        ("chaohui-ducha", f"/review/n/{street}/yearly/mediation", BUDGET),
        ("admin", f"/review/overdue/street/{street}", BUDGET),
    ]


def test_main_pages_keep_their_query_budgets(app: Any, demo: None, assert_max_queries: Any) -> None:
    over = []
    for username, page, budget in _pages():
        client = app.test_client()
        assert (
            client.post("/login", data={"username": username, "password": "demo1234"}).status_code
            == 303
        )
        client.get(page)  # the first visit fills the process's caches (runtimes, index scores)
        try:
            with assert_max_queries(budget, f"{username} {page}"):
                response = client.get(page)
        except AssertionError as exc:
            over.append(str(exc))
            continue
        assert response.status_code == 200, (username, page, response.status_code)
    assert not over, "\n\n".join(over)


def test_review_home_costs_the_same_whatever_the_number_of_children(
    app: Any,
    demo: None,
    auth: Any,
    client: Any,
    count_queries: Any,
) -> None:
    """/review/ of the district (18 streets and departments) and of one street (a few
    communities) run as many statements: the counts are grouped, not one set per child."""
    auth.login("ducha")
    client.get("/review/")
    with count_queries() as district:
        assert client.get("/review/").status_code == 200
    with count_queries() as street:
        assert client.get("/review/?node=xiaohe").status_code == 200
    assert district.count <= street.count


def test_the_district_reads_no_subtree_and_no_statement_planned_per_run(
    app: Any, demo: None, auth: Any, client: Any, count_queries: Any
) -> None:
    """The district's lists read no node ids of its own subtree (the session's lookup
    reads whether its root is the only one), and test an item's path against an
    expression, not a bare parameter: SQLite plans a statement with ``GLOB ?`` again on
    every run (the office's inbox: 0.36 ms a run, 0.20 planned once)."""
    for username in ("admin", "ducha"):
        auth.login(username)
        client.get("/work/")
        with count_queries() as counted:
            assert client.get("/work/").status_code == 200
        statements = "\n".join(counted.statements)
        assert 'FROM "org_node" AS "t1" WHERE ("t1"."path"' not in statements, username
        assert "GLOB ?" not in statements, (username, statements)
        assert counted.count <= 5, (username, statements)


def test_the_boards_by_department_sum_the_kept_late_counts(
    app: Any, demo: None, auth: Any, client: Any, count_queries: Any
) -> None:
    """The district's board by department, the district's within a street and a street
    supervisor's sum the late summonses kept by deadline (``summons_due_tally``) rather
    than count every late summons and its distinct items (70,000 of them at the stress
    million: 57 ms). (Readers who count them still: tests/engine/test_engine_tallies.py.)"""
    street = OrgNode.get(OrgNode.kind == "street").key
    for username, page in (
        ("ducha", "/review/overdue?level=department"),
        ("ducha", f"/review/overdue?level=department&within={street}"),
        ("chaohui-ducha", "/review/overdue?level=department"),
    ):
        auth.login(username)
        client.get(page)
        with count_queries() as counted:
            assert client.get(page).status_code == 200, (username, page)
        statements = "\n".join(counted.statements)
        assert "summons_due_tally" in statements, (username, page, statements)
        assert "COUNT(DISTINCT" not in statements, (username, page, statements)


def test_the_budget_helper_fails_on_a_query_per_row(app: Any, assert_max_queries: Any) -> None:
    with pytest.raises(AssertionError, match="ran 5 queries"), assert_max_queries(3, "loop"):
        for item_id in range(5):
            Item.get_or_none(Item.id == item_id)


def test_every_kind_of_page_a_user_reaches_keeps_the_budget(
    app: Any, demo: None, assert_max_queries: Any
) -> None:
    """Beyond the list above: from each user's main pages, every route of /work, /r and
    /review their links reach within two clicks (one page per route, as bench_pages.py
    --wide measures them) runs at most ``BUDGET`` statements on its second visit."""
    from bench.bench_pages import login, wider

    roots: dict[str, list[str]] = {}
    for username, page, _budget in _pages():
        roots.setdefault(username, []).append(page)
    walked, over = 0, []
    for username, pages in wider(app, roots).items():
        client = login(app, username)
        for page in pages[len(roots[username]) :]:
            client.get(page)
            try:
                with assert_max_queries(BUDGET, f"{username} {page}"):
                    response = client.get(page)
            except AssertionError as exc:
                over.append(str(exc))
                continue
            assert response.status_code in (200, 303), (username, page, response.status_code)
            walked += 1
    assert walked >= 60, f"the walk reached only {walked} pages beyond the main ones"
    assert not over, "\n\n".join(over)

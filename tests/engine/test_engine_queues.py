"""The inbox pages the union of an actor's ways of seeing items, each read on its own
index in deadline order; the pages must equal one ordered query over the union."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest

from engine.store.models import OrgNode, User
from engine.workflow import queues
from tests.engine.conftest import make_item, make_summons

H = dt.timedelta(hours=1)


def _paged(actor, filters, count: int) -> list[int]:
    """The inbox's ids page after page, past the last of ``count`` items (one short page
    and one empty)."""
    got: list[int] = []
    for page in range(1, count // queues.PAGE_SIZE + 3):
        got += [i.id for i in queues.inbox(actor, filters, page=page)]
    return got


@pytest.fixture
def spread(app):
    """Items in the commissioner's compound, raised by them elsewhere and handed to them,
    with tied, missing and past deadlines, some closed."""
    rng = random.Random(5)
    home = OrgNode.get(OrgNode.key == "lvzhouhuayuan")
    away = OrgNode.get(OrgNode.key == "changzhengqiaolu")
    xifang = User.get(User.username == "xifang")
    for n in range(140):
        node = home if n % 3 else away
        due = None if n % 7 == 0 else rng.choice([-30, -5, 0, 0, 12, 48, 200]) + rng.randint(0, 3)
        item = make_item(
            node, state="collected", raised_hours_ago=10, due_in_hours=due, closed=n % 11 == 0
        )
        if node is away and n % 2:
            item.raised_by = xifang  # raised by the commissioner in another compound
        elif node is away and n % 5 == 0:
            item.handler = xifang  # handed to the commissioner by a supervisor
        item.save()


@pytest.mark.parametrize(
    "filters",
    [queues.Filters(), queues.Filters(open_only=False), queues.Filters(state="collected")],
)
def test_merged_pages_equal_one_ordered_query(spread, actor_of, filters):
    actor = actor_of("xifang")
    expected = [i.id for i in queues.items_query(actor, filters)]
    assert len(expected) > 2 * queues.PAGE_SIZE  # three pages at least, the last one short
    assert _paged(actor, filters, len(expected)) == expected


@pytest.fixture
def summoned(app):
    """A department summoned on items of two compounds (tied, missing and past deadlines,
    some closed, some summoned twice) beside items it was not summoned on."""
    rng = random.Random(11)
    dept = OrgNode.get(OrgNode.key == "dept-zhifa")
    nodes = [OrgNode.get(OrgNode.key == k) for k in ("lvzhouhuayuan", "changzhengqiaolu")]
    for n in range(150):
        due = None if n % 9 == 0 else rng.choice([-30, -5, 0, 0, 12, 48]) + rng.randint(0, 2)
        item = make_item(
            nodes[n % 2],
            state="collected",
            raised_hours_ago=10,
            due_in_hours=due,
            closed=n % 13 == 0,
        )
        if n % 4:
            for _ in range(1 + (n % 10 == 1)):
                make_summons(item, dept, report_late=None, done_late=None)


@pytest.mark.parametrize(
    ("few", "few_open"), [(10_000, 1_000), (0, 1_000), (80, 1_000), (0, 0), (80, 20)]
)
@pytest.mark.parametrize(
    "filters", [queues.Filters(), queues.Filters(open_only=False), queues.Filters(mine=True)]
)
@pytest.mark.parametrize("unit_by_unit", [8, 0])
def test_a_units_items_page_alike_either_way(
    summoned, actor_of, monkeypatch, few, few_open, filters, unit_by_unit
):
    """A summoned unit's items are looked up by id when it has few summonses; with many,
    its open ones are read from its stored pairs in deadline order, or (a unit among more
    than ``scope.UNIT_BY_UNIT``) looked up from the stored pairs while they are few and
    found in deadline order otherwise, as its closed ones are (``scope.FEW_SUMMONSES``,
    ``scope.FEW_OPEN``; 80 is below its summonses here, 20 below its open items): the
    pages are the same every way, and equal one ordered query."""
    from engine.org import scope

    monkeypatch.setattr(scope, "FEW_SUMMONSES", few)
    monkeypatch.setattr(scope, "FEW_OPEN", few_open)
    monkeypatch.setattr(scope, "UNIT_BY_UNIT", unit_by_unit)
    queues._INBOX_STATEMENTS.clear()  # the threshold is in the built statement
    actor = actor_of("dept-zhifa-user")
    expected = [i.id for i in queues.items_query(actor, filters)]
    assert len(expected) > 2 * queues.PAGE_SIZE
    got: list[int] = []
    built: list[int] = []
    for page in range(1, len(expected) // queues.PAGE_SIZE + 3):
        got += [i.id for i in queues.inbox(actor, filters, page=page)]
        parts = queues.inbox_parts(actor, filters, queues.LIST_FIELDS)
        each_closed = not filters.open_only
        built += [i.id for i in queues.merged_by_deadline(parts, page, each_closed=each_closed)]
    assert got == expected and built == expected
    queues._INBOX_STATEMENTS.clear()


# A department's list's parts: its open items from its stored pairs in deadline order, or
# (a unit among many) from the stored pairs looked up by id; its summonses' items looked up
# by id, its items walked in deadline order (then the raised and handed parts).
ORDERED, PAIRED, LOOKED_UP, WALKED = "ordered", "paired", "looked up", "walked"


@pytest.mark.parametrize(
    ("few", "few_open", "unit_by_unit", "open_way", "closed_way"),
    [
        (10_000, 1_000, 8, ORDERED, LOOKED_UP),
        (0, 1_000, 8, ORDERED, WALKED),
        (10_000, 0, 8, ORDERED, LOOKED_UP),  # many open items: still its pairs in order
        (10_000, 1_000, 0, PAIRED, LOOKED_UP),
        (0, 1_000, 0, PAIRED, WALKED),
        (10_000, 0, 0, WALKED, LOOKED_UP),
    ],
)
@pytest.mark.parametrize("open_only", [True, False])
def test_a_unit_reads_its_items_one_way(
    summoned, actor_of, monkeypatch, few, few_open, unit_by_unit, open_way, closed_way, open_only
):
    """Of the ways to a unit's items, the page reads the one its units (few: each one's
    pairs in deadline order) or its number of open items picks for its open items, and
    the one its number of summonses picks for its closed ones: the others' LIMIT is 0 (an
    open list leaves the closed items' ways out), and the statement gives the rows of one
    ordered query. The size checks are worked out once, before the statement, and an open
    list works out only the one it reads (none when its units' pairs are read in order)."""
    from engine.org import scope
    from engine.store.db import database

    actor = actor_of("dept-zhifa-user")
    fields = (queues.Item.id, queues.Item.due_at)
    filters = queues.Filters(open_only=open_only)
    monkeypatch.setattr(scope, "FEW_SUMMONSES", few)
    monkeypatch.setattr(scope, "FEW_OPEN", few_open)
    monkeypatch.setattr(scope, "UNIT_BY_UNIT", unit_by_unit)
    queues._INBOX_STATEMENTS.clear()
    sql, params = queues._inbox_statement(actor, filters, fields, queues.PAGE_SIZE)
    # its checks (the open items' alone for an open list), a statement of their own;
    # then the walk's probes (dated and undated; with the closed items, each arm twice:
    # open, closed)
    ((_, _, asked),) = queues._INBOX_STATEMENTS.values()
    ordered = unit_by_unit > 0
    step = 1 if open_only else 2
    checks = asked[0] if asked else ""
    open_checks = 0 if ordered else 1
    assert checks.count("EXISTS(SELECT 1 FROM") == open_checks + (0 if open_only else 1)
    assert ('"assignment"' in checks) is not open_only
    walked = 0 if ordered and open_only else 2 * step
    assert sql.count("EXISTS(SELECT 1 FROM") == walked
    assert ('"unit_open_item"' in sql) and (sql.count('"due_at"') > 0)
    arms = sql.split(" UNION ALL ")
    if ordered:  # its pairs' arms, dated and undated, in the pairs' index order
        paired = [arm for arm in arms if '"unit_open_item"' in arm]
        assert len(paired) == 2 * step
        assert all('."due_at"' in arm and "+" not in arm for arm in paired)
        assert all(' ORDER BY "t2"."due_at", "t2"."item_id" DESC' in arm for arm in paired[:step])
        assert all(' ORDER BY "t2"."item_id" DESC' in arm for arm in paired[step:])
    first = ORDERED if ordered else PAIRED
    ways = [first] if ordered and open_only else [first, WALKED]
    if not open_only:
        ways = [first, LOOKED_UP, WALKED]
    parts = len(ways) + 2  # and raised, handed
    assert len(arms) == 2 * parts * step  # dated and undated
    found = database.execute_sql(sql, params).fetchall()
    assert len(found) == len({r[0] for r in found})  # one way read, no item twice
    numbered = " UNION ALL ".join(
        arm.replace("SELECT * FROM (", f"SELECT {n} AS arm, * FROM (", 1)
        for n, arm in enumerate(arms)
    )
    read = {arm for arm, *_ in database.execute_sql(numbered, params).fetchall()}

    def numbers(way: str, shut: int) -> set[int]:  # its arms' numbers, dated and undated
        return {step * (half * parts + ways.index(way)) + shut for half in (0, 1)}

    summoned_arms = {n for way in ways for shut in range(step) for n in numbers(way, shut)}
    wanted = numbers(open_way, 0) | (set() if open_only else numbers(closed_way, 1))
    assert read & summoned_arms <= wanted
    assert min(numbers(open_way, 0)) in read  # its open items with a deadline
    if not open_only:
        assert min(numbers(closed_way, 1)) in read  # its closed items with a deadline
    expected = [i.id for i in queues.items_query(actor, filters)][: queues.PAGE_SIZE]
    assert [r.id for r in queues.merged_page(queues.rows_of(found, fields), 1)] == expected
    queues._INBOX_STATEMENTS.clear()


@pytest.mark.parametrize("few_open", [1_000, 0])
@pytest.mark.parametrize("flipped", [False, True])
def test_a_list_s_size_checks_are_kept_and_only_choose_the_way(
    summoned, actor_of, monkeypatch, few_open, flipped
):
    """A list's size checks (which of two ways reads the same items: a unit's many
    summonses, its many open items) are worked out before its statement and kept
    (``prepared.kept_answers``): the next visit asks none. Whatever they answer — the
    opposite of what the counts say, as an answer kept from before a unit grew would —
    the pages equal one ordered query."""
    from engine.org import scope
    from engine.store import prepared
    from engine.store.db import counting_queries

    monkeypatch.setattr(scope, "UNIT_BY_UNIT", 0)  # the department's units: checked
    monkeypatch.setattr(scope, "FEW_OPEN", few_open)
    queues._INBOX_STATEMENTS.clear()
    prepared.forget_answers()
    actor = actor_of("dept-zhifa-user")
    filters = queues.Filters(open_only=False)
    asked = []
    real = prepared.kept_answers

    def answers(sql, params):
        asked.append(sql)
        found = real(sql, params)
        return tuple(not a for a in found) if flipped else found

    monkeypatch.setattr(queues, "kept_answers", answers)
    with counting_queries() as first:
        queues.inbox(actor, filters)
    with counting_queries() as again:
        queues.inbox(actor, filters)
    assert len(asked) == 2 and asked[0] == asked[1]  # asked each time ...
    assert asked[0] in first.statements  # ... worked out the first
    assert asked[0] not in again.statements  # ... and kept
    assert again.count == first.count - 1
    expected = [i.id for i in queues.items_query(actor, filters)]
    assert len(expected) > queues.PAGE_SIZE
    assert _paged(actor, filters, len(expected)) == expected
    queues._INBOX_STATEMENTS.clear()


def test_inbox_rows_leave_the_answers_out(spread, actor_of):
    rows = queues.inbox(actor_of("xifang"))
    assert rows and all(row.data is None for row in rows)


@pytest.mark.parametrize("id_list_limit", [400, 0])
@pytest.mark.parametrize("username", ["xifang", "lvzhouhuayuan-wy", "dept-zhifa-user", "ducha"])
def test_prepared_inbox_equals_the_built_one(
    spread, actor_of, monkeypatch, username, id_list_limit
):
    """The inbox's statement, prepared once per shape (``_inbox_statement``), gives the
    pages that building the parts each time gives, for every filter it takes as values
    (as models, and as the pages' light rows merged before they are converted);
    so does the summons list's first page. With ``ID_LIST_LIMIT`` 0 every subtree is a
    large one (its path a value)."""
    from engine.org import scope
    from engine.store.models import Definition

    monkeypatch.setattr(scope, "ID_LIST_LIMIT", id_list_limit)
    actor = actor_of(username)
    kind = Definition.select().where(Definition.kind == "item_type").first().key
    for filters in [
        queues.Filters(),
        queues.Filters(open_only=False),
        queues.Filters(state="collected"),
        queues.Filters(type=kind, open_only=False),
        queues.Filters(mine=True),
        queues.Filters(mine=True, open_only=False, state="collected"),
    ]:
        fields = queues.LIST_FIELDS
        for page in (1, 2, 3):
            built = queues.merged_by_deadline(
                queues.inbox_parts(actor, filters, fields), page, each_closed=not filters.open_only
            )
            assert [i.id for i in queues.inbox(actor, filters, page=page)] == [i.id for i in built]
            # the pages' light rows, merged as read and then converted: the same rows
            shown = queues.inbox_rows(actor, filters, queues.INBOX_SHOWN, page=page)
            assert [(r.id, r.due_at, r.title) for r in shown] == [
                (i.id, i.due_at, i.title) for i in built
            ]
    for open_only in (True, False):
        query = queues.summons_filtered(actor, open_only=open_only).select(queues.Assignment.id)
        due, tiebreak = queues.Assignment.next_due_at, queues.Assignment.id
        if id_list_limit == 0:
            due, tiebreak = scope.backend().unindexed(due), scope.backend().unindexed(tiebreak)
        built = [a.id for a in queues.by_deadline(query, due, tiebreak, 1)]
        assert [a.id for a in queues.summons(actor, open_only=open_only)] == built


def test_prepared_inbox_is_built_once_per_shape(spread, actor_of):
    from engine.core import memo

    queues._INBOX_STATEMENTS.clear()
    queues.inbox(actor_of("xifang"))
    queues.inbox(actor_of("xifang"), page=2)
    queues.inbox(actor_of("xifang"), queues.Filters(state="collected"))
    queues.inbox(actor_of("xifang"), queues.Filters(state="closed"))
    memo.clear()
    assert len(queues._INBOX_STATEMENTS) == 2  # the page and the state are values


def test_kept_definitions_follow_a_rename(app, actor_of):
    """``definitions()`` reuses its models while the rows read the same, and not after."""
    from engine.core import memo
    from engine.store.models import Definition

    first = queues.definitions()
    memo.clear()
    assert queues.definitions() is first  # the same rows: the same models
    some = next(iter(first.values()))
    Definition.update(name="Renamed").where(Definition.id == some.id).execute()
    memo.clear()
    again = queues.definitions()
    assert again[some.id].name == "Renamed" and first[some.id].name != "Renamed"


def test_kept_nodes_follow_a_rename(spread, actor_of):
    """The inbox's nodes are the models made before while their rows read the same."""
    from engine.core import memo

    actor = actor_of("xifang")
    first = {row.node_id: row.node for row in queues.inbox(actor)}
    memo.clear()
    again = {row.node_id: row.node for row in queues.inbox(actor)}
    assert all(again[k] is first[k] for k in first)
    node_id = next(iter(first))
    OrgNode.update(name="Renamed").where(OrgNode.id == node_id).execute()
    memo.clear()
    renamed = {row.node_id: row.node for row in queues.inbox(actor)}
    assert renamed[node_id].name == "Renamed" and first[node_id].name != "Renamed"
    assert renamed[node_id].profile is None  # its file is not read


@pytest.mark.parametrize("open_only", [True, False])
@pytest.mark.parametrize("id_list_limit", [400, 0])
def test_a_roots_summons_come_in_deadline_order_of_its_tree_only(app, actor_of, monkeypatch,
                                                                  id_list_limit, open_only):  # fmt: skip
    """The summons of a role granted at the root (a district supervisor) are read in
    deadline order on the role's index, their units' paths tested: every page equals
    one ordered query over that role's open summons in the tree (with the closed ones
    too, when asked), none of another role, none of another tree's unit."""
    from engine.org import scope
    from engine.store.models import Assignment

    monkeypatch.setattr(scope, "ID_LIST_LIMIT", id_list_limit)
    rng = random.Random(3)
    actor = actor_of("ducha")
    (grant,) = actor.grants
    root = OrgNode.get(OrgNode.path == grant.node_path)
    other_root = OrgNode.create(key="elsewhere", name="别处", kind="district", path="/x/")
    other_root.path = f"/{other_root.id}/"
    other_root.save()
    units = [root, *OrgNode.select().where(OrgNode.parent == root).limit(3), other_root]
    for n in range(200):
        item = make_item(units[n % 4], state="collected", raised_hours_ago=5)
        due = None if n % 8 == 0 else rng.choice([-9, -2, 0, 0, 3, 30]) + rng.randint(0, 2)
        summons = make_summons(item, units[n % 5], report_late=None, done_late=None,
                               open_=n % 9 != 0, next_due_in=due)  # fmt: skip
        summons.role = grant.role if n % 6 else "department"
        summons.save()
    mine = [
        a
        for a in Assignment.select()
        if (a.open or not open_only) and a.role == grant.role and a.unit_path.startswith(root.path)
    ]
    far = dt.datetime.max
    expected = [a.id for a in sorted(mine, key=lambda a: (a.next_due_at or far, a.id))]
    assert len(expected) > 2 * queues.PAGE_SIZE
    assert any(a.unit_id == other_root.id and a.open and a.role == grant.role
               for a in Assignment.select())  # fmt: skip
    got: list[int] = []
    for page in range(1, len(expected) // queues.PAGE_SIZE + 3):
        got += [a.id for a in queues.summons(actor, open_only=open_only, page=page)]
    assert got == expected


@pytest.mark.parametrize("open_only", [True, False])
def test_a_few_units_summons_come_unit_by_unit_in_deadline_order(app, actor_of, open_only):
    """A grant at a small subtree (a compound's property company: the compound and its
    buildings) has its first page of summons read from each unit in deadline order and
    merged, where plans are kept: the page equals one ordered query over its role's
    summons of those units, none of another role or another compound's unit."""
    from engine.store.db import backend
    from engine.store.models import Assignment

    rng = random.Random(5)
    actor = actor_of("lvzhouhuayuan-wy")
    (grant,) = actor.grants
    compound = OrgNode.get(OrgNode.path == grant.node_path)
    inside = list(OrgNode.select().where(OrgNode.path.startswith(compound.path)))
    assert len(inside) > 1  # the compound and its buildings
    other = OrgNode.get(OrgNode.key == "changzhengqiaolu")
    units = [*inside, other]
    for n in range(160):
        item = make_item(compound, state="collected", raised_hours_ago=5)
        due = None if n % 7 == 0 else rng.choice([-9, -2, 0, 0, 3, 30]) + rng.randint(0, 2)
        summons = make_summons(item, units[n % len(units)], report_late=None, done_late=None,
                               open_=n % 9 != 0, next_due_in=due)  # fmt: skip
        summons.role = grant.role if n % 5 else "department"
        summons.save()
    mine = [
        a
        for a in Assignment.select()
        if (a.open or not open_only)
        and a.role == grant.role
        and a.unit_id in {u.id for u in inside}
    ]
    far = dt.datetime.max
    expected = [a.id for a in sorted(mine, key=lambda a: (a.next_due_at or far, a.id))]
    assert len(expected) > queues.PAGE_SIZE
    queues._SUMMONS_STATEMENTS.clear()
    got = [a.id for a in queues.summons(actor, open_only=open_only, page=1)]
    assert got == expected[: queues.PAGE_SIZE]
    ((sql, _),) = queues._SUMMONS_STATEMENTS.values()
    if backend().plans_kept:  # each unit on its own, the ids alone (no join)
        assert sql.count('"unit_id" IN (') == 2 * len(inside) and " JOIN " not in sql
    got += [a.id for a in queues.summons(actor, open_only=open_only, page=2)]
    assert got == expected[: 2 * queues.PAGE_SIZE]


@pytest.mark.parametrize("few", [10_000, 0])
@pytest.mark.parametrize("open_only", [True, False])
@pytest.mark.parametrize("username", ["xifang", "dept-zhifa-user", "ducha"])
def test_a_list_by_state_is_the_same_either_way(app, actor_of, monkeypatch, few, open_only,
                                                username):  # fmt: skip
    """A list filtered by a state reads its items on the state's index when few are in it,
    on each part's own index when many (``queues.FEW_IN_STATE``; 0 makes every state
    many): the pages are the same either way, and equal one ordered query; a department's
    two ways to its items combine with the state's."""
    rng = random.Random(17)
    dept = OrgNode.get(OrgNode.key == "dept-zhifa")
    nodes = [OrgNode.get(OrgNode.key == k) for k in ("lvzhouhuayuan", "changzhengqiaolu")]
    for n in range(240):
        closed = n % 3 == 0
        other = (n // 2) % 2  # each node gets both states of a kind
        state = (
            ("closed" if other else "replied") if closed else ("collected" if other else "handling")
        )
        due = None if closed or n % 7 == 0 else rng.choice([-30, -5, 0, 12, 48]) + rng.randint(0, 2)
        item = make_item(nodes[n % 2], state=state, raised_hours_ago=10, due_in_hours=due,
                         closed=closed)  # fmt: skip
        if n % 4:
            make_summons(item, dept, report_late=None, done_late=None)
    monkeypatch.setattr(queues, "FEW_IN_STATE", few)
    queues._INBOX_STATEMENTS.clear()  # the threshold is in the built statement
    actor = actor_of(username)
    for state in ("collected", "closed"):
        filters = queues.Filters(state=state, open_only=open_only)
        expected = [i.id for i in queues.items_query(actor, filters)]
        assert expected or (open_only and state == "closed")
        assert _paged(actor, filters, len(expected)) == expected
    queues._INBOX_STATEMENTS.clear()


@pytest.fixture
def subtree_spread(app):
    """Items at every node of the commissioner's compound (the compound and its
    buildings), open and closed, with and without deadlines, and one elsewhere."""
    rng = random.Random(7)
    home = OrgNode.get(OrgNode.key == "lvzhouhuayuan")
    nodes = list(OrgNode.select().where(OrgNode.path.startswith(home.path)).order_by(OrgNode.id))
    for n in range(400):  # open and closed, each more than a page with a deadline and without
        due = None if n % 3 else rng.choice([-30, -5, 0, 12, 48]) + rng.randint(0, 3)
        make_item(
            nodes[n % len(nodes)],
            state="collected" if n % 5 else "rare",
            raised_hours_ago=10,
            due_in_hours=due,
            closed=n % 2 == 0,
        )
    make_item(OrgNode.get(OrgNode.key == "changzhengqiaolu"), state="collected", raised_hours_ago=1)
    return nodes


@pytest.mark.parametrize("few_open", [0, 10**6])
@pytest.mark.parametrize("kept", [True, False])
@pytest.mark.parametrize("node_by_node", [32, 0])
@pytest.mark.parametrize("filters", [queues.Filters(), queues.Filters(open_only=False)])
def test_a_small_subtree_read_node_by_node_pages_alike(
    subtree_spread, actor_of, monkeypatch, node_by_node, filters, kept, few_open
):
    """With the closed items, a small subtree's items are read node by node
    (``queues.NODE_BY_NODE``), each node on its own index, and merged in the statement
    where its plan is kept (``plans_kept``: SQLite); the open ones alone are read as one
    list of nodes while they are few (``FEW_OPEN_WHOLE``; 0: never, 10**6: always), else
    node by node. The pages equal one ordered query whichever way is read."""
    from engine.store.db import backend, database

    assert len(subtree_spread) >= 3  # the compound and its buildings
    monkeypatch.setattr(queues, "NODE_BY_NODE", node_by_node)
    monkeypatch.setattr(queues, "FEW_OPEN_WHOLE", few_open)
    monkeypatch.setattr(type(backend()), "plans_kept", kept)  # either way on either backend
    queues._INBOX_STATEMENTS.clear()  # the way is in the built statement
    actor = actor_of("xifang")
    fields = (queues.Item.id, queues.Item.due_at)  # what a page reads at least
    sql, params = queues._inbox_statement(actor, filters, fields, queues.PAGE_SIZE)
    ids = [row[0] for row in database.execute_sql(sql, params).fetchall()]
    assert len(ids) == len(set(ids))  # one of two ways to the same items read, never both
    per_node = sql.count('"node_id" = ')
    split = bool(node_by_node and kept)
    if filters.open_only:
        # each node's dated and undated arm, beside the list of nodes (two ways, the
        # statement counting the open items to choose)
        assert per_node == (2 * len(subtree_spread) if split else 0)
        assert '"node_id" IN (' in sql
    else:
        # each node's dated and undated arm for open and for closed ones
        assert per_node == (2 * 2 * len(subtree_spread) if split else 0)
        # a node's arm tests its node alone: beside the list of nodes, without statistics
        # (the demo's), SQLite read the node's items without a deadline on (closed, due_at)
        assert ('"node_id" IN (' in sql) is not split
    expected = [i.id for i in queues.items_query(actor, filters)]
    assert len(expected) > queues.PAGE_SIZE
    assert _paged(actor, filters, len(expected)) == expected
    queues._INBOX_STATEMENTS.clear()


@pytest.mark.parametrize("factor", [0, 10**9])
@pytest.mark.parametrize("filters", [queues.Filters(), queues.Filters(open_only=False)])
def test_a_subtree_holding_many_closed_items_walks_them(
    subtree_spread, actor_of, monkeypatch, factor, filters
):
    """A subtree's part too large to read node by node is two ways to the same items:
    its closed ones walked in order on (closed, due_at) when it holds many of them (the
    stored counts, against ``WALK_FACTOR``; 0: always, 10**9: never), else gathered from
    its nodes; its open ones walked when it holds more than ``FEW_OPEN_GATHERED`` (0:
    always, 10**9: never), else gathered, with the closed ones or alone. The statement
    reads one way for each, and the pages equal one ordered query either way."""
    from engine.store.db import backend, database

    if not backend().plan_hints:
        pytest.skip("the planner weighs the ways itself: one way")
    monkeypatch.setattr(queues, "NODE_BY_NODE", 0)  # the compound: a larger subtree here
    monkeypatch.setattr(queues, "WALK_FACTOR", factor)
    monkeypatch.setattr(queues, "FEW_OPEN_GATHERED", factor)
    queues._INBOX_STATEMENTS.clear()
    actor = actor_of("xifang")
    expected = [i.id for i in queues.items_query(actor, filters)]
    assert _paged(actor, filters, len(expected)) == expected
    fields = (queues.Item.id, queues.Item.due_at)
    sql, params = queues._inbox_statement(actor, filters, fields, queues.PAGE_SIZE)
    arms = sql.split(" UNION ALL ")
    walked = {n for n, arm in enumerate(arms) if '+"t1"."node_id" IN (' in arm}
    numbered = " UNION ALL ".join(
        arm.replace("SELECT * FROM (", f"SELECT {n} AS arm, * FROM (", 1)
        for n, arm in enumerate(arms)
    )
    read = {arm for arm, *_ in database.execute_sql(numbered, params).fetchall()}
    if filters.open_only:
        assert len(walked) == 2  # dated and undated
        gathered = {n for n, arm in enumerate(arms) if '"node_id" IN (' in arm} - walked
        assert len(gathered) == 2
        assert bool(read & walked) is (factor == 0)
        assert bool(read & gathered) is (factor != 0)
        return
    assert len(walked) == 4  # dated and undated, each for open and for closed items
    closed_walked = {n for n in walked if n % 2}  # each arm for open (even), closed (odd)
    gathered = {n for n, arm in enumerate(arms) if '"node_id" IN (' in arm} - walked
    closed_gathered = {n for n in gathered if n % 2}
    assert len(gathered) == 4
    # each of open and closed items one way: walked when the subtree holds many of them,
    # else gathered
    for walked_way, gathered_way in (
        (walked - closed_walked, gathered - closed_gathered),
        (closed_walked, closed_gathered),
    ):
        assert bool(read & walked_way) is (factor == 0)
        assert bool(read & gathered_way) is (factor != 0)
    queues._INBOX_STATEMENTS.clear()


def test_a_rare_state_with_the_closed_items_is_gathered_once(subtree_spread, actor_of):
    """A rare state's items with the closed ones are looked up by id from the state's
    index (``_by_state``), gathered as one list, not once per node of a small subtree
    (the state's ids were read by every node's arm); the pages equal one ordered query."""
    from engine.store.db import backend

    queues._INBOX_STATEMENTS.clear()
    actor = actor_of("xifang")
    filters = queues.Filters(state="rare", open_only=False)
    sql, _ = queues._inbox_statement(actor, filters, (queues.Item.id,), queues.PAGE_SIZE)
    state_lists = len(re.findall(r'IN \(SELECT "t\d+"."id" FROM "item" AS "t\d+" WHERE', sql))
    # each part's (the compound's, the raised, the handed) dated and undated arm, for open
    # and for closed items: the compound's not once per node
    assert state_lists == 3 * 4
    if backend().plans_kept:
        assert '"node_id" = ' in sql  # the part walked on its nodes' own indexes
    expected = [i.id for i in queues.items_query(actor, filters)]
    assert len(expected) > queues.PAGE_SIZE
    assert _paged(actor, filters, len(expected)) == expected
    queues._INBOX_STATEMENTS.clear()


def test_an_empty_list_of_nodes_lists_nothing(app, actor_of):
    """A subtree with no node (none at its path) is an empty list, read neither node by
    node nor walked: the list has nothing of it."""
    from engine.org.scope import visible_parts_slotted

    parts = visible_parts_slotted((("subtree", ()),), {"user": -1})
    assert queues.merged_by_deadline(parts, 1, each_closed=True) == []


@pytest.fixture
def seen_twice(app):
    """In the commissioner's compound, 30 open items with a deadline that the commissioner
    also raised (each seen two ways: the compound, and raised by them), 60 without one."""
    home = OrgNode.get(OrgNode.key == "lvzhouhuayuan")
    xifang = User.get(User.username == "xifang")
    for n in range(90):
        due = n + 1 if n < 30 else None
        item = make_item(home, state="collected", raised_hours_ago=10, due_in_hours=due)
        if due is not None:
            item.raised_by = xifang
            item.save()


@pytest.mark.parametrize("filters", [queues.Filters(), queues.Filters(open_only=False)])
def test_the_undated_follow_the_dated_however_many_ways_read_them(
    seen_twice, actor_of, monkeypatch, filters
):
    """A page lists the items without a deadline only after every one with one; the
    statement reads them only when the dated fall short of the page's end (``union_sql``),
    an item two ways read counted once: 30 dated items read twice are 30, not a page."""
    actor = actor_of("xifang")
    expected = [i.id for i in queues.items_query(actor, filters)]
    assert _paged(actor, filters, len(expected)) == expected
    shown = [r.id for r in queues.inbox_rows(actor, filters, queues.INBOX_SHOWN)]
    assert shown == expected[: queues.PAGE_SIZE]  # 30 dated, then 20 undated


def test_a_page_full_of_dated_items_reads_none_without_a_deadline(app, actor_of, monkeypatch):
    """In a list with the closed items, when the items with a deadline fill the page, the
    arms of those without one (the closed: ten years of them at a million) read nothing
    (their LIMIT is 0): the statement's rows are the dated ones alone."""
    home = OrgNode.get(OrgNode.key == "lvzhouhuayuan")
    for n in range(120):
        due = n + 1 if n % 2 else None
        make_item(home, state="collected", raised_hours_ago=10, due_in_hours=due, closed=not due)
    read: list[list[object]] = []
    merged = queues.merged_page

    def counting(found, page, **kw):
        read.append(list(found))
        return merged(found, page, **kw)

    monkeypatch.setattr(queues, "merged_page", counting)
    actor = actor_of("xifang")
    filters = queues.Filters(open_only=False)
    first = queues.inbox_rows(actor, filters, queues.INBOX_SHOWN)
    assert all(raw[1] is not None for raw in read[0])  # no row without a deadline
    assert len(first) == queues.PAGE_SIZE
    read.clear()
    second = queues.inbox_rows(actor, filters, queues.INBOX_SHOWN, page=2)
    assert any(raw[1] is None for raw in read[0])  # 60 dated: page 2 needs the others
    expected = [i.id for i in queues.items_query(actor, filters)]
    assert [r.id for r in first + second] == expected[: 2 * queues.PAGE_SIZE]

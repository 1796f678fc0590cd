"""The live board's items (engine/supervision/live.py): one arm per way a reader sees items,
merged, equal to the item scope's own answer; a department's read from the stored pairs of
its units and their open items of the board's types."""

from __future__ import annotations

from typing import Any

import pytest

from engine.org.scope import visible_items
from engine.store.db import backend
from engine.store.models import Assignment, Item
from engine.supervision import live
from engine.workflow import items
from tests.conftest import NOW

GAS = {"category": "燃气泄漏", "severity": "较大", "location": "7幢3单元"}

# A demo district, generated once per session (tests/conftest.py, ``demo_templates``).
DEMO = {"compounds": 40, "items": 200, "seed": 1}
READERS = ["ducha", "admin", "chaohui-ducha", "dept-xfdd-user", "dept-zhifa-user", "dept-zzb-user"]


@pytest.fixture
def demo(app: Any) -> None:
    """The tests asking for it run on a copy of the demo (``DEMO``)."""


def _expected(actor: Any, types: list[int]) -> list[int]:
    """The newest ``LIMIT`` open items of ``types`` in the reader's scope, by the scope's
    own query (the OR of its ways)."""
    query = (
        visible_items(actor)
        .where((Item.closed == False) & Item.definition.in_(types))
        .order_by(Item.raised_at.desc(), Item.id.desc())
        .limit(live.LIMIT)
    )
    return [item.id for item in query]


def _types() -> list[int]:
    return [type_id for type_id, _ in live.live_types()]


def _gas_leaks(actor_of: Any, count: int = 3) -> list[Any]:
    """Open gas leaks at 绿洲花园 (each summons 区消防大队), the first one's summons there
    closed (reported and done), its item left open: a unit still sees an item it worked
    on."""
    xifang = actor_of("xifang")
    raised = [
        items.raise_item(
            xifang, "emergency", "lvzhouhuayuan", {**GAS, "location": f"{n}幢"}, now=NOW
        )
        for n in range(count)
    ]
    closed = Assignment.update(open=False, state="done").where(Assignment.item == raised[0].id)
    assert closed.execute()
    return raised


@pytest.mark.parametrize("username", READERS)
def test_the_board_lists_what_the_scope_lets_its_reader_see(demo, actor_of, username):
    _gas_leaks(actor_of)
    actor = actor_of(username)
    found = [row[0] for row in live._open_items(actor, _types())]
    assert found == _expected(actor, _types())
    if username in ("ducha", "dept-xfdd-user"):
        assert found  # a board with something on it


def test_a_departments_board_reads_its_pairs_not_the_districts_items(demo, actor_of):
    """A department's arm reads its units' stored pairs of the board's types: no item row
    of the district is read for a department summoned to none of them."""
    actor = actor_of("dept-zzb-user")
    types = _types()
    assert live._open_items(actor, types) == []
    ways, values = live.visible_item_shape(actor, summoned_ranges=True)
    assert ways == ("summoned",)
    kinds = live.padded("type", sorted(types))
    key = ("live.items", ways, live._below_root(actor, ways), len(kinds))  # as _open_items built
    _, sql, params = live.statement(key, live._arms, *values, *kinds)
    assert "unit_open_item" in sql and "UNION ALL" in sql  # its own arm, on either backend
    if backend().plans_kept:  # SQLite: its plan names the index read
        plan = backend().explain(sql, live.bind(params, {**values, **kinds}))
        assert "unit_open_item_definition_id_unit_path" in plan
        assert "item_definition_id_closed_raised_at" not in plan


@pytest.mark.parametrize(
    ("username", "index"),
    [
        ("chaohui-ducha", "item_open_type_path_raised_at"),
        ("ducha", "item_definition_id_closed_raised_at"),
    ],
)
def test_a_subtree_below_the_root_reads_its_own_newest(demo, actor_of, username, index):
    """A street's board reads its own open items of the board's types on the (type,
    closed, path, raised_at) index, not the district's walked newest first until it has
    its page; the district's board walks them (it holds them all). The same items."""
    actor = actor_of(username)
    types = _types()
    found = [row[0] for row in live._open_items(actor, types)]
    assert found == _expected(actor, types)
    if not backend().plan_hints:  # PostgreSQL: one OR of the ways, planned by its statistics
        return
    ways, values = live.visible_item_shape(actor, summoned_ranges=True)
    kinds = live.padded("type", sorted(types))
    key = ("live.items", ways, live._below_root(actor, ways), len(kinds))  # as _open_items built
    _, sql, params = live.statement(key, live._arms, *values, *kinds)
    plan = backend().explain(sql, live.bind(params, {**values, **kinds}))
    assert index in plan


def test_the_board_follows_a_closed_and_a_reopened_item(demo, actor_of):
    raised = _gas_leaks(actor_of)
    actor = actor_of("dept-xfdd-user")
    before = [row[0] for row in live._open_items(actor, _types())]
    seen = [item.id for item in raised if item.id in before]
    assert seen
    Item.update(closed=True).where(Item.id == seen[0]).execute()
    assert seen[0] not in [row[0] for row in live._open_items(actor, _types())]
    Item.update(closed=False).where(Item.id == seen[0]).execute()
    assert [row[0] for row in live._open_items(actor, _types())] == before


def _earliest_deadline(item_id: int) -> Any:
    """An item's next deadline by hand: its state's or its open summonses' earliest."""
    item = Item.get_by_id(item_id)
    summonses = [
        a.next_due_at
        for a in Assignment.select().where(Assignment.item == item_id)
        if a.open and a.next_due_at is not None
    ]
    known = [t for t in (item.due_at, *summonses) if t is not None]
    return min(known) if known else None


@pytest.mark.parametrize("username", ["ducha", "chaohui-ducha", "dept-xfdd-user"])
def test_each_street_counts_its_rows_and_ranks_them_by_their_earliest_deadline(
    demo, actor_of, username
):
    """Every row's deadline is the earliest of its state's and its open summonses'; a
    street's rows, made only when asked for, come most urgent first, and its counts are
    of all of them."""
    _gas_leaks(actor_of)
    board = live.live_board(actor_of(username), now=NOW)
    assert board.groups
    for group in board.groups:
        rows = group.rows()
        assert len(rows) == group.open
        assert group.overdue == sum(1 for r in rows if r.overdue)
        for row in rows:
            assert row.due_at == _earliest_deadline(row.item["id"])
            assert row.remaining == (
                int((row.due_at - NOW).total_seconds()) if row.due_at else None
            )
        ranks = [(r.remaining is None, r.remaining or 0, r.item["id"]) for r in rows]
        assert ranks == sorted(ranks)
        assert group.rows(1, 3) == rows[1:3]
    overdue = [g.overdue for g in board.groups]
    assert overdue == sorted(overdue, reverse=True)


@pytest.mark.parametrize("username", ["chaohui-ducha", "ducha", "dept-xfdd-user"])
def test_the_summonses_deadlines_are_read_off_their_open_index(demo, actor_of, username):
    """Each item's earliest open summons deadline comes with its row, read off the open
    summonses' (item, next deadline) index alone on SQLite (the (item, state) index read
    each summons' row), for every shape of a board's statement; the open items the user
    raised or handles off their own indexes."""
    _gas_leaks(actor_of)
    actor = actor_of(username)
    types = _types()
    rows = live._open_items(actor, types)
    assert rows
    for row in rows:
        due = Assignment.next_due_at.python_value(row[live._SUMMONS_DUE])
        dues = [
            a.next_due_at
            for a in Assignment.select().where(Assignment.item == row[live._ID])
            if a.open and a.next_due_at
        ]
        assert due == (min(dues) if dues else None)
    if not backend().plan_hints:
        return
    ways, values = live.visible_item_shape(actor, summoned_ranges=True)
    kinds = live.padded("type", sorted(types))

    def built_already(**slots: Any) -> Any:
        raise AssertionError("the board's statement is read from the cache, never built here")

    key = ("live.items", ways, live._below_root(actor, ways), len(kinds))  # as _open_items built
    _, sql, params = live.statement(key, built_already, *values, *kinds)
    plan = backend().explain(sql, live.bind(params, {**values, **kinds}))
    assert "assignment_open_item_due" in plan
    # the user's own open items of the types off the open items' (user, type) indexes,
    # not each of their open items read for its type
    assert "item_open_raiser_type" in plan and "item_open_handler_type" in plan

"""``/review/``'s numbers from the stored counts (``overview.summary``) equal those counted
from the items, for an actor whose own items (raised, handed over) lie inside and outside
the subtrees it sees: the stored counts hold the ones inside, the ones outside are read
one by one and neither is counted twice."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.demo.demo import generate
from engine.store.models import Item, OrgNode
from engine.supervision import overview
from tests.conftest import NOW, SEED


def _rows(rows: list[overview.NodeCounts]) -> list[tuple[object, ...]]:
    return [(r.node.id, r.open, r.overdue, r.resolved, r.total, r.median_hours) for r in rows]


def _same_totals(stored: dict[str, object], live: dict[str, object]) -> bool:
    numbers = ("total", "open", "overdue", "resolved", "rate")
    mean = live["satisfaction"]  # PostgreSQL's AVG is a Decimal
    return [stored[k] for k in numbers] == [live[k] for k in numbers] and (
        stored["satisfaction"] == pytest.approx(None if mean is None else float(mean))
    )


@pytest.mark.parametrize("username", ["xifang", "chaohui-ducha", "ducha"])
def test_the_summary_counts_own_items_inside_and_outside_once(app, actor_of, username):
    generate(SEED, compounds=6, items=80, seed=5, now=NOW)
    actor = actor_of(username)
    own = actor.grants[0].node_path
    inside = Item.select().where(Item.node_path.startswith(own)).order_by(Item.id)
    outside = Item.select().where(~Item.node_path.startswith(own)).order_by(Item.id)
    for item in list(inside.limit(3)) + list(outside.limit(4)):  # raised by the actor
        Item.update(raised_by=actor.user.id).where(Item.id == item.id).execute()
    for item in list(outside.offset(10).limit(3)):  # handed over to the actor
        Item.update(handler=actor.user.id).where(Item.id == item.id).execute()

    root = OrgNode.get(OrgNode.parent.is_null())
    for parent in (root, OrgNode.get(OrgNode.key == "chaohui")):
        parent, children = overview.node_with_children(node_id=parent.id)
        rows, totals = overview.summary(actor, parent, now=NOW, children=children)
        live = overview.counts_by_child_live(actor, parent, now=NOW, children=children)
        assert _rows(rows) == _rows(live), parent.key
        assert _same_totals(totals, overview.totals_live(actor, now=NOW))
        assert any(r.total for r in rows) or parent is not root


@pytest.mark.parametrize("limit", [3, 10**6])
@pytest.mark.parametrize("username", ["xifang", "chaohui-ducha", "dept-zhifa-user"])
def test_the_overdue_list_reads_each_way_once(app, actor_of, username, limit):
    """``overview.overdue_items`` reads each way the actor sees items (its subtrees, its
    summoned units', what it raised, what it was handed) on its own and merges them where
    plans are kept (SQLite; PostgreSQL reads them as one OR): the longest overdue first,
    each item once though two ways hold it, as the items in scope say."""
    from engine.org.scope import visible_items

    generate(SEED, compounds=6, items=80, seed=5, now=NOW)
    actor = actor_of(username)
    own = actor.grants[0].node_path
    inside = Item.select().where(Item.node_path.startswith(own) & ~Item.closed)
    outside = Item.select().where(~Item.node_path.startswith(own) & ~Item.closed)
    chosen = list(inside.order_by(Item.id).limit(3)) + list(outside.order_by(Item.id).limit(4))
    for n, item in enumerate(chosen):  # overdue, and in two ways the actor sees, or three
        Item.update(
            raised_by=actor.user.id, handler=actor.user.id, due_at=NOW - dt.timedelta(hours=n + 1)
        ).where(Item.id == item.id).execute()
    every = [
        (i.due_at, i.id) for i in visible_items(actor).where(~Item.closed & (Item.due_at < NOW))
    ]
    listed = overview.overdue_items(actor, now=NOW, limit=limit)
    assert [(o.due_at, o.id) for o in listed] == sorted(every)[:limit]
    assert len(every) > 3

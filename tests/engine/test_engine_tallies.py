"""Stored counts per node (``node_tally``) equal a recount of the items after interactive
and bulk changes, on whichever backend the suite runs on (triggers in the database)."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.demo.demo import generate
from engine.store.db import backend, database
from engine.store.models import Item, NodeTally, OrgNode
from engine.supervision import tallies
from engine.workflow import items
from engine.workflow.escalation import sweep
from tests.conftest import NOW, SEED

CATEGORIES = ["违章搭建", "消防通道", "停车秩序", "物业纠纷"]


def whistle(actor_of, n: int) -> Item:
    return items.raise_item(
        actor_of("xifang"),
        "whistle",
        "lvzhouhuayuan",
        {"category": CATEGORIES[n % 4], "summary": f"第{n}件吹哨事项", "urgency": "一般"},
        now=NOW,
    )


def live_counts(paths: list[str], now: dt.datetime) -> dict[str, tuple[int, ...]]:
    """Per node path under ``paths``: what ``tallies.by_node`` answers, from the items."""
    found: dict[str, tallies.Counts] = {}
    for item in Item.select():
        if any(item.node_path.startswith(p) for p in paths):
            counts = found.setdefault(item.node_path, tallies.Counts())
            tallies.add_item(
                counts, item.closed, item.due_at, item.resolved_at, item.satisfaction, now
            )
    return {p: _numbers(c) for p, c in found.items() if c.items}


def _numbers(c: tallies.Counts) -> tuple[int, ...]:
    return (c.items, c.open, c.overdue, c.resolved, c.rated, c.rating_sum)


def test_the_stored_counts_follow_every_writer(app, actor_of):
    assert tallies.stored() == tallies.recount() == {}
    generate(SEED, compounds=6, items=60, seed=3, now=NOW)  # the demo's bulk writer
    assert tallies.stored() == tallies.recount()
    assert sum(v[0] for v in tallies.stored().values()) == Item.select().count() >= 60

    raised = [whistle(actor_of, n) for n in range(5)]  # the interactive one-row writer
    assert tallies.stored() == tallies.recount()
    for item in raised[:2]:
        items.transition(actor_of("xifang"), item.id, "report", expected=None, now=NOW)
    assert tallies.stored() == tallies.recount()

    # The sweep's bulk writer: deadlines, priorities and next levels three days on.
    assert sweep(now=NOW + dt.timedelta(days=3)).total > 0
    assert tallies.stored() == tallies.recount()

    # Any other write: rated, closed, moved to another node, a deadline moved, deleted.
    other = OrgNode.get(OrgNode.key == "lvzhouhuayuan")
    first, second, third = raised[2:]
    Item.update(satisfaction=4, closed=True, resolved_at=NOW).where(Item.id == first.id).execute()
    Item.update(node=other.parent_id, node_path=other.path.rsplit("/", 2)[0] + "/").where(
        Item.id == second.id
    ).execute()
    Item.update(due_at=NOW - dt.timedelta(days=40)).where(Item.id == third.id).execute()
    Item.update(due_at=None).where(Item.id.in_([raised[0].id])).execute()
    Item.delete().where(Item.id == raised[1].id).execute()
    assert tallies.stored() == tallies.recount()

    # A transaction rolled back leaves the counts as they were.
    before = tallies.stored()
    with database.atomic() as transaction:
        Item.delete().execute()
        assert tallies.stored() == {}
        transaction.rollback()
    assert tallies.stored() == before == tallies.recount()

    # Rebuilding from nothing gives the same counts.
    NodeTally.delete().execute()
    tallies.rebuild()
    assert tallies.stored() == before


@pytest.mark.parametrize("hour", [0, 9, 23])
def test_overdue_counts_items_due_earlier_today(app, actor_of, hour):
    """Deadlines before today come from the stored buckets, today's from the items."""
    generate(SEED, compounds=4, items=40, seed=5, now=NOW)
    now = NOW.replace(hour=hour, minute=30)
    open_ids = [i.id for i in Item.select(Item.id).where(~Item.closed).order_by(Item.id)]
    assert len(open_ids) >= 6
    day = tallies.day_start(now)
    moves = [
        day + dt.timedelta(minutes=10),
        now - dt.timedelta(seconds=1),
        now,
        now + dt.timedelta(hours=1),
    ]
    moves += [day - dt.timedelta(seconds=1), day + dt.timedelta(days=1)]
    for item_id, due in zip(open_ids, moves, strict=False):
        Item.update(due_at=due).where(Item.id == item_id).execute()
    paths = [OrgNode.get(OrgNode.parent.is_null()).path]
    found = {p: _numbers(c) for p, c in tallies.by_node(paths, now=now).items() if c.items}
    assert found == live_counts(paths, now)
    assert sum(v[2] for v in found.values()) > 0


def test_an_instance_without_stored_counts_gets_them_counted(app, actor_of):
    """An upgraded database: the table is made and filled from the items it holds."""
    from engine.store.models import create_tables

    generate(SEED, compounds=3, items=30, seed=2, now=NOW)
    expected = tallies.stored()
    assert expected == tallies.recount()
    for statement in backend().drop_tally_triggers():
        database.execute_sql(statement)
    database.drop_tables([NodeTally])
    create_tables()
    assert tallies.stored() == expected
    whistle(actor_of, 1)  # and the triggers are back
    assert tallies.stored() == tallies.recount()

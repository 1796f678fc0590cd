"""Stored counts per node (``node_tally``) and of open summons per unit and node
(``summons_tally``) equal a recount after interactive, bulk, API and restore changes, on
whichever backend the suite runs on (triggers in the database); the boards that read them
answer what a count of the rows answers."""

from __future__ import annotations

import datetime as dt

import pytest
from peewee import CharField, ForeignKeyField, fn

from engine.core import clock, memo
from engine.demo.demo import generate
from engine.org.actors import actor_for
from engine.org.org import area_of
from engine.store import prepared
from engine.store.db import backend, database
from engine.store.models import (
    AreaHourTally,
    AreaMonthTally,
    AreaSlotTally,
    AreaTally,
    Assignment,
    Base,
    Item,
    NodeTally,
    OrgNode,
    ResolutionTally,
    SummonsDayTally,
    SummonsDueTally,
    SummonsItemTally,
    SummonsPairDue,
    SummonsTally,
    SummonsUnitDayTally,
    UnitOpenItem,
    User,
)
from engine.supervision import board, evaluation, medians, overview, tallies
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


BOARD_USERS = ("ducha", "chaohui-ducha", "dept-zhifa-user", "xifang")


def assert_counts_follow(now: dt.datetime = NOW) -> None:
    """Both stored counts equal a recount, and the board by department (stored open
    summons, live late ones) equals the count of the summons, for every kind of viewer."""
    assert tallies.stored() == tallies.recount()
    assert tallies.area_stored() == tallies.area_recount()
    assert tallies.area_hour_stored() == tallies.area_hour_recount()
    assert tallies.area_slot_stored() == tallies.area_slot_recount()
    assert tallies.area_month_stored() == tallies.area_month_recount()
    assert tallies.summons_stored() == tallies.summons_recount()
    assert tallies.day_stored() == tallies.day_recount()
    assert tallies.unit_day_stored() == tallies.unit_day_recount()
    assert tallies.item_stored() == tallies.item_recount()
    assert tallies.open_items_stored() == tallies.open_items_recount()
    assert tallies.due_stored() == tallies.due_recount()
    assert tallies.pairs_due_stored() == tallies.pairs_due_recount()
    street = OrgNode.get(OrgNode.key == "chaohui")
    today = clock.local(now).date()
    periods = [
        evaluation.quarter_of(now),
        evaluation.Period(today - dt.timedelta(days=4), today),
        evaluation.Period(today, today + dt.timedelta(days=2)),
    ]
    for name in BOARD_USERS:
        user = User.get_or_none(User.username == name)
        if user is None:
            continue
        actor = actor_for(user)
        for within in (None, street):
            found = board._department_counts(actor, now, within)
            assert found == board._department_counts_live(actor, now, within), (name, within)
        for period in periods:
            assert same_evaluation(actor, period, now), (name, period)


def same_evaluation(actor, period, now) -> bool:
    """The evaluation from the stored day counts equals the one counted from the summons."""
    stored = evaluation.evaluate(actor, period, now=now)
    live = evaluation.evaluate(actor, period, now=now, stored=False)
    return [vars(r) for r in stored] == [vars(r) for r in live]


def test_the_stored_counts_follow_every_writer(app, actor_of, client, token_for):
    assert tallies.stored() == tallies.recount() == {}
    assert tallies.summons_stored() == tallies.summons_recount() == {}
    generate(SEED, compounds=6, items=60, seed=3, now=NOW)  # the demo's bulk writer
    assert_counts_follow()
    assert sum(tallies.summons_stored().values()) > 0
    assert sum(v[0] for v in tallies.day_stored().values()) == Assignment.select().count() > 0
    assert sum(v[0] for v in tallies.stored().values()) == Item.select().count() >= 60

    raised = [whistle(actor_of, n) for n in range(5)]  # the interactive one-row writer
    assert_counts_follow()
    for item in raised[:2]:
        items.transition(actor_of("xifang"), item.id, "report", expected=None, now=NOW)
    assert_counts_follow()

    # The JSON API: a resident raises, the commissioner accepts (summoning three units).
    bell = {"type": "bell", "node": "lvzhouhuayuan", "data": {"category": "违章搭建",
            "summary": "楼顶违章搭建", "building": "3幢"}}  # fmt: skip
    made = client.post("/api/v1/items", json=bell, headers=token_for("lvzhou-yezhu1"))
    assert made.status_code == 201, made.get_json()
    accepted = client.post(
        f"/api/v1/items/{made.get_json()['id']}/transitions/accept",
        json={"version": 1},
        headers=token_for("xifang"),
    )
    assert accepted.status_code == 200 and accepted.get_json()["assignments"]
    assert_counts_follow(clock.now())

    # The sweep's bulk writer: deadlines, priorities and next levels three days on.
    assert sweep(now=NOW + dt.timedelta(days=3)).total > 0
    assert_counts_follow(NOW + dt.timedelta(days=3))

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
    assert_counts_follow()

    # Summons written directly: closed, opened again, moved to another unit or item,
    # deleted; an item with open summons moved to another node, and one deleted.
    summoned = Item.select().join(Assignment).where(Assignment.open).distinct().limit(3)
    one, two, three = list(summoned)
    some = Assignment.select(Assignment.id).where(Assignment.item == one.id)
    Assignment.update(open=False).where(Assignment.id.in_(some)).execute()
    Assignment.update(open=True).where(Assignment.item == one.id).execute()
    Assignment.update(reported_at=NOW, state="reported").where(Assignment.item == one.id).execute()
    Assignment.update(done_at=NOW + dt.timedelta(days=9), state="done", urge_count=2).where(
        Assignment.id.in_(some.limit(1))
    ).execute()
    unit = Assignment.select().where(Assignment.item == two.id).first()
    Assignment.update(unit=other.id, item=three.id).where(Assignment.id == unit.id).execute()
    Assignment.update(next_due_at=NOW - dt.timedelta(days=2)).where(
        Assignment.item == three.id
    ).execute()
    Assignment.delete().where(Assignment.id == Assignment.select(fn.MIN(Assignment.id))).execute()
    Item.update(node=other.id, node_path=other.path).where(
        Item.id.in_([two.id, three.id])
    ).execute()
    assert_counts_follow()

    # One unit's summonses on one item on several local days (the items touched count
    # the pair once per period): copied onto other days, one moved, one between deleted;
    # the item rated, rated again, reopened, then its rating taken away.
    pair = Assignment.select().where(Assignment.item == one.id).order_by(Assignment.id).first()
    copies = []
    for hours in (-30, 16, 40, 90, 150):
        copy = {f.name: getattr(pair, f.name) for f in Assignment._meta.sorted_fields}
        copy.pop("id")
        copy["summoned_at"] = pair.summoned_at + dt.timedelta(hours=hours)
        copies.append(Assignment.insert(copy).execute())
    assert_counts_follow()
    Assignment.update(summoned_at=pair.summoned_at - dt.timedelta(days=3)).where(
        Assignment.id == copies[2]
    ).execute()
    Assignment.delete().where(Assignment.id == copies[3]).execute()
    Assignment.update(unit=other.id).where(Assignment.id == copies[0]).execute()
    assert_counts_follow()
    for rating, reopens in ((5, 0), (3, 0), (3, 2), (None, 2), (None, 0)):
        Item.update(satisfaction=rating, reopen_count=reopens).where(Item.id == one.id).execute()
        assert tallies.item_stored() == tallies.item_recount()
    Item.update(satisfaction=2).where(Item.id == one.id).execute()
    assert_counts_follow()
    Item.delete().where(Item.id == three.id).execute()
    assert_counts_follow()

    # A transaction rolled back leaves the counts as they were.
    before, summons_before = tallies.stored(), tallies.summons_stored()
    days_before, touched_before = tallies.day_stored(), tallies.item_stored()
    unit_days_before, areas_before = tallies.unit_day_stored(), tallies.area_stored()
    area_hours_before, area_slots_before = tallies.area_hour_stored(), tallies.area_slot_stored()
    area_months_before = tallies.area_month_stored()
    dues_before, pair_dues_before = tallies.due_stored(), tallies.pairs_due_stored()
    assert dues_before and pair_dues_before
    with database.atomic() as transaction:
        Item.delete().execute()
        assert tallies.stored() == {} == tallies.summons_stored() == tallies.day_stored()
        assert tallies.item_stored() == {} == tallies.unit_day_stored() == tallies.area_stored()
        assert tallies.area_hour_stored() == {} == tallies.due_stored()
        assert tallies.pairs_due_stored() == {} == tallies.area_slot_stored()
        assert tallies.area_month_stored() == {}
        transaction.rollback()
    assert tallies.stored() == before == tallies.recount()
    assert tallies.summons_stored() == summons_before == tallies.summons_recount()
    assert tallies.day_stored() == days_before == tallies.day_recount()
    assert tallies.unit_day_stored() == unit_days_before == tallies.unit_day_recount()
    assert tallies.area_stored() == areas_before == tallies.area_recount()
    assert tallies.area_hour_stored() == area_hours_before == tallies.area_hour_recount()
    assert tallies.area_slot_stored() == area_slots_before == tallies.area_slot_recount()
    assert tallies.area_month_stored() == area_months_before == tallies.area_month_recount()
    assert tallies.item_stored() == touched_before == tallies.item_recount()
    assert tallies.due_stored() == dues_before == tallies.due_recount()
    assert tallies.pairs_due_stored() == pair_dues_before

    # Rebuilding from nothing gives the same counts.
    for model in (NodeTally, AreaTally, AreaHourTally, AreaSlotTally, AreaMonthTally):
        model.delete().execute()
    SummonsTally.delete().execute()
    SummonsDayTally.delete().execute()
    SummonsUnitDayTally.delete().execute()
    SummonsItemTally.delete().execute()
    SummonsDueTally.delete().execute()
    SummonsPairDue.delete().execute()
    tallies.rebuild()
    assert tallies.stored() == before
    assert tallies.summons_stored() == summons_before
    assert tallies.day_stored() == days_before
    assert tallies.unit_day_stored() == unit_days_before
    assert tallies.area_stored() == areas_before
    assert tallies.area_hour_stored() == area_hours_before
    assert tallies.area_slot_stored() == area_slots_before
    assert tallies.area_month_stored() == area_months_before
    assert tallies.item_stored() == touched_before
    assert tallies.due_stored() == dues_before
    assert tallies.pairs_due_stored() == pair_dues_before


@pytest.mark.parametrize("few", [1, tallies.DUE_TODAY_FEW])
@pytest.mark.parametrize("hour", [0, 9, 12, 23])  # from 12 (``AFTERNOON``): today less its rest
@pytest.mark.parametrize("minute", [5, 35])
@pytest.mark.parametrize("mday", [1, 27])
def test_overdue_counts_items_due_earlier_today(
    app, actor_of, monkeypatch, mday, hour, minute, few
):
    """Deadlines before today come from the stored buckets, today's from the items; per
    node under the root, and per area as who sees the whole tree reads them (there the
    buckets are months, days, hours and ten minutes: deadlines before this month, this
    month's before today, today's before this hour and this hour's up to the end of these
    ten minutes stored, less these ten minutes' still to come, read from the items). The
    whole tree's deadlines of the day are read one way when few, another when many
    (``few``: from how many on)."""
    monkeypatch.setattr(tallies, "DUE_TODAY_FEW", few)
    monkeypatch.setattr(prepared, "_statements", {})  # built again with that number
    generate(SEED, compounds=4, items=40, seed=5, now=NOW)
    now = NOW.replace(day=mday, hour=hour, minute=minute)
    open_ids = [i.id for i in Item.select(Item.id).where(~Item.closed).order_by(Item.id)]
    assert len(open_ids) >= 14
    # two of one node first: their deadlines fall in this hour (a node's items summed)
    nodes = {i.id: i.node_id for i in Item.select(Item.id, Item.node).where(~Item.closed)}
    pair = next([a, b] for a in open_ids for b in open_ids if a < b and nodes[a] == nodes[b])
    open_ids = pair + [i for i in open_ids if i not in pair]
    day, hour_start = tallies.day_start(now), tallies.hour_start(now)
    moves = [
        hour_start,
        now - dt.timedelta(seconds=1),
        day + dt.timedelta(minutes=10),
        now,
        now + dt.timedelta(hours=1),
    ]
    moves += [day - dt.timedelta(seconds=1), day + dt.timedelta(days=1)]
    moves.append(hour_start - dt.timedelta(seconds=1))  # the hour before (stored)
    slot = tallies.slot_start(now)  # these ten minutes (passed, to come), the ones before
    moves += [slot, slot + dt.timedelta(seconds=599), slot - dt.timedelta(seconds=1)]
    month = day.replace(day=1)  # this month's first day, an earlier one, the month before
    moves += [month, day - dt.timedelta(days=3), month - dt.timedelta(seconds=1)]
    for item_id, due in zip(open_ids, moves, strict=False):  # every move (14 ids at least)
        Item.update(due_at=due).where(Item.id == item_id).execute()
    paths = [OrgNode.get(OrgNode.parent.is_null()).path]
    counted = tallies.by_node(paths, now=now)
    found = {p: _numbers(c) for p, c in counted.items() if c.items}
    assert found == live_counts(paths, now)
    assert sum(v[2] for v in found.values()) > 0
    # below the root (a street, a compound, two streets), where today's deadlines are
    # sought per node path of the subtrees
    streets = [n.path for n in OrgNode.select().where(OrgNode.kind == "street")]
    compounds = [n.path for n in OrgNode.select().where(OrgNode.kind == "compound")]
    overdue_below = 0
    for below in [*([s] for s in streets), compounds[:1], streets[:2]]:
        counted = {p: _numbers(c) for p, c in tallies.by_node(below, now=now).items() if c.items}
        assert counted == live_counts(below, now), below
        # without the subtrees' nodes (the district's view of a street): the same counts,
        # and no nodes kept for the request (as with them)
        memo.begin()
        try:
            alone = tallies.by_node(below, now=now, nodes=False)
            assert all(memo.peek(("subtree_nodes", path)) is None for path in below)
            tallies.by_node(below, now=now)
            assert all(memo.peek(("subtree_nodes", path)) for path in below)
        finally:
            memo.end()
        assert {p: _numbers(c) for p, c in alone.items() if c.items} == counted, below
        overdue_below += sum(v[2] for v in counted.values()) if len(below) == 1 else 0
    assert overdue_below > 0
    # and summed by area (the root's children), as the district's /review/ reads them
    by_area: dict[int, list[int]] = {}
    for path, numbers in found.items():
        total = by_area.setdefault(area_of(path), [0] * len(numbers))
        for i, n in enumerate(numbers):
            total[i] += n
    areas = tallies.by_area(now=now)
    assert {a: _numbers(c) for a, c in areas.items()} == {a: tuple(v) for a, v in by_area.items()}


@pytest.mark.parametrize("hour", [0, 9, 12, 17, 23])
def test_the_board_by_department_sums_late_summonses_by_day_and_hour(app, hour):
    """Who sees the whole tree reads the late summonses and their distinct items from the
    counts kept by the day and hour of their deadlines (and their pairs' earliest): the
    days before today, today's hours before this one (from noon, today's whole less its
    hours from this one on), this hour's from the rows. One
    unit's summonses on one item (a pair) count once among the items, late when its
    earliest is; deadlines moved by one statement for several summonses of a pair."""
    generate(SEED, compounds=4, items=40, seed=5, now=NOW)
    now = NOW.replace(hour=hour, minute=30)
    day, hour_start = tallies.day_start(now), tallies.hour_start(now)
    moves = [
        hour_start,  # this hour, passed
        now - dt.timedelta(seconds=1),
        now,  # not yet passed
        now + dt.timedelta(minutes=20),  # this hour, to come
        day + dt.timedelta(minutes=10),  # today, an earlier hour (or this one at 0:00)
        hour_start - dt.timedelta(seconds=1),  # the hour before
        hour_start + dt.timedelta(hours=2, minutes=5),  # a later hour (tomorrow at 22:00 on)
        day - dt.timedelta(seconds=1),  # yesterday
        day + dt.timedelta(days=1),
        day - dt.timedelta(days=30),
    ]
    summoned = [
        a.id
        for a in Assignment.select(Assignment.id)
        .where(Assignment.unit.in_(_department_ids()))
        .order_by(Assignment.open.desc(), Assignment.id)
    ]
    assert len(summoned) >= len(moves) + 2
    for summons_id, due in zip(summoned, moves, strict=False):  # open, with these deadlines
        Assignment.update(next_due_at=due, open=True).where(Assignment.id == summons_id).execute()
    # a pair of two summonses: a second of the first's unit on its item, due later
    first = Assignment.get_by_id(summoned[0])
    copy = {f.name: getattr(first, f.name) for f in Assignment._meta.sorted_fields}
    copy.pop("id")
    copy.update(role="assist", next_due_at=day - dt.timedelta(days=2))
    second = Assignment.insert(copy).execute()
    ducha = actor_for(User.get(User.username == "ducha"))
    units = _department_ids()

    def same(at: dt.datetime) -> bool:
        stored = board._department_counts(ducha, at, None, everything=True, units=units)
        return stored == board._department_counts_live(ducha, at, None)

    assert tallies.due_stored() == tallies.due_recount()
    assert tallies.pairs_due_stored() == tallies.pairs_due_recount()
    for at in (now, hour_start, now + dt.timedelta(hours=1), day, now - dt.timedelta(days=3)):
        assert same(at), at
    late = board._department_counts(ducha, now, None, everything=True, units=units)
    assert sum(n for _, n, _ in late.values()) > sum(i for _, _, i in late.values()) > 0
    # the pair's summonses moved together (one statement), then one closed
    Assignment.update(next_due_at=now + dt.timedelta(days=2)).where(
        Assignment.id.in_([first.id, second])
    ).execute()
    assert same(now) and tallies.due_stored() == tallies.due_recount()
    Assignment.update(open=False).where(Assignment.id == first.id).execute()
    Assignment.update(next_due_at=hour_start).where(Assignment.id == second).execute()
    assert same(now) and tallies.pairs_due_stored() == tallies.pairs_due_recount()
    assert tallies.due_stored() == tallies.due_recount()

    # A street's board (a street supervisor's, the district's within a street) reads the
    # counts kept for its area; an item with late summonses moved to another street
    # moves them, one deleted takes them away.
    streets = list(OrgNode.select().where(OrgNode.kind == "street").order_by(OrgNode.id))
    chaohui = actor_for(User.get(User.username == "chaohui-ducha"))

    def streets_same(at: dt.datetime) -> bool:
        return all(
            board._department_counts(ducha, at, street)
            == board._department_counts_live(ducha, at, street)
            for street in streets
        ) and board._department_counts(chaohui, at, None) == board._department_counts_live(
            chaohui, at, None
        )

    assert streets_same(now)
    late_items = [
        a.item_id
        for a in Assignment.select(Assignment.item).where(
            Assignment.open & (Assignment.next_due_at < now)
        )
    ]
    moved = Item.get_by_id(late_items[0])
    there = next(
        n
        for n in OrgNode.select().where(OrgNode.kind == "compound")
        if area_of(n.path) != area_of(moved.node_path)
    )
    Item.update(node=there.id, node_path=there.path).where(Item.id == moved.id).execute()
    assert tallies.pairs_due_stored() == tallies.pairs_due_recount()
    assert tallies.due_stored() == tallies.due_recount()
    assert streets_same(now) and streets_same(hour_start)
    Item.delete().where(Item.id == late_items[-1]).execute()
    assert tallies.due_stored() == tallies.due_recount()
    assert tallies.pairs_due_stored() == tallies.pairs_due_recount()
    assert streets_same(now) and same(now)


def test_an_instance_without_stored_counts_gets_them_counted(app, actor_of):
    """An upgraded database: the table is made and filled from the items it holds."""
    from engine.store.models import create_tables

    generate(SEED, compounds=3, items=30, seed=2, now=NOW)
    expected = tallies.stored()
    assert expected == tallies.recount()
    summons = tallies.summons_stored()
    assert summons == tallies.summons_recount() != {}
    days, touched = tallies.day_stored(), tallies.item_stored()
    assert touched == tallies.item_recount() != {}
    unit_days, areas = tallies.unit_day_stored(), tallies.area_stored()
    assert unit_days == tallies.unit_day_recount() != {}
    assert areas == tallies.area_recount() != {}
    area_hours = tallies.area_hour_stored()
    assert area_hours == tallies.area_hour_recount() != {}
    assert any(len(bucket) == 13 for _, bucket in area_hours)  # by hour: YYYY-MM-DD HH
    area_slots = tallies.area_slot_stored()
    assert area_slots == tallies.area_slot_recount() != {}
    assert any(len(bucket) == 15 for _, bucket in area_slots)  # YYYY-MM-DD HH:M
    area_months = tallies.area_month_stored()
    assert area_months == tallies.area_month_recount() != {}
    assert any(len(bucket) == 7 for _, bucket in area_months)  # YYYY-MM
    pairs = tallies.open_items_stored()
    assert pairs == tallies.open_items_recount() != {}
    dues, pair_dues = tallies.due_stored(), tallies.pairs_due_stored()
    assert dues == tallies.due_recount() != {} and pair_dues
    drops = backend().drop_tally_triggers() + backend().drop_summons_tally_triggers()
    drops += backend().drop_item_tally_triggers() + backend().drop_unit_day_tally_triggers()
    drops += backend().drop_area_tally_triggers() + backend().drop_open_items_triggers()
    drops += backend().drop_due_tally_triggers()
    for statement in drops + backend().drop_day_tally_triggers():
        database.execute_sql(statement)
    database.drop_tables(
        [NodeTally, AreaTally, SummonsTally, SummonsDayTally, SummonsUnitDayTally]
        + [SummonsItemTally, UnitOpenItem, AreaHourTally, SummonsDueTally, SummonsPairDue]
        + [AreaSlotTally, AreaMonthTally]
    )
    create_tables()
    assert tallies.stored() == expected
    assert tallies.summons_stored() == summons
    assert tallies.day_stored() == days
    assert tallies.unit_day_stored() == unit_days
    assert tallies.area_stored() == areas
    assert tallies.area_hour_stored() == area_hours
    assert tallies.area_slot_stored() == area_slots
    assert tallies.area_month_stored() == area_months
    assert tallies.item_stored() == touched
    assert tallies.due_stored() == dues and tallies.pairs_due_stored() == pair_dues
    whistle(actor_of, 1)  # and the triggers are back
    assert tallies.stored() == tallies.recount()
    assert tallies.summons_stored() == tallies.summons_recount()
    assert tallies.day_stored() == tallies.day_recount()
    assert tallies.unit_day_stored() == tallies.unit_day_recount()
    assert tallies.area_stored() == tallies.area_recount()
    assert tallies.area_hour_stored() == tallies.area_hour_recount()
    assert tallies.area_slot_stored() == tallies.area_slot_recount()
    assert tallies.area_month_stored() == tallies.area_month_recount()
    assert tallies.due_stored() == tallies.due_recount()


def test_an_instance_with_untyped_pairs_gets_them_typed(app, actor_of):
    """An instance of before the units' open items carried their item's type and
    deadline: the columns are added, the triggers that wrote pairs without them are
    replaced (SQLite keeps a trigger as it was made) and the pairs are gathered again,
    typed and dated."""
    from engine.store.models import create_tables

    generate(SEED, compounds=3, items=30, seed=2, now=NOW)
    typed = tallies.open_items_stored()
    assert typed == tallies.open_items_recount() != {}
    for statement in backend().drop_open_items_triggers():
        database.execute_sql(statement)
    database.drop_tables([UnitOpenItem])

    class Untyped(Base):  # the table as it was (a foreign key's column cannot be dropped)
        unit = ForeignKeyField(OrgNode, on_delete="CASCADE", backref="+", index=False)
        item = ForeignKeyField(Item, on_delete="CASCADE", backref="+")
        unit_path = CharField(max_length=500, index=True)

        class Meta:
            table_name = "unit_open_item"
            indexes = ((("unit", "item"), True),)

    database.create_tables([Untyped])
    untyped = [  # the triggers as they were made before the type and the deadline
        statement.replace(", definition_id, due_at)", ")")
        .replace(", item.definition_id, item.due_at FROM", " FROM")
        .replace(", NEW.definition_id, NEW.due_at FROM", " FROM")
        for statement in backend().open_items_triggers()
        if "item_open_due" not in statement
    ]
    assert not any("definition_id" in s or "due_at" in s for s in untyped)
    for statement in untyped:
        database.execute_sql(statement)
    whistle(actor_of, 0)  # a pair made by the old triggers
    assert UnitOpenItem.select().count() > 0
    create_tables()
    assert tallies.open_items_stored() == tallies.open_items_recount() != typed
    typed = tallies.open_items_stored()
    assert any(due is not None for _, _, due in typed.values())
    whistle(actor_of, 1)  # the new triggers type and date the new pairs
    assert tallies.open_items_stored() == tallies.open_items_recount() != typed


def _department_ids() -> list[int]:
    return [n.id for n in OrgNode.select(OrgNode.id).where(OrgNode.kind == "department")]


def test_who_sees_units_whole_reads_the_day_counts_kept_per_unit(app, actor_of):
    """The district and a department sum the day counts kept per unit (fewer rows); a
    street, which sees the items of its nodes, the counts kept per node: each reads only
    its own table (emptied, the other's evaluation still equals the live one)."""
    from engine.accounts.users import upsert_user

    generate(SEED, compounds=3, items=30, seed=2, now=NOW)
    quarter = evaluation.quarter_of(NOW)
    summoned = Assignment.select().where(Assignment.unit.in_(_department_ids()))
    path = summoned.first().item.node_path  # a street the departments were summoned in
    key = OrgNode.get_by_id(int(path.split("/")[2])).key
    upsert_user(
        "street-ducha", "街道督导", "demo1234", [{"role": "supervisor", "node": key}], now=NOW
    )
    whole = [actor_of("ducha"), actor_of("dept-zhifa-user")]
    street = actor_of("street-ducha")
    assert all(same_evaluation(a, quarter, NOW) for a in [*whole, street])
    with database.atomic() as transaction:
        SummonsDayTally.delete().execute()
        assert all(same_evaluation(a, quarter, NOW) for a in whole)
        assert not same_evaluation(street, quarter, NOW)
        transaction.rollback()
    with database.atomic() as transaction:
        SummonsUnitDayTally.delete().execute()
        assert same_evaluation(street, quarter, NOW)
        assert not any(same_evaluation(a, quarter, NOW) for a in whole)
        transaction.rollback()


def test_the_districts_children_come_from_the_counts_kept_per_area(app, actor_of):
    """Who sees everything reads the root's children (the areas) from the counts kept per
    area, a street's children from the counts per node: each only its own table."""
    generate(SEED, compounds=3, items=30, seed=2, now=NOW)
    root, street = OrgNode.get(OrgNode.parent.is_null()), OrgNode.get(OrgNode.key == "chaohui")
    district = actor_of("ducha")

    def same(parent: OrgNode) -> bool:
        parent, children = overview.node_with_children(node_id=parent.id)
        rows, _ = overview.summary(district, parent, now=NOW, children=children)
        live = overview.counts_by_child_live(district, parent, now=NOW, children=children)
        return [vars(r) for r in rows] == [vars(r) for r in live] and any(r.total for r in rows)

    assert same(root) and same(street)
    for emptied, kept, lost in ((NodeTally, root, street), (AreaTally, street, root)):
        with database.atomic() as transaction:
            emptied.delete().execute()
            assert same(kept) and not same(lost)
            transaction.rollback()


@pytest.mark.parametrize("hour", [0, 9])
def test_the_boards_areas_equal_their_items_counted(app, actor_of, hour):
    """Open and overdue items per street, community and compound on the overdue board,
    from the stored counts (the streets' kept per area), equal a count of the items, for
    the district, a street and a compound's commissioner, inside a street or not."""
    generate(SEED, compounds=6, items=80, seed=5, now=NOW)
    now = NOW.replace(hour=hour, minute=30)
    street = OrgNode.get(OrgNode.key == "chaohui")
    compared = 0
    for name in ("ducha", "chaohui-ducha", "xifang"):
        actor = actor_of(name)
        for level in board.AREA_LEVELS:
            for within in (None, street):
                nodes = board._nodes(actor, level, within)
                stored = board._area_counts(actor, nodes, now, within)
                live = board._area_counts_live(actor, level, now, within)
                listed = {n.id for n in nodes}
                stored = {n: c for n, c in stored.items() if c[0]}  # with open items
                live = {n: c for n, c in live.items() if n in listed and c[0]}
                assert stored == live, (name, level, within)
                compared += sum(c[0] for c in stored.values())
    assert compared > 0


def test_an_upgrade_widens_the_indexes_read_alone(app):
    """The items touched are read off an index with their counts, the items a user
    raised or was handed off indexes with their paths, and the deadline index has the
    id and node after it; an instance with the narrower indexes of before gets these
    instead, the counts kept."""
    from engine.store.models import create_tables

    generate(SEED, compounds=3, items=30, seed=2, now=NOW)
    touched = tallies.item_stored()
    replaced = [  # table, index, the narrower one it replaced and that one's columns
        (
            "summons_item_tally",
            "summons_item_tally_counts",
            "summons_item_tally_unit_id_day_prev_day",
            "unit_id, day, prev_day",
        ),
        ("item", "item_raised_by_id_node_path", "item_raised_by_id", "raised_by_id"),
        ("item", "item_handler_id_node_path", "item_handler_id", "handler_id"),
        ("item", "item_definition_id_closed_raised_at", "item_definition_id", "definition_id"),
        ("assignment", "assignment_item_id_unit_path", "assignment_item_id", "item_id"),
        ("item", "item_closed_due_at_id_node_id", "item_closed_due_at", "closed, due_at"),
    ]
    for table, wide, narrow, columns in replaced:
        database.execute_sql(f"DROP INDEX {wide}")
        database.execute_sql(f"CREATE INDEX {narrow} ON {table} ({columns})")
    create_tables()
    for table, wide, narrow, _ in replaced:
        names = {index.name for index in database.get_indexes(table)}
        assert wide in names and narrow not in names
    assert tallies.item_stored() == touched == tallies.item_recount() != {}


@pytest.mark.parametrize("hour", [0, 9, 23])
def test_the_evaluation_counts_deadlines_falling_today(app, actor_of, hour):
    """Undecided summons with a deadline before today are decided from the stored day
    counts, today's from the rows; both equal the count from the summons, at any hour."""
    generate(SEED, compounds=4, items=40, seed=5, now=NOW)
    now = NOW.replace(hour=hour, minute=30)
    day = tallies.day_start(now)
    moves = [
        day + dt.timedelta(minutes=10),
        now - dt.timedelta(seconds=1),
        now,
        now + dt.timedelta(hours=1),
        day - dt.timedelta(seconds=1),
        day + dt.timedelta(days=1),
    ]
    ids = [a.id for a in Assignment.select(Assignment.id).order_by(Assignment.id).limit(12)]
    assert len(ids) == 12
    Assignment.update(reported_at=None, done_at=None, state="summoned", open=True).where(
        Assignment.id.in_(ids)
    ).execute()
    for n, due in enumerate(moves):
        Assignment.update(report_due_at=due).where(Assignment.id == ids[n]).execute()
        Assignment.update(handle_due_at=due).where(Assignment.id == ids[n + 6]).execute()
        # summoned on earlier whole days and at the period's two ends
        summoned = day - dt.timedelta(days=n % 3, hours=n * 5)
        Assignment.update(summoned_at=summoned).where(Assignment.id == ids[n]).execute()
    assert tallies.day_stored() == tallies.day_recount()
    assert tallies.item_stored() == tallies.item_recount()
    today = clock.local(now).date()
    periods = [
        evaluation.quarter_of(now),
        evaluation.Period(today - dt.timedelta(days=2), today),
        evaluation.Period(today, today),
    ]
    for name in ("ducha", "chaohui-ducha", "dept-zhifa-user"):
        actor = actor_for(User.get(User.username == name))
        for period in periods:
            assert same_evaluation(actor, period, now), (name, period)
    rows = evaluation.evaluate(actor_for(User.get(User.username == "ducha")), periods[0], now=now)
    assert sum(r.report_decided for r in rows) > 0


# Resolution-time histograms (``resolution_tally``) and the medians read from them.


def live_medians(paths: list[str]) -> dict[str, int | None]:
    """Per path: the median resolution time of the items under it, sorting them all."""
    found: dict[str, int | None] = {}
    for path in paths:
        values = sorted(
            i.resolution_seconds
            for i in Item.select().where(Item.resolution_seconds.is_null(False))
            if i.node_path.startswith(path)
        )
        found[path] = values[len(values) // 2] if values else None
    return found


def stored_medians() -> dict[str, int | None]:
    nodes = list(OrgNode.select())
    found = medians.medians({n.path: [(n.id, n.path)] for n in nodes})
    return {str(key): value for key, value in found.items()}


def test_the_histograms_follow_every_writer_and_give_exact_medians(app, actor_of, monkeypatch):
    assert medians.stored() == medians.recount() == {}
    generate(SEED, compounds=6, items=80, seed=4, now=NOW)  # the demo's bulk writer
    assert medians.stored() == medians.recount() != {}
    paths = [n.path for n in OrgNode.select()]
    assert stored_medians() == live_medians(paths)

    raised = [whistle(actor_of, n) for n in range(6)]  # the interactive one-row writer
    for item in raised[:3]:
        items.transition(actor_of("xifang"), item.id, "report", expected=None, now=NOW)
    assert medians.stored() == medians.recount()
    assert sweep(now=NOW + dt.timedelta(days=3)).total > 0  # the sweep's bulk writer
    assert medians.stored() == medians.recount()

    # Direct writes: resolved (times in every bucket size: seconds, one at the bottom of a
    # bucket, one at its top, ties with the demo's), moved to another node, unresolved,
    # deleted; then the medians again.
    demo_times = [i.resolution_seconds for i in Item.select().where(Item.resolution_seconds > 0)]
    other = OrgNode.get(OrgNode.key == "lvzhouhuayuan")
    for item, seconds in zip(raised, [7, 1000, 1009, 999_999, demo_times[0], 12_345_678]):
        Item.update(resolution_seconds=seconds, resolved_at=NOW).where(Item.id == item.id).execute()
    Item.update(node=other.parent_id, node_path=other.path.rsplit("/", 2)[0] + "/").where(
        Item.id == raised[1].id
    ).execute()
    Item.update(resolution_seconds=None, resolved_at=None).where(Item.id == raised[2].id).execute()
    Item.delete().where(Item.id == raised[3].id).execute()
    assert medians.stored() == medians.recount()
    assert stored_medians() == live_medians(paths)
    monkeypatch.setattr(medians, "PICK_ABOVE", 0)  # as with many items: picked in SQL
    assert stored_medians() == live_medians(paths)

    before = medians.stored()  # a rolled-back delete leaves them as they were
    with database.atomic() as transaction:
        Item.delete().execute()
        assert medians.stored() == {}
        transaction.rollback()
    assert medians.stored() == before

    ResolutionTally.delete().execute()  # rebuilt from nothing: the same
    medians.rebuild()
    assert medians.stored() == before


@pytest.mark.parametrize("picked", [False, True])
@pytest.mark.parametrize("count", [1, 2, 3, 10, 11])
def test_a_median_counts_extra_times_and_picks_inside_its_bucket(app, monkeypatch, count, picked):
    """Odd and even counts, several values in the median's bucket, times from outside the
    stored subtrees merged in: the value ``sorted(values)[n // 2]`` gives, whether the times
    of the bucket are read or (``picked``, as with many items) the database picks it."""
    if picked:
        monkeypatch.setattr(medians, "PICK_ABOVE", 0)
    generate(SEED, compounds=2, items=20, seed=1, now=NOW)
    node = OrgNode.get(OrgNode.key == "lvzhouhuayuan")
    ids = [i.id for i in Item.select(Item.id).where(Item.node == node).limit(count)]
    for n, item_id in enumerate(ids):  # 3,600 .. 3,609: one bucket (10 s wide)
        Item.update(resolution_seconds=3600 + n, resolved_at=NOW).where(
            Item.id == item_id
        ).execute()
    Item.update(resolution_seconds=None).where((Item.node == node) & Item.id.not_in(ids)).execute()
    values = sorted(
        i.resolution_seconds
        for i in Item.select().where(Item.resolution_seconds.is_null(False))
        if i.node_path.startswith(node.path)
    )
    assert len(values) == len(ids)
    extra = [3603, 5, 90_000]
    # "k" merges its times with the extra ones in Python; "alone" (one source, nothing
    # extra) has its value picked by the database at its rank in the bucket
    source = [(node.id, node.path)]
    found = medians.medians({"k": source, "alone": source}, {"k": extra, "none": []})
    every = sorted(values + extra)
    assert found == {"k": every[len(every) // 2], "alone": values[len(values) // 2], "none": None}


def test_an_instance_without_histograms_gets_them_counted(app, actor_of):
    from engine.store.models import create_tables

    generate(SEED, compounds=3, items=30, seed=2, now=NOW)
    expected = medians.stored()
    assert expected == medians.recount() != {}
    for statement in backend().drop_resolution_triggers():
        database.execute_sql(statement)
    database.drop_tables([ResolutionTally])
    create_tables()
    assert medians.stored() == expected


@pytest.mark.parametrize("name", ["ducha", "chaohui-ducha"])
def test_the_review_reads_own_items_only_where_some_may_lie_outside(app, actor_of, name):
    """Who sees the only root's subtree has no item outside it: the roots are read instead
    of the items it raised (100,000 of them for the admin at a million items); a street's
    supervisor still reads its own; both equal the count from the items."""
    from engine.store.db import counting_queries
    from engine.supervision import overview

    generate(SEED, compounds=4, items=40, seed=5, now=NOW)
    actor = actor_for(User.get(User.username == name))
    own = Item.select(Item.id).order_by(Item.id).limit(3)
    Item.update(raised_by=actor.user.id).where(Item.id.in_(own)).execute()
    parent = OrgNode.get_by_id(actor.grants[0].node_id)
    with counting_queries() as counter:
        rows, summed = overview.summary(actor, parent, now=NOW)
    reads_own = [s for s in counter.statements if "raised_by" in s]
    assert bool(reads_own) == (name == "chaohui-ducha")
    assert rows == overview.counts_by_child_live(actor, parent, now=NOW)
    live = overview.totals_live(actor, now=NOW)
    assert summed.pop("medians_as_of") == NOW  # when its medians were worked out
    assert {k: v for k, v in summed.items() if k != "satisfaction"} == {
        k: v for k, v in live.items() if k != "satisfaction"
    }


def test_a_units_open_items_follow_each_kind_of_write(app):
    """The stored pairs of a unit and an open item summoning it (``unit_open_item``) hold
    exactly the recount after each write the triggers answer: a summons added, a second
    of the same pair, the item closed and reopened, its deadline moved (open, closed with
    it, reopened with it, taken away), one summons of two removed, then the other, a
    summons moved to another unit, and the item deleted."""
    from tests.engine.conftest import make_item, make_summons

    def pairs() -> set[tuple[int, int]]:
        stored = tallies.open_items_stored()
        assert stored == tallies.open_items_recount()
        return set(stored)

    node = OrgNode.get(OrgNode.key == "lvzhouhuayuan")
    dept, other = (OrgNode.get(OrgNode.key == k) for k in ("dept-zhifa", "dept-xfdd"))
    item = make_item(node, state="collected", raised_hours_ago=5)
    kept = make_item(node, state="collected", raised_hours_ago=5)  # a pair beside
    make_summons(kept, dept, report_late=None, done_late=None)
    assert pairs() == {(dept.id, kept.id)}
    first = make_summons(item, dept, report_late=None, done_late=None)
    second = make_summons(item, dept, report_late=None, done_late=None)
    assert pairs() == {(dept.id, kept.id), (dept.id, item.id)}
    Item.update(closed=True).where(Item.id == item.id).execute()
    assert pairs() == {(dept.id, kept.id)}
    Item.update(closed=False).where(Item.id == item.id).execute()
    assert pairs() == {(dept.id, kept.id), (dept.id, item.id)}
    for closed, hours in ((False, 30), (True, 50), (False, None), (False, -4), (False, -4)):
        due = None if hours is None else NOW + dt.timedelta(hours=hours)
        Item.update(closed=closed, due_at=due).where(Item.id == item.id).execute()
        assert pairs() == {(dept.id, kept.id)} | (set() if closed else {(dept.id, item.id)})
        if not closed:
            assert tallies.open_items_stored()[(dept.id, item.id)][2] == due
    first.delete_instance()
    assert pairs() == {(dept.id, kept.id), (dept.id, item.id)}  # the second holds it
    Assignment.update(unit=other, unit_path=other.path).where(Assignment.id == second.id).execute()
    assert pairs() == {(dept.id, kept.id), (other.id, item.id)}
    second.delete_instance()
    assert pairs() == {(dept.id, kept.id)}
    make_summons(item, other, report_late=None, done_late=None)
    assert pairs() == {(dept.id, kept.id), (other.id, item.id)}
    item.delete_instance(recursive=False)
    assert pairs() == {(dept.id, kept.id)}

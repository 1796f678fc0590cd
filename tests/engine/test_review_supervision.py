"""Urge (督办), re-route and reassign: each audited on the item's timeline and notifying."""

from __future__ import annotations

import pytest

from engine.core.errors import Conflict, Forbidden, Invalid, NotFound
from engine.store.models import Assignment, Event, Item, Notification, User
from engine.supervision import actions as supervision
from engine.workflow import queues
from engine.workflow.items import transition
from tests.review_data import NOW, H, make_item, summons


def _notified(username: str) -> list[str]:
    user = User.get(User.username == username)
    return [n.message for n in Notification.select().where(Notification.user == user)]


def test_urging_an_item_counts_audits_and_notifies_handler_and_units(app, actor_of):
    item = make_item("lvzhouhuayuan", title="楼道堆物")
    summons(item, "dept-gaj", NOW - 10 * H)
    urged = supervision.urge_item(actor_of("chaohui-ducha"), item.id, "请今天处理", now=NOW)
    assert urged.urge_count == 1
    event = Event.get((Event.item == item) & (Event.action == "item.urge"))
    assert event.actor.username == "chaohui-ducha" and event.after["message"] == "请今天处理"
    assert any("请今天处理" in m for m in _notified("xifang"))  # the compound's commissioner
    assert any("请今天处理" in m for m in _notified("dept-gaj-user"))  # the summoned unit


def test_urging_a_summons_counts_on_summons_and_item(app, actor_of):
    item = make_item("lvzhouhuayuan")
    assignment = summons(item, "dept-gaj", NOW)
    supervision.urge_summons(actor_of("ducha"), assignment.id, "尽快报到", now=NOW)
    supervision.urge_summons(actor_of("ducha"), assignment.id, "再次督办", now=NOW)
    assert Assignment.get_by_id(assignment.id).urge_count == 2
    assert Item.get_by_id(item.id).urge_count == 2
    assert (
        Event.select().where((Event.item == item) & (Event.action == "summons.urge")).count() == 2
    )
    assert sum("尽快报到" in m for m in _notified("dept-gaj-user")) == 1
    assert not any("尽快报到" in m for m in _notified("dept-zhifa-user"))


@pytest.mark.parametrize(
    "username, error",
    [
        ("xifang", Forbidden),  # a commissioner sees the item but does not supervise
        ("hushu-ducha", NotFound),  # another street's supervisor does not even see it
    ],
)
def test_only_supervisors_of_the_item_may_urge(app, actor_of, username, error):
    from engine.accounts.users import upsert_user

    upsert_user(
        "hushu-ducha", "湖墅督导", "demo1234", [{"role": "supervisor", "node": "hushu"}], now=NOW
    )
    item = make_item("lvzhouhuayuan")
    with pytest.raises(error):
        supervision.urge_item(actor_of(username), item.id, "催办", now=NOW)
    assert Item.get_by_id(item.id).urge_count == 0


def test_urge_needs_a_message_and_an_open_item(app, actor_of):
    item = make_item("lvzhouhuayuan", closed=True)
    with pytest.raises(Invalid):
        supervision.urge_item(actor_of("ducha"), item.id, "  ", now=NOW)
    with pytest.raises(Conflict):
        supervision.urge_item(actor_of("ducha"), item.id, "催办", now=NOW)


def test_reroute_summons_other_units_and_records_who_and_why(app, actor_of):
    item = make_item("lvzhouhuayuan")
    wrong = summons(item, "dept-gaj", NOW)
    created = supervision.reroute(
        actor_of("chaohui-ducha"),
        item.id,
        ["dept-zhifa", "role:property"],
        "属违章搭建,应由执法局处理",
        now=NOW,
        withdraw_others=True,
    )
    assert sorted((a.unit.key, a.role) for a in created) == [
        ("dept-zhifa", "department"),
        ("lvzhouhuayuan", "property"),
    ]
    zhifa = next(a for a in created if a.role == "department")
    assert (
        zhifa.table == "reroute" and zhifa.report_due_at is not None
    )  # deadlines of the item's routing
    assert Assignment.get_by_id(wrong.id).state == "cancelled"
    event = Event.get((Event.item == item) & (Event.action == "item.reroute"))
    assert event.actor.username == "chaohui-ducha" and event.after["reason"].startswith(
        "属违章搭建"
    )
    assert event.after["withdrawn"] == [wrong.id]
    assert _notified("dept-zhifa-user") and _notified("lvzhouhuayuan-wy")


def test_reroute_refuses_units_that_cannot_be_summoned(app, actor_of):
    item = make_item("lvzhouhuayuan")
    with pytest.raises(Invalid) as refused:
        supervision.reroute(actor_of("ducha"), item.id, ["chaohui"], "理由", now=NOW)
    assert refused.value.fields[0].path == "units/0"
    with pytest.raises(Invalid):
        supervision.reroute(actor_of("ducha"), item.id, [], "理由", now=NOW)
    assert not Assignment.select().where(Assignment.item == item).exists()


def test_reassign_hands_items_to_another_commissioner(app, actor_of):
    from engine.workflow.items import raise_item

    bell = raise_item(
        actor_of("lvzhou-yezhu1"),
        "bell",
        "lvzhouhuayuan",
        {"category": "治安", "summary": "夜里有陌生人翻墙"},
        now=NOW,
    )
    assert bell.id in [i.id for i in queues.inbox(actor_of("xifang"))]
    moved = supervision.reassign(
        actor_of("chaohui-ducha"), "xifang", "zhongshanhuayuan-zy", "专员休假", now=NOW
    )
    assert bell.id in moved
    assert Item.get_by_id(bell.id).handler.username == "zhongshanhuayuan-zy"
    event = Event.get((Event.item == bell.id) & (Event.action == "item.reassign"))
    assert event.before["from"] == "xifang" and event.after["reason"] == "专员休假"
    assert any("专员休假" in m for m in _notified("zhongshanhuayuan-zy"))
    # The new handler sees it in the inbox and may act as the commissioner; the old one may not.
    new = actor_of("zhongshanhuayuan-zy")
    assert bell.id in [i.id for i in queues.inbox(new)]
    assert bell.id not in [i.id for i in queues.inbox(actor_of("xifang"))]
    with pytest.raises(Forbidden):
        transition(actor_of("xifang"), bell.id, "accept", expected=None, now=NOW)
    assert transition(new, bell.id, "accept", expected=None, now=NOW).state == "liaising"


def test_reassign_only_to_commissioners_the_supervisor_supervises(app, actor_of):
    make_item("lvzhouhuayuan")
    with pytest.raises(Invalid):
        supervision.reassign(
            actor_of("chaohui-ducha"), "xifang", "changzhengqiaolu-zy", "换人", now=NOW
        )
    with pytest.raises(Invalid):
        supervision.reassign(actor_of("chaohui-ducha"), "xifang", "xifang", "换人", now=NOW)


@pytest.mark.parametrize("supervisor", ["chaohui-ducha", "ducha"])
def test_a_commissioners_items_are_the_open_ones_they_handle_in_view(app, actor_of, supervisor):
    """``items_of_commissioner``: the open items in the supervisor's view handed to the
    commissioner, and those at the commissioner's compounds nobody was handed; not closed
    ones, not ones handed to another, not ones out of view. By id, with the node's name."""
    from engine.org.scope import visible_items

    xifang = User.get(User.username == "xifang")
    other = User.get(User.username == "zhongshanhuayuan-zy")
    default = make_item("lvzhouhuayuan")
    handed_away = make_item("lvzhouhuayuan")
    handed_here = make_item("zhongshanhuayuan")
    handed_far = make_item("changzhengqiaolu")  # another street
    closed = make_item("lvzhouhuayuan", closed=True)
    elsewhere = make_item("zhongshanhuayuan")
    Item.update(handler=other.id).where(Item.id == handed_away.id).execute()
    Item.update(handler=xifang.id).where(Item.id.in_([handed_here.id, handed_far.id])).execute()
    actor = actor_of(supervisor)
    in_view = {i.id for i in visible_items(actor)}
    expected = [
        i.id
        for i in (default, handed_here, handed_far)
        if i.id in in_view  # the street's supervisor does not see the other street's
    ]
    assert closed.id not in expected and elsewhere.id not in expected
    found = list(supervision.items_of_commissioner(actor, xifang))
    assert [i.id for i in found] == sorted(expected)
    assert (handed_far.id in expected) is (supervisor == "ducha")
    assert {i.node.name for i in found} >= {"绿洲花园"}

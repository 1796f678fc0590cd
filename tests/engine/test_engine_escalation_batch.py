"""The sweep applies steps a batch per transaction and changes nothing a step at a time would not."""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter

import pytest

from engine.store.db import database, insert_returning
from engine.store.models import (
    Assignment,
    Delivery,
    Escalation,
    Event,
    Item,
    Notification,
    OutboxMessage,
    WebhookEndpoint,
)
from engine.workflow import dispatch, items, kernel
from engine.workflow.context import item_doc
from engine.workflow.escalation import due_steps, sweep
from engine.workflow.escalation_batch import SweepCache, apply_batch

NOW = dt.datetime(2026, 11, 27, 1, 0)  # Friday 09:00 in Shanghai
MONDAY = NOW + dt.timedelta(days=3)  # every report-in deadline long past, next levels due
CATEGORIES = ["违章搭建", "消防通道", "停车秩序", "物业纠纷", "治安", "食品安全", "其他"]


def raise_whistles(actor_of, count: int) -> list[Item]:
    return [
        items.raise_item(
            actor_of("xifang"),
            "whistle",
            "lvzhouhuayuan",
            {
                "category": CATEGORIES[n % len(CATEGORIES)],
                "summary": f"第{n}件吹哨事项",
                "urgency": "一般",
            },
            now=NOW,
        )
        for n in range(count)
    ]


def raise_one_of_each(actor_of) -> None:
    """Items of every escalating type: their next-level tables name units, roles and rules."""
    items.raise_item(
        actor_of("lvzhou-yezhu1"),
        "bell",
        "lvzhouhuayuan",
        {"category": "违章搭建", "summary": "楼顶违章搭建阳光房", "building": "3幢"},
        now=NOW,
    )
    items.raise_item(
        actor_of("xifang"),
        "repair",
        "lvzhouhuayuan",
        {"category": "水电", "location": "3幢", "description": "楼道灯不亮了请修"},
        now=NOW,
    )
    items.raise_item(
        actor_of("xifang"),
        "emergency",
        "lvzhouhuayuan",
        {"category": "火情", "severity": "较大", "location": "3幢地下车库"},
        now=NOW,
    )


def observed() -> dict[str, object]:
    """Everything a sweep leaves behind, without ids (a rolled-back sweep still spends them)."""

    def payload(message: OutboxMessage) -> str:
        body = dict(message.payload)
        if "notification" in body:
            body["notification"] = {k: v for k, v in body["notification"].items() if k != "id"}
        return repr(sorted(body.items()))

    return {
        "escalations": [
            (e.item_id, e.subject, e.step, e.kind, e.assignment_id, e.due_at, e.at)
            for e in Escalation.select().order_by(Escalation.id)
        ],
        "events": [
            (e.item_id, e.action, e.target, repr(e.detail))
            for e in Event.select().order_by(Event.id)
        ],
        # Per item, in order; the order of one step's recipients is the database's choice.
        "notifications": Counter((n.item_id, n.user_id, n.message) for n in Notification.select()),
        "notification order": [
            (n.item_id, n.message) for n in Notification.select().order_by(Notification.id)
        ],
        "outbox": sorted((m.item, m.event, payload(m)) for m in OutboxMessage.select()),
        "outbox order": [
            (m.item, m.event) for m in OutboxMessage.select().order_by(OutboxMessage.id)
        ],
        "deliveries": Delivery.select().count(),
        "summonses": [
            (
                a.item_id,
                a.unit_id,
                a.role,
                a.table,
                a.rule,
                a.priority,
                a.state,
                a.open,
                a.report_due_at,
                a.handle_due_at,
                a.next_due_at,
                a.urge_count,
            )
            for a in Assignment.select().order_by(Assignment.id)
        ],
        "items": [(i.id, i.priority, i.urge_count) for i in Item.select().order_by(Item.id)],
    }


@pytest.mark.parametrize("when", [MONDAY, NOW + dt.timedelta(days=21)])
def test_a_batch_changes_nothing_one_step_at_a_time_would_not(app, actor_of, when):
    """Notify, raise priority, urge and summon the next level, with a webhook on every event.

    Three weeks on, the report-in and the handling next levels of one summons are both
    due: the second summon, in the same batch, must find the first's summons open.
    """
    WebhookEndpoint.create(key="all", url="http://127.0.0.1:9/hook", events=["*"])
    raise_whistles(actor_of, 6)
    raise_one_of_each(actor_of)
    steps = list(due_steps(when))
    next_levels = [d for d in steps if any("summon" in a for a in d.step["do"])]
    assert next_levels and len({d.item_id for d in steps}) < len(steps)  # items with several steps
    routes = Event.select().where(Event.action == "route")
    routed_before = routes.count()

    with database.atomic() as transaction:
        one_by_one = sweep(now=when, batch=1)
        expected = observed()
        transaction.rollback()
    assert Escalation.select().count() == 0
    batched = sweep(now=when, batch=1000)
    assert batched.applied == one_by_one.applied and batched.total == len(steps)
    assert observed() == expected
    assert routes.count() == routed_before + len(next_levels)
    open_units = Counter(
        (a.item_id, a.unit_id, a.role) for a in Assignment.select().where(Assignment.open)
    )
    assert max(open_units.values()) == 1  # no unit summoned twice to one item
    for item in Item.select():  # an item is at least as urgent as its most urgent summons
        assert item.priority >= max((a.priority for a in item.assignments), default=0)


def test_routing_sees_the_document_item_doc_gives(app, actor_of, monkeypatch):
    """A batch builds the next level's rule document from its rows in memory; it must be item_doc's."""
    raise_whistles(actor_of, 2)
    raise_one_of_each(actor_of)
    seen: list[tuple[dict, dict]] = []

    planner = kernel.summon

    def checking(rt, table, doc, **kwargs):
        expected = item_doc(Item.get_by_id(doc["item"]["id"]), actor=None, now=kwargs["now"])
        seen.append(({k: v for k, v in doc.items() if k != "escalation"}, expected))
        return planner(rt, table, doc, **kwargs)

    monkeypatch.setattr(kernel, "summon", checking)
    # One step per batch: the database holds what the batch's memory holds when routing runs.
    assert sweep(now=MONDAY, batch=1).total > 0
    assert {doc["item"]["type"] for doc, _ in seen} >= {"whistle", "repair", "emergency"}
    for doc, expected in seen:
        assert doc == expected


@pytest.mark.parametrize("batch", [1, 4, 1000])
def test_a_subject_that_moved_on_before_its_batch_is_skipped(app, actor_of, batch):
    whistles = raise_whistles(actor_of, 3)
    steps = list(due_steps(MONDAY))
    moved = whistles[1].assignments.get()
    dispatch.report_in(actor_of(moved.unit.key + "-user"), moved.id, now=MONDAY)
    report_steps = [
        d for d in steps if d.assignment_id == moved.id and d.step["on"] == "summons_report"
    ]
    assert report_steps

    outcomes: list[str] = []
    for start in range(0, len(steps), batch):
        outcomes += apply_batch(steps[start : start + batch], now=MONDAY, cache=SweepCache())
    assert outcomes.count("moved") == len(report_steps)
    assert outcomes.count("applied") == len(steps) - len(report_steps)
    done = {(e.item_id, e.subject, e.step) for e in Escalation.select()}
    assert not any((d.item_id, d.subject, d.step["key"]) in done for d in report_steps)
    assert Assignment.get_by_id(moved.id).urge_count == 0
    assert {a.unit.key for a in Assignment.select().where(Assignment.item == moved.item_id)} == {
        moved.unit.key
    }


def test_a_step_another_sweeper_applied_is_raced_and_has_no_effects(app, actor_of):
    raise_whistles(actor_of, 2)
    steps = list(due_steps(MONDAY))
    taken = next(d for d in steps if d.step["key"] == "report-overdue")
    Escalation.create(
        item=taken.item_id,
        subject=taken.subject,
        step=taken.step["key"],
        kind=taken.step["on"],
        assignment=taken.assignment_id,
        due_at=taken.deadline,
        at=MONDAY,
    )
    outcomes = apply_batch(steps, now=MONDAY, cache=SweepCache())
    assert Counter(outcomes) == {"applied": len(steps) - 1, "raced": 1}
    assert outcomes[steps.index(taken)] == "raced"
    assert Assignment.get_by_id(taken.assignment_id).urge_count == 0  # its urge did not happen
    assert Event.select().where(Event.action == "escalation").count() == len(steps) - 1
    assert sweep(now=MONDAY).total == 0


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="SQLite locking"
)
def test_a_batch_that_cannot_get_the_lock_is_busy_with_no_effects(app, actor_of, database_url):
    import sqlite3

    raise_whistles(actor_of, 2)
    expected = len(list(due_steps(MONDAY)))
    before = observed()
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        database.execute_sql("PRAGMA busy_timeout = 50")
        result = sweep(now=MONDAY, batch=3)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.busy == expected and result.total == 0
    assert observed() == before
    assert sweep(now=MONDAY).total == expected  # the next sweep retries them


def test_insert_returning_writes_what_insert_many_writes(app, actor_of):
    item = raise_whistles(actor_of, 1)[0]
    user = actor_of("xifang").user
    rows = [
        {"user": user.id, "item": item.id, "message": f"第{n}条", "created_at": NOW}
        for n in range(3)
    ]
    ids = sorted(i for (i,) in insert_returning(Notification, rows, returning=("id",)))
    written = list(Notification.select().where(Notification.id.in_(ids)).order_by(Notification.id))
    assert [(n.message, n.read, n.created_at, n.item_id) for n in written] == [
        ("第0条", False, NOW, item.id),
        ("第1条", False, NOW, item.id),
        ("第2条", False, NOW, item.id),
    ]
    key = ("item_id", "subject", "step")
    step = {
        "item": item.id,
        "subject": "state:x:1",
        "kind": "state",
        "due_at": NOW,
        "at": NOW,
        "detail": {"did": ["通知"]},
    }
    assert insert_returning(
        Escalation, [{**step, "step": "a"}], returning=key, skip_conflicts_on=key
    ) == [(item.id, "state:x:1", "a")]
    again = insert_returning(
        Escalation,
        [{**step, "step": "a"}, {**step, "step": "b"}],
        returning=key,
        skip_conflicts_on=key,
    )
    assert again == [(item.id, "state:x:1", "b")]  # the row already there is left out, not an error
    assert Escalation.get(Escalation.step == "b").detail == {"did": ["通知"]}


def test_the_next_level_summons_what_dispatch_summon_would(app, actor_of):
    """The batch summons on its rows in memory; it must create what dispatch.summon creates."""
    raise_whistles(actor_of, 2)
    raise_one_of_each(actor_of)
    first = {}
    for due in due_steps(MONDAY):
        for action in due.step["do"]:
            if "summon" in action:
                first.setdefault(due.item_id, (action["summon"], due))
    assert {d.type_key for _, d in first.values()} >= {"whistle", "repair", "emergency"}

    def made(assignments):
        return sorted(
            (
                a.item_id,
                a.unit.key,
                a.role,
                a.table,
                a.rule,
                a.priority,
                a.report_due_at,
                a.handle_due_at,
                a.next_due_at,
            )
            for a in assignments
        )

    with database.atomic() as transaction:
        created = []
        for item_id, (table, due) in first.items():
            doc = item_doc(Item.get_by_id(item_id), actor=None, now=MONDAY)
            created += dispatch.summon(Item.get_by_id(item_id), table, doc, now=MONDAY, actor=None)
        expected = made(created)
        transaction.rollback()
    assert expected  # some units are summoned anew, not all already open
    sweep(now=MONDAY)
    assert made(Assignment.select().where(Assignment.table == "escalate")) == expected

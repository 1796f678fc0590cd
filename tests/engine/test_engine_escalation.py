"""The deadline sweep: each escalation step once, on the pack's calendar, on the timeline."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from engine.definitions.checks import definition_problems
from engine.definitions.definitions import current_version
from engine.store.models import Assignment, Escalation, Item, Notification
from engine.workflow import dispatch, items
from engine.workflow.escalation import due_steps, sweep

NOW = dt.datetime(2026, 11, 27, 1, 0)  # Friday 09:00 in Shanghai


def at(local: str) -> dt.datetime:
    return dt.datetime.fromisoformat(local) - dt.timedelta(hours=8)


def raise_whistle(actor_of, now=NOW, category="违章搭建"):
    return items.raise_item(
        actor_of("xifang"),
        "whistle",
        "lvzhouhuayuan",
        {"category": category, "summary": "楼顶违章搭建阳光房", "urgency": "一般"},
        now=now,
    )


def applied(item) -> list[str]:
    return [
        e.step
        for e in Escalation.select().where(Escalation.item == item.id).order_by(Escalation.id)
    ]


def test_whistle_summons_is_warned_urged_and_escalated_each_step_once(app, actor_of):
    item = raise_whistle(actor_of)  # report in by Friday 13:00 (4 office hours)
    summons = item.assignments.get()
    assert summons.unit.key == "dept-zhifa" and summons.report_due_at == at("2026-11-27T13:00")

    assert sweep(now=at("2026-11-27T11:30")).total == 0
    first = sweep(now=at("2026-11-27T12:10"))
    assert first.applied == {"whistle/report-warn": 1}
    assert sweep(now=at("2026-11-27T12:20")).total == 0  # once, however often it runs
    warned = Notification.select().where(
        (Notification.item == item.id) & Notification.message.contains("1 个工作小时")
    )
    assert warned.count() == 1

    second = sweep(now=at("2026-11-27T13:05"))
    assert second.applied == {"whistle/report-overdue": 1, "whistle/whistled-overdue": 1}
    fresh = Item.get_by_id(item.id)
    assert fresh.urge_count == 1 and fresh.priority == item.priority + 1
    assert Assignment.get_by_id(summons.id).urge_count == 1

    # Next level four office hours after the deadline: Friday 17:00; the district
    # office (区三方办) is summoned on the item's timeline.
    assert sweep(now=at("2026-11-27T16:50")).total == 0
    third = sweep(now=at("2026-11-27T17:05"))
    assert third.applied == {"whistle/report-next-level": 1}
    units = {a.unit.key for a in Assignment.select().where(Assignment.item == item.id)}
    assert units == {"dept-zhifa", "sanfangban"}
    assert applied(item) == [
        "report-warn",
        "report-overdue",
        "whistled-overdue",
        "report-next-level",
    ]
    events = [e for e in items.timeline(Item.get_by_id(item.id)) if e.action == "escalation"]
    assert [e.detail["step"] for e in events] == applied(item)
    assert events[-1].detail["label"] == "报到超时提级" and any(
        d["code"] == "summon" and d["table"] == "escalate" for d in events[-1].detail["did"]
    )
    assert sweep(now=at("2026-11-27T17:10")).total == 0


def test_reporting_in_stops_the_report_steps_but_not_the_handling_ones(app, actor_of):
    item = raise_whistle(actor_of)
    summons = item.assignments.get()
    dispatch.report_in(actor_of("dept-zhifa-user"), summons.id, now=at("2026-11-27T10:00"))
    warned = sweep(now=summons.handle_due_at - dt.timedelta(minutes=1))
    late = sweep(now=summons.handle_due_at + dt.timedelta(minutes=1))
    assert "whistle/report-overdue" not in warned.applied | late.applied
    assert (
        warned.applied["whistle/handle-warn"] == 1 and late.applied["whistle/handle-overdue"] == 1
    )


def test_a_warning_the_deadline_outran_is_not_sent(app, actor_of):
    item = raise_whistle(actor_of)
    sweep(now=at("2026-11-27T14:00"))  # the sweeper was down when the warning was due
    assert "report-warn" not in applied(item) and "report-overdue" in applied(item)


def test_state_steps_count_per_visit_of_the_state(app, actor_of):
    bell = items.raise_item(
        actor_of("lvzhou-yezhu1"),
        "bell",
        "lvzhouhuayuan",
        {"category": "违章搭建", "summary": "楼顶违章搭建阳光房", "building": "3幢"},
        now=NOW,
    )
    assert sweep(now=at("2026-11-27T10:40")).applied == {"bell/accept-warn": 1}
    assert sweep(now=at("2026-11-27T11:01")).applied == {"bell/state-overdue": 1}
    items.transition(actor_of("xifang"), bell.id, "accept", expected=1, now=at("2026-11-27T11:30"))
    # Closed items and final states are never swept.
    moved = Item.get_by_id(bell.id)
    later = sweep(now=moved.due_at + dt.timedelta(minutes=1))
    assert later.applied["bell/state-overdue"] == 1  # the new state's own deadline
    assert [
        e.subject.split(":")[1]
        for e in Escalation.select().where(
            (Escalation.item == bell.id) & (Escalation.step == "state-overdue")
        )
    ] == ["collected", "liaising"]


def test_nothing_is_swept_once_the_item_is_closed(app, actor_of):
    item = items.raise_item(
        actor_of("xifang"),
        "bell",
        "lvzhouhuayuan",
        {"category": "违章搭建", "summary": "楼顶违章搭建阳光房", "building": "3幢"},
        now=NOW,
    )
    items.transition(
        actor_of("xifang"), item.id, "decline", {"reason": "不属于协商范围"}, expected=1, now=NOW
    )
    assert list(due_steps(NOW + dt.timedelta(days=30))) == []


def test_emergency_escalates_within_minutes_on_natural_time(app, actor_of):
    saturday_night = at("2026-11-28T23:00")
    item = items.raise_item(
        actor_of("xifang"),
        "emergency",
        "lvzhouhuayuan",
        {"category": "火情", "severity": "较大", "location": "3幢地下车库"},
        now=saturday_night,
    )
    result = sweep(now=saturday_night + dt.timedelta(minutes=46))
    assert {
        "emergency/report-overdue",
        "emergency/report-next-level",
        "emergency/respond-overdue",
    } <= set(result.applied)
    assert "sanfangban" in {
        a.unit.key for a in Assignment.select().where(Assignment.item == item.id)
    }


def test_sweep_command_prints_counts(app, runner, actor_of):
    raise_whistle(actor_of)
    result = runner.invoke(args=["sweep", "--now", "2026-11-27T13:05:00"])
    assert result.exit_code == 0, result.output
    assert "applied 2 step(s)" in result.output and "whistle/report-overdue 1" in result.output
    again = runner.invoke(args=["sweep", "--now", "2026-11-27T13:06:00"])
    assert "applied 0 step(s)" in again.output
    assert runner.invoke(args=["sweep", "--now", "friday"]).exit_code == 2


def whistle_body():
    return copy.deepcopy(current_version("whistle").body)


ROLES = {
    "admin",
    "supervisor",
    "commissioner",
    "party",
    "committee",
    "property",
    "department",
    "resident",
}


@pytest.mark.parametrize(
    "change, path, message",
    [
        (
            lambda b: b["escalation"].append(dict(b["escalation"][0])),
            "/escalation/7/key",
            "Two escalation steps have the key",
        ),
        (
            lambda b: b["escalation"][1].__setitem__("after_hours", 2),
            "/escalation/1",
            "not both",
        ),
        (
            lambda b: b["escalation"][1].pop("before_hours"),
            "/escalation/1",
            "Give the hours before the deadline or the hours after it",
        ),
        (
            lambda b: b["escalation"][0].__setitem__("states", ["closed"]),
            "/escalation/0/states/0",
            "has no deadline",
        ),
        (
            lambda b: b["escalation"][0].__setitem__("states", ["limbo"]),
            "/escalation/0/states/0",
            "There is no state with the key 'limbo'",
        ),
        (
            lambda b: b["escalation"][1].__setitem__("states", ["whistled"]),
            "/escalation/1/states",
            "Only a step on a state's deadline picks states",
        ),
        (
            lambda b: b["escalation"][3].__setitem__("tables", ["nope"]),
            "/escalation/3/tables/0",
            "no routing table",
        ),
        (
            lambda b: b["escalation"][3]["do"][0].__setitem__("summon", "nope"),
            "/escalation/3/do/0/summon",
            "no routing table",
        ),
        (
            lambda b: b["escalation"][2]["do"][0]["notify"].__setitem__("roles", ["king"]),
            "/escalation/2/do/0/notify/roles/0",
            "There is no role with the key 'king' in the pack",
        ),
        (
            lambda b: b["escalation"][2].__setitem__("on", "whenever"),
            "/escalation/2/on",
            "'whenever' is none of 'summons_report', 'summons_handle', 'state'",
        ),
        (
            lambda b: b["escalation"][2]["do"].append({"urge": True, "raise_priority": 1}),
            "/escalation/2/do/3",
            "",
        ),
    ],
)
def test_escalation_mistakes_have_json_pointer_paths(app, change, path, message):
    body = whistle_body()
    change(body)
    problems = definition_problems(body, roles=ROLES, units={"sanfangban", "dept-zhifa"})
    assert any(p.path == path and message in p.message for p in problems), problems


def test_escalation_shows_on_the_item_page(app, client, auth, actor_of):
    item = raise_whistle(actor_of)
    sweep(now=at("2026-11-27T13:05"))
    auth.login("xifang")
    page = client.get(f"/work/items/{item.id}").get_data(as_text=True)
    assert "超时督办" in page and "报到超时督办" in page and "区综合行政执法局" in page

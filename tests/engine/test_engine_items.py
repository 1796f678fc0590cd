"""Engine services: version pinning, rule failures, conflicts, effects, the demo district."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from engine.authoring.publishing import publish
from engine.core.errors import Conflict, Forbidden, Invalid
from engine.definitions.definitions import current_version
from engine.store.models import Assignment, Event, Item, Notification, Pack, RuleFailure
from engine.workflow import dispatch, items

NOW = dt.datetime(2026, 11, 27, 1, 0)
BELL = {"category": "违章搭建", "summary": "楼顶违章搭建阳光房", "building": "3幢"}


def raise_bell(actor_of, data=None, who="lvzhou-yezhu1", now=NOW):
    return items.raise_item(actor_of(who), "bell", "lvzhouhuayuan", data or BELL, now=now)


def new_version(change):
    body = copy.deepcopy(current_version("bell").body)
    change(body)
    return publish(Pack.get(), body, now=NOW, by=None)


def test_items_keep_their_version_after_a_breaking_publish(app, actor_of):
    old = raise_bell(actor_of)

    def v2(body):
        body["schema"]["properties"].pop("building")
        body["schema"]["properties"]["summary"]["title"] = "问题概述"
        body["schema"]["properties"]["urgency"] = {
            "type": "string",
            "title": "紧急程度",
            "enum": ["一般", "紧急"],
        }
        body["schema"]["required"].append("urgency")
        body["workflow"]["states"]["collected"]["label"] = "待受理"

    version = new_version(v2)
    assert version.number == 2
    v2_answers = {"category": "违章搭建", "summary": "楼顶违章搭建阳光房", "urgency": "紧急"}
    new = raise_bell(actor_of, v2_answers)
    assert (old.version.number, new.version.number) == (1, 2)
    with pytest.raises(Invalid) as refused:
        raise_bell(actor_of)  # v2 requires urgency and has no building any more
    assert {"data/urgency", "data/building"} <= {p.path for p in refused.value.fields}
    # The v1 item still moves under v1's workflow, with v1's data.
    moved = items.transition(actor_of("xifang"), old.id, "accept", expected=1, now=NOW)
    assert (
        moved.state == "liaising" and moved.version.number == 1 and moved.data["building"] == "3幢"
    )


def test_publishing_the_same_body_twice_keeps_one_version(app):
    body = current_version("bell").body
    assert publish(Pack.get(), body, now=NOW, by=None).number == 1


def test_publish_refuses_an_invalid_definition_with_paths(app):
    def broken(body):
        body["workflow"]["transitions"][0]["to"] = "nowhere"

    with pytest.raises(Invalid) as refused:
        new_version(broken)
    assert refused.value.fields[0].path == "/workflow/transitions/0/to"


def test_failing_rule_falls_back_to_the_default_route_and_is_recorded(app, actor_of):
    def failing(body):
        # Arithmetic on text: fails at evaluation for every whistle.
        body["routing"]["whistle"]["rules"][0]["when"] = {
            ">": [{"+": [{"var": "form.note"}, 1]}, 0]
        }

    new_version(failing)
    item = raise_bell(actor_of)
    commissioner = actor_of("xifang")
    items.transition(commissioner, item.id, "accept", expected=1, now=NOW)
    items.transition(
        commissioner,
        item.id,
        "whistle",
        {"category": "违章搭建", "note": "楼顶违建请执法"},
        expected=2,
        now=NOW,
    )
    failure = RuleFailure.get(RuleFailure.item == item.id)
    assert failure.definition == "bell" and failure.version == 2
    assert failure.where.startswith("/routing/whistle/rules/0/when")
    units = {a.unit.key for a in Assignment.select().where(Assignment.item == item.id)}
    assert "sanfangban" in units and "dept-zhifa" not in units
    route = [e for e in Event.select().where((Event.item == item.id) & (Event.action == "route"))][
        -1
    ]
    assert route.detail["default_used"] and route.detail["outcomes"][0]["error"]


def test_guard_blocks_until_every_summons_is_finished(app, actor_of):
    item = raise_bell(actor_of)
    commissioner = actor_of("xifang")
    items.transition(commissioner, item.id, "accept", expected=1, now=NOW)
    with pytest.raises(Invalid):
        items.transition(
            commissioner, item.id, "resolve", {"resolution": "已处理完毕"}, expected=2, now=NOW
        )
    for assignment in list(Assignment.select().where(Assignment.item == item.id)):
        who = {
            "party": "lvzhouhuayuan-dzz",
            "committee": "lvzhouhuayuan-ywh",
            "property": "lvzhouhuayuan-wy",
        }[assignment.role]
        dispatch.report_in(actor_of(who), assignment.id, now=NOW)
        dispatch.complete(actor_of(who), assignment.id, "已协调", now=NOW)
    later = NOW + dt.timedelta(hours=5)
    done = items.transition(
        commissioner, item.id, "resolve", {"resolution": "已处理完毕"}, expected=2, now=later
    )
    assert done.state == "resolved" and done.resolution_seconds == 5 * 3600


def test_one_winner_for_the_same_version(app, actor_of):
    item = raise_bell(actor_of)
    commissioner = actor_of("xifang")
    items.transition(commissioner, item.id, "accept", expected=1, now=NOW)
    with pytest.raises(Conflict):
        items.transition(
            commissioner, item.id, "decline", {"reason": "重复反映的问题"}, expected=1, now=NOW
        )
    assert (
        Event.select()
        .where((Event.item == item.id) & Event.action.startswith("transition."))
        .count()
        == 1
    )


def test_roles_are_checked_per_transition(app, actor_of):
    item = raise_bell(actor_of)
    with pytest.raises(Forbidden):
        items.transition(actor_of("lvzhouhuayuan-wy"), item.id, "accept", expected=1, now=NOW)


def test_on_create_effects_notify_and_set(app, actor_of):
    whistle = items.raise_item(
        actor_of("xifang"),
        "whistle",
        "lvzhouhuayuan",
        {"category": "消防通道", "summary": "消防通道被堵", "urgency": "紧急"},
        now=NOW,
    )
    assert whistle.priority >= 3
    assert {a.unit.key for a in whistle.assignments} >= {"dept-xfdd"}
    assert Notification.select().where(Notification.item == whistle.id).count() >= 1


def test_closing_cancels_open_summons(app, actor_of):
    item = raise_bell(actor_of)
    commissioner = actor_of("xifang")
    items.transition(commissioner, item.id, "accept", expected=1, now=NOW)
    # No transition from liaising to a final state exists in the seed; use the emergency false alarm instead.
    emergency = items.raise_item(
        commissioner,
        "emergency",
        "lvzhouhuayuan",
        {"category": "火情", "severity": "一般", "location": "5幢地下车库"},
        now=NOW,
    )
    assert Assignment.select().where((Assignment.item == emergency.id) & Assignment.open).exists()
    items.transition(
        commissioner,
        emergency.id,
        "false-alarm",
        {"reason": "烧烤烟雾,核实为误报"},
        expected=1,
        now=NOW,
    )
    states = {a.state for a in Assignment.select().where(Assignment.item == emergency.id)}
    assert states == {"cancelled"}


def test_demo_is_deterministic(app, database_copy):
    from pathlib import Path

    from engine.definitions.definitions import clear_runtime_cache
    from engine.demo.demo import generate
    from engine.store.db import database, open_database

    seed_pack = Path(__file__).resolve().parents[2] / "seed" / "gongshu"

    def snapshot():
        return [
            (i.node.key, i.definition.key, i.state, i.title, i.raised_at)
            for i in Item.select().order_by(Item.id)
        ]

    generate(seed_pack, compounds=30, items=60, seed=7, now=NOW)
    first = snapshot()
    # 60 drawn items, those meetings' resolutions raised (the deliberation story and the
    # regular meetings), the residents' demo question on a statement (engine/residents/demo.py),
    # the five open matters of the live board (engine/demo/demo_live.py, demo.json
    # live_board_open) and the series of petitions and mediations (engine/demo/demo_series.py)
    from engine.store.decision_tables import ItemOrigin
    from engine.store.models import Definition

    resolutions = ItemOrigin.select().count()
    series = Item.select().join(Definition).where(Definition.key.in_(["petition", "mediation"]))
    assert resolutions >= 2 and series.count() > 0
    assert len(first) == 60 + resolutions + 1 + 5 + series.count()
    assert sum(1 for x in first if x[1] == "disclosure-question") == 1
    assert "already present" in generate(seed_pack, compounds=30, items=60, seed=7, now=NOW)
    assert snapshot() == first
    # A fresh database with the same seed gives the same district.
    database.close()
    open_database(database_copy())
    clear_runtime_cache()
    generate(seed_pack, compounds=30, items=60, seed=7, now=NOW)
    assert snapshot() == first


def test_item_node_must_fit_the_type(app, actor_of):
    with pytest.raises(Invalid) as refused:
        items.raise_item(actor_of("xifang"), "bell", "chaohui", BELL, now=NOW)
    assert refused.value.fields[0].path == "node"


def test_browser_date_times_are_stored_with_the_local_offset(app, actor_of):
    item = raise_bell(
        actor_of,
        {
            "category": "消防通道",
            "summary": "消防通道被电瓶车堵塞",
            "fire_blocked_since": "2026-11-26T20:00",
        },
    )
    assert item.data["fire_blocked_since"] == "2026-11-26T20:00:00+08:00"


def test_rules_see_time_in_state(app, actor_of):
    from engine.workflow.context import item_doc

    item = raise_bell(actor_of)
    doc = item_doc(item, actor=None, now=NOW + dt.timedelta(hours=3))
    assert doc["item"]["hours_in_state"] == 3 and doc["item"]["age_hours"] == 3


def test_refusal_closes_without_resolving(app, actor_of):
    item = raise_bell(actor_of)
    declined = items.transition(
        actor_of("xifang"),
        item.id,
        "decline",
        {"reason": "不属于小区协商事项"},
        expected=1,
        now=NOW,
    )
    assert declined.closed and declined.resolved_at is None


def test_accounts_and_tokens_are_audited(app):
    from engine.accounts.users import create_token, upsert_user

    upsert_user(
        "new-zy",
        "新专员",
        "longpassword",
        [{"role": "commissioner", "node": "lvzhouhuayuan"}],
        now=NOW,
    )
    create_token("new-zy", "mobile app", now=NOW)
    actions = [(e.action, e.target) for e in Event.select().where(Event.target == "user:new-zy")]
    assert ("user.save", "user:new-zy") in actions and ("token.create", "user:new-zy") in actions


@pytest.mark.parametrize("id_list_limit", [400, 0], ids=["id-list", "large-subtrees"])
def test_queues_page_by_deadline_like_one_order_by(app, actor_of, monkeypatch, id_list_limit):
    """inbox() and summons() page in two index-ordered queries; the order is the one of
    ``ORDER BY due IS NULL, due, id`` over every page, rows without a deadline last.
    With ``ID_LIST_LIMIT`` 0 every subtree is a large one (a district's: path tested on
    each row, summons gathered by unit ids)."""
    from pathlib import Path

    from engine.demo.demo import generate
    from engine.org import scope
    from engine.workflow import queues

    monkeypatch.setattr(scope, "ID_LIST_LIMIT", id_list_limit)

    generate(
        Path(__file__).resolve().parents[2] / "seed" / "gongshu",
        compounds=3,
        items=400,
        seed=3,
        now=NOW,
    )
    compound = Item.select(Item.node).where(~Item.closed).order_by(Item.node).first().node
    # Some rows without a deadline, some with equal ones, to test both ends and ties.
    Item.update(due_at=None).where(
        Item.id.in_(Item.select(Item.id).where(Item.node == compound).limit(7))
    ).execute()
    Assignment.update(next_due_at=None).where(
        Assignment.id.in_(Assignment.select(Assignment.id).limit(9))
    ).execute()
    Assignment.update(next_due_at=NOW).where(
        Assignment.id.in_(Assignment.select(Assignment.id).offset(20).limit(5))
    ).execute()
    from engine.store.models import Grant

    grants = [
        g
        for role in ("commissioner", "department", "admin", "supervisor", "resident")
        for g in Grant.select().where(Grant.role == role).order_by(Grant.id.desc()).limit(3)
    ]
    for grant in grants:
        actor = actor_of(grant.user.username)
        for open_only, mine in ((True, False), (False, False), (False, True), (True, True)):
            filters = queues.Filters(open_only=open_only, mine=mine)
            expected = [i.id for i in queues.items_query(actor, filters)]
            pages = []
            for page in range(1, len(expected) // queues.PAGE_SIZE + 3):
                pages += [i.id for i in queues.inbox(actor, filters, page=page)]
            assert pages == expected
            expected = [a.id for a in queues.summons_query(actor, open_only=open_only)]
            pages = []
            for page in range(1, len(expected) // queues.PAGE_SIZE + 3):
                pages += [a.id for a in queues.summons(actor, open_only=open_only, page=page)]
            assert pages == expected


def test_a_missing_answer_in_the_title_is_empty_not_null(app, actor_of):
    # cat writes null as "" (json-logic-js); the title showed 【null】.
    def titled(body):
        body["title"] = {"cat": ["【", {"var": "data.building"}, "】", {"var": "data.summary"}]}

    new_version(titled)
    item = raise_bell(actor_of, {"category": "违章搭建", "summary": "楼顶违章搭建阳光房"})
    assert item.title == "【】楼顶违章搭建阳光房"

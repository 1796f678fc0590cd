"""Deliberation (issue 11): meetings and their resolutions, opinion collections, the
party organisation's gate (先议先审), their audit events and facts."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from engine.core.errors import Conflict, Forbidden, Invalid, NotFound
from engine.decisions import meetings, opinions
from engine.definitions.checks import definition_problems
from engine.definitions.definitions import current_version, known_role_labels, runtime
from engine.metrics import facts
from engine.store.decision_tables import GateDecision, ItemOrigin, Opinion
from engine.store.models import Event, Item, OrgNode
from engine.workflow import gates, items
from tests.conftest import NOW

MEETING = {
    "title": "三月红茶议事会",
    "held_at": "2026-11-27T19:00",
    "place": "党群服务驿站",
    "agenda": "3幢外墙渗漏维修\n非机动车棚改造",
}
MINUTES = {"host": "小区党组织", "summary": "居民代表一致同意先行维修3幢外墙,费用从维修资金列支。"}


CADENCE_FACTS = {"due", "on_time", "on_time_rate", "by_definition"}  # test_engine_cadence.py


def actions(target: str) -> list[str]:
    return [e.action for e in Event.select().where(Event.target == target).order_by(Event.id)]


@pytest.fixture
def held(app, actor_of):
    party = actor_of("lvzhouhuayuan-dzz")
    meeting = meetings.convene(party, "tea-meeting", "lvzhouhuayuan", MEETING, now=NOW)
    attendance = {"party": "3", "committee": 2, "property": 1, "commissioner": 1, "resident": 12}
    return meetings.record_minutes(
        party, meeting.id, attendance, MINUTES, expected=meeting.lock, now=NOW
    )


def test_meeting_lifecycle_raises_an_item_linked_both_ways(held, actor_of):
    party = actor_of("lvzhouhuayuan-dzz")
    assert held.state == "held" and held.attendance["resident"] == 12
    assert held.agenda == ["3幢外墙渗漏维修", "非机动车棚改造"]
    assert held.held_at == dt.datetime(2026, 11, 27, 11, 0)  # 19:00 in Shanghai, stored as UTC
    resolution = meetings.resolve(party, held.id, "3幢外墙渗漏使用维修资金维修", now=NOW)
    # The party may raise a major matter, not a bell (its raise roles), and open a vote.
    offered = [o["key"] for o in meetings.offered_outcomes(party, held)]
    assert offered == ["raise-major", "owners-vote"]
    with pytest.raises(NotFound):
        meetings.take_outcome(party, resolution.id, "raise-bell", now=NOW)
    taken = meetings.take_outcome(party, resolution.id, "raise-major", now=NOW)
    item = Item.get_by_id(taken.item_id)
    assert item.definition.key == "major-matter" and item.title == "3幢外墙渗漏使用维修资金维修"
    assert "三月红茶议事会" in item.data["description"]
    origin = ItemOrigin.get(ItemOrigin.item == item)
    assert (origin.kind, origin.meeting_id, origin.source) == ("resolution", held.id, resolution.id)
    with pytest.raises(Conflict):
        meetings.take_outcome(party, resolution.id, "raise-major", now=NOW)
    assert actions(f"meeting:{held.id}") == [
        "meeting.convene",
        "meeting.minutes",
        "meeting.resolve",
        "resolution.outcome",
    ]
    assert [e.action for e in Event.select().where(Event.item == item).order_by(Event.id)] == [
        "item.raise",
        "item.origin",
    ]


def test_meeting_scope_and_roles(held, actor_of):
    other = actor_of("changzhengqiaolu-dzz")
    with pytest.raises(NotFound):
        meetings.get_meeting(other, held.id)
    with pytest.raises(Forbidden):
        meetings.convene(other, "tea-meeting", "lvzhouhuayuan", MEETING, now=NOW)
    assert held.id not in [m.id for m in meetings.meetings_in_reach(other)[0]]
    # The property company sees the meeting but does not record it.
    company = actor_of("lvzhouhuayuan-wy")
    assert meetings.get_meeting(company, held.id).id == held.id
    with pytest.raises(Forbidden):
        meetings.resolve(company, held.id, "物业自行决定", now=NOW)
    # A resident sees no meeting pages; a street supervisor sees the street's meetings.
    with pytest.raises(NotFound):
        meetings.get_meeting(actor_of("lvzhou-yezhu1"), held.id)
    assert held.id in [m.id for m in meetings.meetings_in_reach(actor_of("chaohui-ducha"))[0]]


def test_meeting_fields_and_minutes_are_checked(app, actor_of):
    party = actor_of("lvzhouhuayuan-dzz")
    with pytest.raises(Invalid) as bad:
        meetings.convene(
            party, "tea-meeting", "lvzhouhuayuan", {**MEETING, "agenda": " \n"}, now=NOW
        )
    assert bad.value.fields[0].path == "agenda"
    with pytest.raises(Invalid) as bad:
        meetings.convene(
            party, "tea-meeting", "lvzhouhuayuan", {**MEETING, "invited": ["department"]}, now=NOW
        )
    assert bad.value.fields[0].path == "invited"
    meeting = meetings.convene(party, "tea-meeting", "lvzhouhuayuan", MEETING, now=NOW)
    with pytest.raises(Conflict):  # no resolutions before the minutes
        meetings.resolve(party, meeting.id, "先议后决", now=NOW)
    with pytest.raises(Invalid) as bad:
        meetings.record_minutes(party, meeting.id, {}, {"summary": "短"}, expected=None, now=NOW)
    assert [p.path for p in bad.value.fields] == ["data/summary"]
    with pytest.raises(Invalid) as bad:
        meetings.record_minutes(
            party, meeting.id, {"party": "many"}, MINUTES, expected=None, now=NOW
        )
    assert bad.value.fields[0].path == "attendance/party"
    meetings.record_minutes(party, meeting.id, {}, MINUTES, expected=meeting.lock, now=NOW)
    with pytest.raises(Conflict):  # the form showed an older version
        meetings.record_minutes(party, meeting.id, {}, MINUTES, expected=meeting.lock, now=NOW)


def raise_major(actor_of):
    commissioner = actor_of("xifang")
    item = items.raise_item(
        commissioner,
        "major-matter",
        "lvzhouhuayuan",
        {"category": "维修资金使用", "summary": "3幢外墙渗漏维修", "amount": 86000},
        now=NOW,
    )
    return items.transition(commissioner, item.id, "submit", expected=item.lock, now=NOW)


def test_the_gate_blocks_until_the_party_decides(app, actor_of):
    commissioner, party = actor_of("xifang"), actor_of("lvzhouhuayuan-dzz")
    item = raise_major(actor_of)
    assert item.state == "party_review"
    # Nothing the commissioner may do moves the item on while the party has not decided.
    assert items.offers(commissioner, item, now=NOW) == []
    with pytest.raises(Forbidden):
        items.transition(
            commissioner, item.id, "agree", {"reasons": "专员代为同意"}, expected=None, now=NOW
        )
    with pytest.raises(Conflict):
        items.transition(
            commissioner, item.id, "conclude", {"outcome": "直接协商结束"}, expected=None, now=NOW
        )
    assert [o.key for o in items.offers(party, item, now=NOW)] == ["agree", "return"]
    with pytest.raises(Invalid) as bad:  # a decision states its reasons
        items.transition(party, item.id, "agree", {}, expected=item.lock, now=NOW)
    assert bad.value.fields[0].path == "data/reasons"
    assert GateDecision.select().count() == 0
    moved = items.transition(
        party,
        item.id,
        "agree",
        {"reasons": "支委会审议:程序合规,同意提交业主协商", "attendees": 5},
        expected=item.lock,
        now=NOW,
    )
    assert moved.state == "consultation"
    (decision,) = gates.decisions_of(moved)
    assert (decision.state, decision.decision, decision.by.username) == (
        "party_review",
        "agree",
        "lvzhouhuayuan-dzz",
    )
    assert decision.reasons.startswith("支委会审议")
    event = Event.get((Event.item == moved) & (Event.action == "gate.decide"))
    assert event.after["decision"] == "agree" and event.actor.username == "lvzhouhuayuan-dzz"
    # Now the commissioner proceeds.
    assert [o.key for o in items.offers(commissioner, moved, now=NOW)] == ["conclude"]


def test_a_return_is_recorded_and_the_item_comes_back_to_the_gate(app, actor_of):
    commissioner, party = actor_of("xifang"), actor_of("lvzhouhuayuan-dzz")
    item = raise_major(actor_of)
    item = items.transition(
        party, item.id, "return", {"reasons": "请补充三家报价"}, expected=item.lock, now=NOW
    )
    item = items.transition(commissioner, item.id, "resubmit", expected=item.lock, now=NOW)
    assert item.state == "party_review"
    assert [d.decision for d in gates.decisions_of(item)] == ["return"]


def workflow_problems(change):
    body = copy.deepcopy(current_version("major-matter").body)
    change(body["workflow"])
    return [
        (p.path, p.message)
        for p in definition_problems(body, roles=known_role_labels(), units=set())
        if "gate" in p.message or "decision" in p.message or "reasons" in p.message
    ]


def test_gate_definitions_are_checked(app):
    assert workflow_problems(lambda w: None) == []

    def bypass(w):
        w["transitions"].append(
            {
                "key": "skip",
                "label": "跳过",
                "from": ["party_review"],
                "to": "consultation",
                "roles": ["commissioner"],
            }
        )

    assert (
        workflow_problems(bypass)[0][1]
        == "The transition '跳过' leaves a gate state: it must record a decision"
    )

    def outsider(w):
        w["transitions"][1]["roles"] = ["party", "commissioner"]

    assert workflow_problems(outsider) == [
        # Named by its label from the pack's roles, not its key.
        ("/workflow/transitions/1/roles", "Only the gate's roles decide, not '小区专员'")
    ]

    def no_reasons(w):
        del w["transitions"][1]["form"]

    assert workflow_problems(no_reasons)[0][0] == "/workflow/transitions/1/form"

    def stray(w):
        w["transitions"][0]["decision"] = "agree"

    assert workflow_problems(stray)[0][0] == "/workflow/transitions/0/decision"


@pytest.fixture
def collection(app, actor_of):
    return opinions.open_collection(
        actor_of("lvzhouhuayuan-ywh"),
        "opinion",
        "lvzhouhuayuan",
        {"title": "非机动车棚改造方案", "description": "拟将2幢旁空地改造为充电车棚"},
        now=NOW,
    )


def test_opinion_collection_lifecycle(collection, actor_of):
    assert collection.closes_at == NOW + dt.timedelta(days=7)  # the definition's days
    resident, neighbour = actor_of("lvzhou-yezhu1"), actor_of("lvzhou-yezhu2")
    assert [c.id for c, mine in opinions.for_resident(resident, now=NOW)] == [collection.id]
    opinions.answer(resident, collection.id, {"stance": "赞成"}, now=NOW)
    opinions.answer(
        resident, collection.id, {"stance": "其他意见", "reason": "希望加装监控"}, now=NOW
    )
    opinions.answer(neighbour, collection.id, {"stance": "赞成", "suggestion": "尽快施工"}, now=NOW)
    assert Opinion.select().where(Opinion.collection == collection).count() == 2
    ((listed, mine),) = opinions.for_resident(resident, now=NOW)
    assert listed.id == collection.id and mine.data["reason"] == "希望加装监控"  # to change
    rt_counts = opinions.counts(collection, runtime(collection.version_id))
    assert rt_counts == {"stance": {"其他意见": 1, "赞成": 1}}
    assert actions(f"opinions:{collection.id}") == [
        "opinion.open",
        "opinion.answer",
        "opinion.answer",
        "opinion.answer",
    ]
    changed = Event.select().where(Event.action == "opinion.answer").order_by(Event.id)[1]
    assert changed.before == {"stance": "赞成"} and changed.after["reason"] == "希望加装监控"
    # The committee reads them and turns one into a major matter (it may not raise a bell).
    committee = actor_of("lvzhouhuayuan-ywh")
    found = opinions.opinions_of(committee, collection)
    assert [o["key"] for o in opinions.offered_outcomes(committee, collection)] == ["raise-major"]
    mine = next(o for o in found if o.user_id == resident.user.id)
    done = opinions.to_item(committee, mine.id, "raise-major", now=NOW)
    item = Item.get_by_id(done.item_id)
    assert (
        item.title == "征求意见:非机动车棚改造方案" and "希望加装监控" in item.data["description"]
    )
    assert ItemOrigin.get(ItemOrigin.item == item).collection_id == collection.id
    with pytest.raises(Conflict):
        opinions.to_item(committee, mine.id, "raise-major", now=NOW)
    with pytest.raises(Forbidden):  # residents never read others' opinions
        opinions.opinions_of(resident, collection)


def test_the_window_and_the_forms_conditions_are_enforced(collection, actor_of):
    resident = actor_of("lvzhou-yezhu1")
    with pytest.raises(Invalid) as bad:  # against: the reason is shown, so required
        opinions.answer(resident, collection.id, {"stance": "反对"}, now=NOW)
    assert [p.path for p in bad.value.fields] == ["data/reason"]
    with pytest.raises(Invalid):
        opinions.answer(resident, collection.id, {"stance": "随便"}, now=NOW)
    # In favour: the reason is hidden, so an answer sent for it anyway is dropped.
    kept = opinions.answer(
        resident, collection.id, {"stance": "赞成", "reason": "藏着的理由"}, now=NOW
    )
    assert kept.data == {"stance": "赞成"}
    with pytest.raises(Conflict):
        opinions.answer(resident, collection.id, {"stance": "赞成"}, now=collection.closes_at)
    with pytest.raises(Invalid):
        opinions.open_collection(
            actor_of("xifang"),
            "opinion",
            "lvzhouhuayuan",
            {"title": "过期", "closes_at": "2026-11-01"},
            now=NOW,
        )


def test_a_resident_never_sees_another_compounds_collections(collection, actor_of):
    stranger = actor_of("changzheng-yezhu1")
    assert opinions.for_resident(stranger, now=NOW) == []
    with pytest.raises(NotFound):
        opinions.answer(stranger, collection.id, {"stance": "赞成"}, now=NOW)
    with pytest.raises(NotFound):
        opinions.get_collection(actor_of("changzhengqiaolu-ywh"), collection.id)
    with pytest.raises(Forbidden):
        opinions.open_collection(
            actor_of("changzhengqiaolu-ywh"), "opinion", "lvzhouhuayuan", {"title": "越界"}, now=NOW
        )


def test_deliberation_facts(held, collection, actor_of):
    party = actor_of("lvzhouhuayuan-dzz")
    resolution = meetings.resolve(party, held.id, "3幢外墙渗漏使用维修资金维修", now=NOW)
    meetings.take_outcome(party, resolution.id, "raise-major", now=NOW)
    opinions.answer(actor_of("lvzhou-yezhu1"), collection.id, {"stance": "赞成"}, now=NOW)
    item = raise_major(actor_of)
    items.transition(party, item.id, "agree", {"reasons": "同意提交协商"}, expected=None, now=NOW)
    docs = facts.compute_all(now=NOW)
    compound = OrgNode.get(OrgNode.key == "lvzhouhuayuan")
    doc = docs[compound.id]
    assert {k: v for k, v in doc["meetings"].items() if k not in CADENCE_FACTS} == {
        "held": 1,
        "planned": 0,
        "resolutions": 1,
        "items": 1,
        "compounds": 1,
        "compound_rate": 100.0,
    }
    assert doc["opinions"] == {"collections": 1, "answers": 1, "items": 0}
    assert doc["gates"] == {"decided": 1, "by_decision": {"agree": 1}}
    street = docs[OrgNode.get(OrgNode.key == "chaohui").id]
    assert street["meetings"]["held"] == 1 and street["meetings"]["compounds"] == 1
    assert 0 < street["meetings"]["compound_rate"] < 100
    other = docs[OrgNode.get(OrgNode.key == "changzhengqiaolu").id]
    assert other["meetings"]["held"] == 0 and other["meetings"]["compound_rate"] == 0.0


def test_the_bulk_writer_records_gate_decisions_like_the_one_row_writer(app):
    """The demo's planner takes decision transitions through the same kernel plan: every
    item that passed the gate has its decision row and its gate.decide event."""
    import random
    from pathlib import Path

    from engine.authoring.packs import read_pack
    from engine.demo.demo import answer_pool
    from engine.demo.demo_items import Planner
    from engine.demo.demo_stories import Teller
    from engine.store.models import Definition

    pools = read_pack(Path(__file__).resolve().parents[2] / "seed" / "gongshu").demo
    rng = random.Random(3)
    planner = Planner(rng, Teller(rng, pools, answer_pool(rng, pools, NOW)), NOW)
    major = Definition.get(Definition.key == "major-matter")
    compound = OrgNode.get(OrgNode.key == "lvzhouhuayuan")
    for _ in range(30):
        planner.add(major, compound, None)
    planner.finish()
    passed = [
        i
        for i in Item.select().where(Item.definition == major)
        if i.state not in ("proposed", "party_review")
        and not (i.state == "withdrawn" and not gates.decisions_of(i))
    ]
    assert passed, "the planner should take some items through the gate"
    for item in passed:
        decided = gates.decisions_of(item)
        assert decided and decided[0].state == "party_review" and decided[0].reasons
        events = Event.select().where((Event.item == item) & (Event.action == "gate.decide"))
        assert events.count() == len(decided)

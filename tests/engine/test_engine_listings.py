"""Listings (邻里互助, 需求清单/资源清单): post, take up, confirm, rate, scope, matching."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.core.errors import Conflict, Forbidden, Invalid, NotFound
from engine.residents import listings, matching
from engine.store.models import Event, OrgNode
from engine.store.resident_tables import Listing
from engine.store.tables import ChecklistRow

NOW = dt.datetime(2026, 11, 27, 1, 0)
H = dt.timedelta(hours=1)
HELP = {"category": "代买代取", "summary": "周六上午帮忙去药店取药", "place": "3幢2单元"}


def node(key):
    return OrgNode.get(OrgNode.key == key)


def test_post_take_confirm_rate(app, actor_of):
    poster, helper = actor_of("lvzhou-yezhu1"), actor_of("lvzhou-yezhu2")
    posted = listings.post(
        poster, "neighbour-help", "request", node("lvzhouhuayuan"), HELP, now=NOW
    )
    assert (posted.title, posted.category, posted.state) == (HELP["summary"], "代买代取", "open")
    assert [x.id for x in listings.visible(helper, "neighbour-help")] == [posted.id]
    with pytest.raises(Forbidden):  # not one's own
        listings.take(poster, posted, now=NOW)
    listings.take(helper, posted, now=NOW + H)
    assert posted.state == "taken" and posted.taken_by_id == helper.user.id
    with pytest.raises(Conflict):  # a second helper comes too late
        listings.take(actor_of("lvzhou-yezhu2"), Listing.get_by_id(posted.id), now=NOW + H)
    with pytest.raises(Conflict):
        listings.rate(poster, posted, "5", now=NOW)
    listings.confirm_done(poster, posted, now=NOW + 2 * H)
    assert posted.state == "taken"
    listings.confirm_done(helper, posted, now=NOW + 3 * H)
    assert posted.state == "done" and posted.done_at == NOW + 3 * H
    with pytest.raises(Invalid):
        listings.rate(poster, posted, "6", now=NOW)
    listings.rate(poster, posted, "5", now=NOW + 4 * H)
    listings.rate(helper, posted, "4", now=NOW + 4 * H)
    posted = Listing.get_by_id(posted.id)
    assert (posted.poster_rating, posted.taker_rating) == (5, 4)
    actions = [
        e.action
        for e in Event.select().where(Event.target == f"listing:{posted.id}").order_by(Event.id)
    ]
    assert actions == [
        "listing.post",
        "listing.take",
        "listing.confirm",
        "listing.confirm",
        "listing.rate",
        "listing.rate",
    ]


def test_bad_answers_name_their_fields(app, actor_of):
    with pytest.raises(Invalid) as refused:
        listings.post(
            actor_of("lvzhou-yezhu1"),
            "neighbour-help",
            "request",
            node("lvzhouhuayuan"),
            {"category": "x"},
            now=NOW,
        )
    assert {p.path for p in refused.value.fields} >= {"data/category", "data/summary"}
    with pytest.raises(Forbidden):  # a resident posts in their own compound only
        listings.post(
            actor_of("lvzhou-yezhu1"),
            "neighbour-help",
            "request",
            node("changzhengqiaolu"),
            HELP,
            now=NOW,
        )


def test_a_resident_never_sees_another_compounds_listings(app, actor_of):
    posted = listings.post(
        actor_of("lvzhou-yezhu1"), "neighbour-help", "offer", node("lvzhouhuayuan"), HELP, now=NOW
    )
    other = actor_of("changzheng-yezhu1")
    assert listings.visible(other, "neighbour-help") == []
    with pytest.raises(NotFound):
        listings.get_listing(other, posted.id)
    assert not listings.may_take(other, posted, listings.body_of(posted))
    assert listings.get_listing(actor_of("lvzhou-yezhu2"), posted.id).id == posted.id


NEED = {"category": "助老助残", "summary": "独居老人每周助餐送餐", "place": "绿洲花园"}
RESOURCE = {"category": "助老助残", "summary": "爱心食堂每周送餐志愿服务", "provider": "共建单位"}


def test_needs_matched_with_resources_become_projects(app, actor_of):
    commissioner, partner = actor_of("xifang"), actor_of("shijia-gongjian")
    need = listings.post(commissioner, "co-building", "need", node("lvzhouhuayuan"), NEED, now=NOW)
    resource = listings.post(
        partner, "co-building", "resource", node("shijiahuayuan"), RESOURCE, now=NOW + H
    )
    other_kind = listings.post(
        partner,
        "co-building",
        "resource",
        node("shijiahuayuan"),
        {**RESOURCE, "category": "法律咨询"},
        now=NOW,
    )
    pairs = matching.suggestions(commissioner, "co-building")
    assert [(s.need.id, s.resource.id) for s in pairs] == [(need.id, resource.id)]
    assert other_kind.id not in {s.resource.id for s in pairs}
    # A resident of another street sees none of it; the partner cannot confirm.
    assert matching.suggestions(actor_of("changzheng-yezhu1"), "co-building") == []
    with pytest.raises(Forbidden):
        matching.confirm(partner, need, resource, now=NOW)
    with pytest.raises(Conflict):
        matching.confirm(commissioner, need, other_kind, now=NOW)
    matching.confirm(commissioner, need, resource, now=NOW + 5 * H)
    need, resource = Listing.get_by_id(need.id), Listing.get_by_id(resource.id)
    assert (need.state, resource.state, need.partner_id) == ("matched", "matched", resource.id)
    row = ChecklistRow.get_by_id(need.project)
    assert row.node_id == need.node_id and row.definition.key == "coordination-list"
    assert row.data["content"] == "独居老人每周助餐送餐 — 爱心食堂每周送餐志愿服务"
    assert row.data["deadline"] == "2026-12-27" and row.data["status"] == "推进中"
    with pytest.raises(Conflict):  # matched once
        matching.confirm(commissioner, need, resource, now=NOW)


def test_facts_count_needs_matched_and_help_done(app, actor_of):
    from engine.metrics import facts

    commissioner, partner = actor_of("xifang"), actor_of("shijia-gongjian")
    need = listings.post(commissioner, "co-building", "need", node("lvzhouhuayuan"), NEED, now=NOW)
    resource = listings.post(
        partner, "co-building", "resource", node("shijiahuayuan"), RESOURCE, now=NOW
    )
    listings.post(
        commissioner,
        "co-building",
        "need",
        node("lvzhouhuayuan"),
        {**NEED, "category": "其他"},
        now=NOW,
    )
    matching.confirm(commissioner, need, resource, now=NOW + 6 * H)
    listings.post(
        actor_of("lvzhou-yezhu1"), "neighbour-help", "request", node("lvzhouhuayuan"), HELP, now=NOW
    )
    docs = facts.compute_all(now=NOW + 7 * H)
    compound = docs[node("lvzhouhuayuan").id]["listings"]
    assert compound == {
        "help_open": 1,
        "help_done": 0,
        "needs_open": 1,
        "needs_matched": 1,
        "resources_open": 0,
        "resources_used": 0,  # the resource was posted at the community, above the compound
        "match_hours_mean": 6.0,
    }
    community = docs[node("shijiahuayuan").id]["listings"]
    assert (community["needs_matched"], community["resources_used"]) == (1, 1)


def test_the_demo_has_statements_help_and_matched_needs(app):
    from engine.demo.demo import generate
    from engine.store.resident_tables import Statement
    from tests.conftest import SEED

    message = generate(SEED, compounds=3, items=0, seed=5, now=NOW)
    assert "4 statements, 5 help listings, 6 needs and resources" in message
    states = {(s.node.key, s.period, s.number): s.state for s in Statement.select()}
    assert states[("changzhengqiaolu", "2026-Q2", 1)] == "superseded"
    assert states[("changzhengqiaolu", "2026-Q2", 2)] == "published"
    returned = Event.select().where(Event.action == "statement.return").count()
    assert returned == 1
    assert {x.state for x in Listing.select()} == {"open", "taken", "done", "matched"}
    from engine.store.models import Item

    asked = Event.get(Event.action == "statement.question").detail["item"]
    assert Item.get_by_id(asked).state == "answered"

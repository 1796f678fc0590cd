"""Votes at a compound: open, cast online, paper ballots with evidence, close, recount, remind."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from engine.core.errors import Conflict, Forbidden, Invalid
from engine.decisions import ballots, polls
from engine.records import attachments
from engine.store.models import Event, Notification
from engine.store.polls import Ballot, PollUnit
from engine.store.storage import configured
from tests.polls_support import NOW, PNG, make_households, units_of

H = dt.timedelta(hours=1)


@pytest.fixture
def compound(app):
    units = units_of(4)
    units[0]["account"] = "lvzhou-yezhu1"
    units[1]["account"] = "lvzhou-yezhu2"
    units[2]["owner_key"] = units[3]["owner_key"] = "same-owner"
    return make_households(units)


def open_one(actor_of, **kw):
    return polls.open_poll(
        actor_of("lvzhouhuayuan-ywh"),
        "owners-decision",
        "lvzhouhuayuan",
        "更换物业服务企业",
        category="property-service",
        now=NOW,
        **kw,
    )


def photo(actor, app):
    with app.app_context():
        return attachments.store(
            actor, "ballot.png", "image/png", io.BytesIO(PNG), store=configured(app.config), now=NOW
        ).public_id


def test_open_fixes_the_electorate_and_tells_the_owners(app, actor_of, compound):
    poll = open_one(actor_of)
    units = list(PollUnit.select().where(PollUnit.poll == poll.id).order_by(PollUnit.id))
    assert [u.area_hundredths for u in units] == [10000] * 4
    assert units[2].head == units[3].head == "owner:same-owner"
    assert poll.closes_at == NOW + dt.timedelta(days=15)  # the definition's window
    told = Notification.select().where(Notification.message.contains("更换物业服务企业"))
    assert {n.user.username for n in told} == {"lvzhou-yezhu1", "lvzhou-yezhu2"}
    assert Event.get(Event.action == "poll.open").after["units"] == 4


def test_only_the_roles_the_definition_names_open_one_at_their_compound(app, actor_of, compound):
    with pytest.raises(Forbidden):
        polls.open_poll(
            actor_of("lvzhou-yezhu1"),
            "owners-decision",
            "lvzhouhuayuan",
            "x",
            category="fund-use",
            now=NOW,
        )
    with pytest.raises(Forbidden):  # another compound's committee
        polls.open_poll(
            actor_of("changzhengqiaolu-ywh"),
            "owners-decision",
            "lvzhouhuayuan",
            "x",
            category="fund-use",
            now=NOW,
        )
    with pytest.raises(Invalid) as bad:
        open_one(actor_of, max_choices=0)
    assert bad.value.fields[0].path == "max_choices"
    with pytest.raises(Invalid) as bad:
        polls.open_poll(
            actor_of("lvzhouhuayuan-ywh"),
            "owners-decision",
            "lvzhouhuayuan",
            "x",
            category="nope",
            now=NOW,
        )
    assert bad.value.fields[0].path == "category"


def test_a_compound_without_registered_areas_cannot_vote(app, actor_of):
    with pytest.raises(Invalid) as bad:
        open_one(actor_of)
    assert bad.value.fields[0].path == "node"


def test_owner_votes_changes_before_close_and_every_change_is_audited(app, actor_of, compound):
    poll = open_one(actor_of)
    owner = actor_of("lvzhou-yezhu1")
    [first] = ballots.cast(owner, poll.id, "no", now=NOW + H)
    [second] = ballots.cast(owner, poll.id, ["yes"], now=NOW + 2 * H)
    assert first.id == second.id and second.choices == ["yes"] and second.changes == 1
    change = Event.get(Event.action == "ballot.change")
    assert change.before == {"choices": ["no"]} and change.after == {"choices": ["yes"]}
    with pytest.raises(Invalid) as bad:
        ballots.cast(owner, poll.id, ["yes", "no"], now=NOW + H)
    assert bad.value.fields[0].path == "choices"
    with pytest.raises(Forbidden):  # the committee member owns no unit here
        ballots.cast(actor_of("lvzhouhuayuan-ywh"), poll.id, "yes", now=NOW + H)


def test_paper_ballot_needs_its_photo_and_blocks_a_second_ballot(app, actor_of, compound):
    poll = open_one(actor_of)
    committee = actor_of("lvzhouhuayuan-ywh")
    unit = PollUnit.get((PollUnit.poll == poll.id) & (PollUnit.room == "1-103"))
    with pytest.raises(Invalid) as bad:
        ballots.enter_paper(committee, poll.id, unit.id, "yes", evidence="", now=NOW + H)
    assert bad.value.fields[0].path == "evidence"
    evidence = photo(committee, app)
    ballot = ballots.enter_paper(
        committee, poll.id, unit.id, "yes", evidence=evidence, now=NOW + H, proxy_name="李四"
    )
    assert ballot.channel == "proxy" and ballot.evidence == evidence
    assert ballots.may_read_evidence(committee, ballot.id)
    assert not ballots.may_read_evidence(actor_of("lvzhou-yezhu1"), ballot.id)
    with pytest.raises(Conflict):
        ballots.enter_paper(
            committee, poll.id, unit.id, "no", evidence=photo(committee, app), now=NOW + H
        )
    online = PollUnit.get((PollUnit.poll == poll.id) & (PollUnit.room == "1-101"))
    ballots.cast(actor_of("lvzhou-yezhu1"), poll.id, "yes", now=NOW + H)
    with pytest.raises(Conflict):  # the owner voted online: the committee cannot overwrite it
        ballots.enter_paper(
            committee, poll.id, online.id, "no", evidence=photo(committee, app), now=NOW + H
        )
    assert Ballot.select().where(Ballot.poll == poll.id).count() == 2


def test_close_stores_the_recount_and_refuses_later_ballots(app, actor_of, compound):
    poll = open_one(actor_of)
    committee = actor_of("lvzhouhuayuan-ywh")
    ballots.cast(actor_of("lvzhou-yezhu1"), poll.id, "yes", now=NOW + H)
    ballots.cast(actor_of("lvzhou-yezhu2"), poll.id, "yes", now=NOW + H)
    for room in ("1-103", "1-104"):
        unit = PollUnit.get((PollUnit.poll == poll.id) & (PollUnit.room == room))
        ballots.enter_paper(
            committee, poll.id, unit.id, "no", evidence=photo(committee, app), now=NOW + H
        )
    sent, without = polls.remind(committee, poll.id, now=NOW + H)
    assert (sent, without) == (0, 0)  # everyone voted
    closed = polls.close_poll(committee, poll.id, now=NOW + 2 * H)
    assert closed.closed and closed.result == polls.recount(closed)
    assert closed.result["owners"] == {"eligible": 3, "voted": 3, "yes": 2}
    assert closed.result["area"] == {"eligible": "400.00", "voted": "400.00", "yes": "200.00"}
    assert closed.result["quorum"] is True and closed.result["passed"] is False
    with pytest.raises(Conflict):
        ballots.cast(actor_of("lvzhou-yezhu1"), poll.id, "no", now=NOW + 3 * H)
    with pytest.raises(Conflict):
        polls.close_poll(committee, poll.id, now=NOW + 3 * H)
    assert polls.result_of(closed) == closed.result


def test_no_ballot_after_the_window_even_before_anyone_closes_it(app, actor_of, compound):
    poll = open_one(actor_of, closes_at=NOW + 2 * H)
    with pytest.raises(Conflict):
        ballots.cast(actor_of("lvzhou-yezhu1"), poll.id, "yes", now=NOW + 2 * H)


def test_remind_notifies_only_owners_who_have_not_voted(app, actor_of, compound):
    poll = open_one(actor_of)
    ballots.cast(actor_of("lvzhou-yezhu1"), poll.id, "yes", now=NOW + H)
    before = Notification.select().count()
    sent, without = polls.remind(actor_of("lvzhouhuayuan-ywh"), poll.id, now=NOW + H)
    assert (sent, without) == (1, 2)
    latest = Notification.select().order_by(Notification.id.desc()).first()
    assert Notification.select().count() == before + 1 and latest.user.username == "lvzhou-yezhu2"
    with pytest.raises(Forbidden):
        polls.remind(actor_of("lvzhou-yezhu1"), poll.id, now=NOW + H)


def test_participation_by_building(app, actor_of, compound):
    poll = open_one(actor_of)
    ballots.cast(actor_of("lvzhou-yezhu1"), poll.id, "yes", now=NOW + H)
    rows = polls.participation(poll)
    assert [(r["building"], r["units"], r["voted"]) for r in rows] == [
        ("1幢", 1, 1),
        ("2幢", 1, 0),
        ("3幢", 1, 0),
        ("4幢", 1, 0),
    ]


def test_candidates_with_a_maximum_to_pick(app, actor_of, compound):
    candidates = [{"label": "张三"}, {"label": "李四"}, {"label": "王五"}]
    poll = open_one(actor_of, options=candidates, max_choices=2)
    [ballot] = ballots.cast(actor_of("lvzhou-yezhu1"), poll.id, ["c1", "c3"], now=NOW + H)
    assert ballot.choices == ["c1", "c3"]
    with pytest.raises(Invalid):
        ballots.cast(actor_of("lvzhou-yezhu1"), poll.id, ["c1", "c2", "c3"], now=NOW + H)
    assert polls.recount(poll)["options"]["c3"]["units"] == 1


def test_facts_count_votes_and_the_index_and_task_list_read_them(app, actor_of, compound):
    import json
    from pathlib import Path

    import rules
    from engine.metrics import facts
    from engine.store.models import OrgNode

    poll = open_one(actor_of)
    committee = actor_of("lvzhouhuayuan-ywh")
    ballots.cast(actor_of("lvzhou-yezhu1"), poll.id, "yes", now=NOW + H)
    unit = PollUnit.get((PollUnit.poll == poll.id) & (PollUnit.room == "1-103"))
    ballots.enter_paper(
        committee, poll.id, unit.id, "no", evidence=photo(committee, app), now=NOW + H
    )
    polls.close_poll(committee, poll.id, now=NOW + 2 * H)
    open_one(actor_of)  # a second vote, still open
    docs = facts.compute_all(now=NOW + 3 * H)
    node = OrgNode.get(OrgNode.key == "lvzhouhuayuan")
    got = docs[node.id]["polls"]
    assert got == {
        "total": 2,
        "held": 1,
        "open": 1,
        "quorate": 0,  # 2 of 4 units, 2 of 3 owners: under 2/3 of the area
        "passed": 0,
        "ballots": 2,
        "electronic": 1,
        "evote_share": 50.0,
        "participation_rate": 50.0,
        "compounds_held": 1,
    }
    assert docs[node.parent_id]["polls"]["ballots"] == 2  # the community counts it too
    seed = Path(__file__).parents[2] / "seed/gongshu"
    index = json.loads((seed / "indices/strong-base.json").read_text("utf-8"))
    evote = next(i for d in index["dimensions"] for i in d["indicators"] if i["key"] == "evote")
    assert rules.compile(evote["formula"])(docs[node.id]) == 50.0
    tasks = json.loads((seed / "checklists/tasks-2021.json").read_text("utf-8"))
    row = next(r for r in tasks["rows"] if r["key"] == "digital-file-evote")
    assert rules.compile(row["measure"])(docs[node.id]) == 50.0


@pytest.mark.parametrize("candidates", [False, True])
def test_the_database_count_equals_the_reference_count(app, actor_of, candidates):
    """tally_sql (GROUP BY in the database) against tally.count (pure Python), on a random
    compound: owners of several units voting alike and differently, developer units,
    abstentions, multi-choice ballots."""
    import random

    from engine.decisions import tally_sql
    from engine.definitions import tally
    from engine.store.polls import Ballot as B

    rng = random.Random(7)
    units = units_of(60)
    for i, unit in enumerate(units):
        unit["area"] = rng.randint(3000, 15000)
        if i % 7 == 0:
            unit["owner_key"] = f"k{i % 3}"
        if i % 11 == 0:
            unit["developer_held"] = True
    make_households(units)
    extra = (
        {"options": [{"label": n} for n in ("甲", "乙", "丙", "丁")], "max_choices": 2}
        if candidates
        else {}
    )
    poll = open_one(actor_of, **extra)
    keys = [o["key"] for o in poll.options]
    for unit in PollUnit.select().where(PollUnit.poll == poll.id):
        if rng.random() < 0.8:
            picked = rng.sample(keys, rng.randint(1, 2) if candidates else 1)
            B.create(poll=poll, unit=unit, choices=picked, channel="online", cast_at=NOW)
    category = polls.category_of(poll)
    reference = tally.count(
        polls.voters_of(poll), polls.ballots_of(poll), options=poll.options, category=category
    )
    assert tally_sql.count(poll.id, options=poll.options, category=category) == reference
    assert reference["owners"]["eligible"] < 60  # shared heads counted once


def test_the_sweep_closes_votes_whose_window_ended(app, actor_of, compound):
    poll = open_one(actor_of, closes_at=NOW + 2 * H)
    ballots.cast(actor_of("lvzhou-yezhu1"), poll.id, "yes", now=NOW + H)
    assert polls.close_due(now=NOW + H) == 0
    assert polls.close_due(now=NOW + 2 * H) == 1
    closed = polls.get_poll(poll.id)
    assert closed.closed and closed.result == polls.recount(closed)
    assert Event.get(Event.action == "poll.close").actor is None
    assert polls.close_due(now=NOW + 3 * H) == 0


def test_a_totals_only_vote_keeps_no_choices_in_the_audit_trail(app, actor_of, compound):
    """Under ``show_choices: totals`` nobody may learn who voted what, the audit trail's
    readers included: its cast and change events keep that a ballot was cast, not how."""
    from engine.authoring import designer
    from engine.definitions.runtimes import runtime
    from engine.store.models import Definition, DefinitionVersion

    definition = Definition.get(Definition.key == "owners-decision")
    current = DefinitionVersion.get(
        (DefinitionVersion.definition == definition)
        & (DefinitionVersion.number == definition.current)
    )
    admin = actor_of("admin").user
    designer.save_draft(
        admin, "owners-decision", {**runtime(current).body, "show_choices": "totals"}, now=NOW
    )
    designer.publish_draft(admin, "owners-decision", now=NOW)
    poll = open_one(actor_of)
    owner = actor_of("lvzhou-yezhu1")
    ballots.cast(owner, poll.id, "no", now=NOW + H)
    [ballot] = ballots.cast(owner, poll.id, ["yes"], now=NOW + 2 * H)
    assert ballot.choices == ["yes"]  # the count still knows
    cast = Event.get(Event.action == "ballot.cast")
    change = Event.get(Event.action == "ballot.change")
    assert cast.after == {"choices": None} and cast.detail["unit"] == ballot.unit_id
    assert change.before == {"choices": None} and change.after == {"choices": None}

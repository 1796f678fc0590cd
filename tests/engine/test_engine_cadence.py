"""Meetings with a cadence (issue 14): the pack checks, the periods in Asia/Shanghai, the
on-time facts at period boundaries, this period's status, and 东新街道 with its data."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from engine.decisions import cadence, meetings
from engine.definitions.checks import definition_problems
from engine.definitions.definitions import current_version, known_roles
from engine.metrics import facts
from engine.store.models import OrgNode

MINUTES = {"host": "小区党组织", "summary": "通报上月协商铃事项办理情况,三方逐项明确责任。"}


def local(text: str) -> dt.datetime:
    """A Shanghai wall-clock time as the naive UTC the engine stores."""
    return dt.datetime.fromisoformat(text + "+08:00").astimezone(dt.UTC).replace(tzinfo=None)


def cadence_problems(value):
    body = copy.deepcopy(current_version("joint-meeting").body)
    body["cadence"] = value
    return [
        (p.path, p.message)
        for p in definition_problems(body, roles=known_roles(), units=set())
        if p.path.startswith("/cadence")
    ]


def test_the_seed_meetings_have_their_cadence(app):
    assert current_version("joint-meeting").body["cadence"] == {"period": "month"}
    assert current_version("four-party-committee").body["cadence"] == {"period": "quarter"}
    street = current_version("street-office-meeting").body
    assert street["node_kinds"] == ["street"] and street["cadence"]["period"] == "month"
    assert current_version("community-office-meeting").body["node_kinds"] == ["community"]
    station = current_version("station-meeting").body
    assert station["scope"] == "dongxin" and station["cadence"] == {"period": "month"}


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"period": "weekly"}, "/cadence/period"),
        ({"count": 2}, "/cadence"),
        ({"period": "month", "count": 0}, "/cadence/count"),
        ({"period": "month", "count": "2"}, "/cadence/count"),
        ({"period": "month", "count": 11}, "/cadence/count"),
        ({"period": "month", "every": 2}, "/cadence"),
        ("monthly", "/cadence"),
    ],
)
def test_a_bad_cadence_is_refused_naming_the_field(app, value, path):
    problems = cadence_problems(value)
    assert problems and problems[0][0] == path, problems


def test_good_cadences_pass(app):
    for value in ({"period": "month"}, {"period": "quarter", "count": 3}, {"period": "year"}):
        assert cadence_problems(value) == []
    assert cadence_problems({"period": "month", "count": 11}) == [
        ("/cadence/count", "At most 10 meetings a month, not 11")
    ]


def test_periods_are_local_time():
    # 23:30 on 31 October in Shanghai is 15:30 UTC: still October; 00:10 on 1 November is
    # 16:10 UTC on 31 October: already November.
    assert cadence.period_at("month", local("2026-10-31T23:30")).key == "2026-10"
    assert cadence.period_at("month", local("2026-11-01T00:10")).key == "2026-11"
    quarter = cadence.period_at("quarter", local("2026-12-31T23:59"))
    assert quarter.key == "2026-Q4" and quarter.end == local("2027-01-01T00:00")
    assert cadence.period_at("half", local("2026-07-01T00:00")).key == "2026-H2"
    assert cadence.period_at("year", local("2026-01-01T00:00")).start == local("2026-01-01T00:00")
    # The facts' window: six complete months before the refresh's local month, at least one.
    now = local("2026-12-01T00:30")
    assert [p.key for p in cadence.window("month", now)] == [
        "2026-11",
        "2026-10",
        "2026-09",
        "2026-08",
        "2026-07",
        "2026-06",
    ]
    assert cadence.window("month", local("2026-11-30T23:30"))[0].key == "2026-10"
    assert [p.key for p in cadence.window("quarter", now)] == ["2026-Q3", "2026-Q2"]
    assert [p.key for p in cadence.window("year", now)] == ["2025"]


def hold(actor, key, node, at_local, *, minutes=True):
    meeting = meetings.convene(
        actor,
        key,
        node,
        {"title": "月会", "held_at": at_local, "agenda": "通报情况"},
        now=local(at_local) - dt.timedelta(days=3),
    )
    if minutes:
        meetings.record_minutes(actor, meeting.id, {}, MINUTES, expected=None, now=local(at_local))
    return meeting


def joint(docs, key):
    node = OrgNode.get(OrgNode.key == key)
    return docs[node.id]["meetings"]


def test_on_time_facts_at_period_boundaries(app, actor_of):
    party = actor_of("lvzhouhuayuan-dzz")
    hold(party, "joint-meeting", "lvzhouhuayuan", "2026-10-31T23:30")  # October, just
    hold(party, "joint-meeting", "lvzhouhuayuan", "2026-11-01T00:10")  # November, just
    hold(party, "joint-meeting", "lvzhouhuayuan", "2026-05-31T23:00")  # May: before the window
    hold(party, "joint-meeting", "lvzhouhuayuan", "2026-09-15T19:00", minutes=False)  # not held
    hold(party, "tea-meeting", "lvzhouhuayuan", "2026-08-10T19:00")  # no cadence: never due

    docs = facts.compute_all(now=local("2026-12-01T00:30"))
    mine = joint(docs, "lvzhouhuayuan")
    assert mine["by_definition"]["joint-meeting"] == {
        "due": 6,
        "on_time": 2,
        "on_time_rate": 33.33,
    }
    # Every compound owes its quarterly 四方促进专委会 too: Q2 and Q3 missed.
    assert mine["by_definition"]["four-party-committee"] == {
        "due": 2,
        "on_time": 0,
        "on_time_rate": 0.0,
    }
    assert (mine["due"], mine["on_time"], mine["on_time_rate"]) == (8, 2, 25.0)
    assert "tea-meeting" not in mine["by_definition"]
    # A minute before midnight on 30 November, November is not complete: May to October.
    before = joint(facts.compute_all(now=local("2026-11-30T23:59")), "lvzhouhuayuan")
    assert before["by_definition"]["joint-meeting"]["on_time"] == 2  # May and October

    # The street adds up its compounds and owes its own monthly joint meeting.
    street = joint(docs, "chaohui")
    compounds = OrgNode.select().where(
        OrgNode.path.startswith(OrgNode.get(OrgNode.key == "chaohui").path)
        & (OrgNode.kind == "compound")
    )
    assert street["by_definition"]["joint-meeting"]["due"] == 6 * compounds.count()
    assert street["by_definition"]["joint-meeting"]["on_time"] == 2
    assert street["by_definition"]["street-office-meeting"] == {
        "due": 6,
        "on_time": 0,
        "on_time_rate": 0.0,
    }
    # 东新's station meeting is due only in 东新 (its scope).
    district = joint(docs, "gongshu")
    assert district["by_definition"]["station-meeting"]["due"] == 6
    assert "station-meeting" not in street["by_definition"]


def test_a_count_per_period_must_be_reached(app, actor_of):
    from engine.authoring.publishing import publish
    from engine.store.models import Pack

    body = copy.deepcopy(dict(current_version("joint-meeting").body))
    body["cadence"] = {"period": "month", "count": 2}
    publish(Pack.get(), body, now=local("2026-10-01T00:00"), by=None)
    party = actor_of("lvzhouhuayuan-dzz")
    hold(party, "joint-meeting", "lvzhouhuayuan", "2026-10-05T19:00")
    hold(party, "joint-meeting", "lvzhouhuayuan", "2026-11-05T19:00")
    hold(party, "joint-meeting", "lvzhouhuayuan", "2026-11-20T19:00")
    docs = facts.compute_all(now=local("2026-12-03T10:00"))
    assert joint(docs, "lvzhouhuayuan")["by_definition"]["joint-meeting"]["on_time"] == 1


def test_this_periods_status(app, actor_of):
    party = actor_of("lvzhouhuayuan-dzz")
    node = OrgNode.get(OrgNode.key == "lvzhouhuayuan")
    now = local("2026-12-03T10:00")

    def state():
        found = {s.key: s for s in cadence.statuses([node], now=now)}
        return found["joint-meeting"].state, found["joint-meeting"].cadence

    assert state()[0] == "late"  # November was missed
    hold(party, "joint-meeting", "lvzhouhuayuan", "2026-11-30T23:00")
    assert state()[0] == "due"  # November held on time; December not yet
    hold(party, "joint-meeting", "lvzhouhuayuan", "2026-12-10T19:00", minutes=False)
    found = {s.key: s for s in cadence.statuses([node], now=now)}["joint-meeting"]
    assert (found.state, found.planned, found.held) == ("due", 1, 0)
    hold(party, "joint-meeting", "lvzhouhuayuan", "2026-12-02T19:00")
    assert state()[0] == "held"


def test_dongxin_has_compounds_users_and_demo_data(app):
    from engine.demo.demo import generate
    from engine.store.decision_tables import Meeting
    from engine.store.models import Grant, Item
    from engine.store.tables import ChecklistRow
    from tests.conftest import NOW, SEED

    street = OrgNode.get(OrgNode.key == "dongxin")
    under = OrgNode.select().where(OrgNode.path.startswith(street.path))
    compounds = [n for n in under if n.kind == "compound"]
    assert len([n for n in under if n.kind == "community"]) >= 3 and len(compounds) >= 3
    assert all(n.profile.get("households") for n in compounds)
    station = Grant.get((Grant.node == street) & (Grant.role == "supervisor"))
    assert station.user.username == "dongxin-zhan"

    generate(SEED, compounds=30, items=150, seed=3, now=NOW)
    in_dongxin = Item.node_path.startswith(street.path)
    assert Item.select().where(in_dongxin).count() > 0
    assert ChecklistRow.select().where(ChecklistRow.node.in_(compounds)).count() > 0
    held = Meeting.select().where(
        Meeting.node_path.startswith(street.path) & (Meeting.state == "held")
    )
    kinds = {m.definition.key for m in held}
    assert {"station-meeting", "street-office-meeting", "community-office-meeting"} <= kinds
    assert {"joint-meeting", "four-party-committee"} <= kinds
    docs = facts.compute_all(now=NOW)
    rate = docs[street.id]["meetings"]["on_time_rate"]
    assert rate is not None and 60 <= rate < 100  # mostly on time, a few late or missed

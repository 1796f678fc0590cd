"""一名党员一幢楼 and 楼栋长 on a page: the compound's party organisation and commissioner
assign who is in charge of each building (HTMX, per building), audited; supervisors read
masked and see each compound's coverage; the facts come from the assignments."""

from __future__ import annotations

import pytest

from engine.accounts.users import upsert_user
from engine.core import clock
from engine.metrics import facts
from engine.records import buildings, profiles
from engine.store.models import Event, OrgNode
from tests.conftest import NOW

HX = {"HX-Request": "true"}
PAGE = "/lists/c/lvzhouhuayuan/buildings"


@pytest.fixture
def compound(app, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    upsert_user(
        "xiaohe-ducha", "小河督导", "demo1234", [{"role": "supervisor", "node": "xiaohe"}], now=NOW
    )
    return OrgNode.get(key="lvzhouhuayuan")


def _buildings(node):
    return buildings.buildings_of(node)


def _csrf_off(app):
    app.config["WTF_CSRF_ENABLED"] = False


def _save(client, building, lock, **answers):
    return client.post(f"{PAGE}/{building.key}", data={"lock": lock, **answers}, headers=HX)


def test_party_organisation_assigns_a_building_and_the_facts_follow(
    app, client, auth, compound, actor_of
):
    _csrf_off(app)
    # the typed numbers say 5 of 8; the org tree has 6 buildings and the page will say 1
    profiles.save(
        actor_of("xifang"),
        compound,
        {
            **compound.profile,
            "buildings": 8,
            "party_member_buildings": 5,
            "building_leader_system": False,
        },
        expected=compound.profile_lock,
        now=NOW,
    )
    first = _buildings(compound)[0]
    auth.login("lvzhouhuayuan-dzz")
    page = client.get(PAGE).get_data(as_text=True)
    assert f'id="building-{first.key}"' in page and 'hx-post="' in page and "csrf_token" in page
    response = _save(
        client,
        first,
        first.profile_lock,
        party_member="王建国",
        party_member_phone="13812345678",
        leader="李秀英",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert 'id="building-coverage" hx-swap-oob="true"' in html and "1/6" in html
    event = Event.get(Event.action == "building.assign")
    assert event.actor.username == "lvzhouhuayuan-dzz" and event.target == f"building:{first.key}"
    assert event.after == {
        "party_member": "王建国",
        "party_member_phone": "13812345678",
        "leader": "李秀英",
    }
    facts.refresh(now=NOW)
    doc = facts.cached(compound)[0]
    assert doc["profile"]["buildings"] == 6 and doc["profile"]["party_member_buildings"] == 1
    assert doc["profile"]["party_member_building_rate"] == round(100 / 6, 2)
    assert doc["profile"]["building_leader_ratio"] == round(100 / 6, 2)
    assert doc["profile"]["building_leader_system"] is True
    street = facts.cached(OrgNode.get(key="chaohui"))[0]
    assert street["coverage"]["party_member_buildings"] >= 1
    # clearing both names takes the building out again, audited with what it was
    first = OrgNode.get_by_id(first.id)
    _save(client, first, first.profile_lock, party_member="", party_member_phone="", leader="")
    assert "party_member" not in OrgNode.get_by_id(first.id).profile
    assert Event.select().where(Event.action == "building.assign").count() == 2


def test_commissioner_may_assign_too_and_bad_input_names_the_field(app, client, auth, compound):
    _csrf_off(app)
    first = _buildings(compound)[0]
    auth.login("xifang")
    bad = _save(
        client, first, first.profile_lock, party_member="王建国", party_member_phone="12345"
    )
    assert bad.status_code == 422 and "有效" in bad.get_data(as_text=True)
    nameless = _save(
        client, first, first.profile_lock, party_member="", party_member_phone="13812345678"
    )
    assert nameless.status_code == 422 and "请填写该电话对应的姓名" in nameless.get_data(
        as_text=True
    )
    assert not Event.select().where(Event.action == "building.assign").exists()
    stale = _save(client, first, first.profile_lock - 1, party_member="王建国")
    assert stale.status_code == 409
    plain = client.post(f"{PAGE}/{first.key}", data={"lock": first.profile_lock, "leader": "张伟"})
    assert plain.status_code == 303  # without HTMX: back to the page


@pytest.mark.parametrize(
    "username, get, post",
    [
        ("chaohui-ducha", 200, 403),  # the street's supervisor reads, does not assign
        ("ducha", 200, 403),
        ("xiaohe-ducha", 404, 403),  # another street's
        ("changzhengqiaolu-dzz", 404, 404),  # another compound's party organisation
        ("lvzhouhuayuan-wy", 403, 403),  # the property company
        ("lvzhou-yezhu1", 403, 403),  # a resident
    ],
)
def test_who_may_read_and_assign(app, client, auth, compound, username, get, post):
    _csrf_off(app)
    first = _buildings(compound)[0]
    auth.login(username)
    assert client.get(PAGE).status_code == get
    assert _save(client, first, first.profile_lock, leader="张伟").status_code == post
    assert "leader" not in OrgNode.get_by_id(first.id).profile


def test_supervisors_read_masked_names_and_see_coverage_by_compound(
    app, client, auth, compound, actor_of
):
    first = _buildings(compound)[0]
    buildings.assign(
        actor_of("xifang"),
        compound,
        first.key,
        {"party_member": "王建国", "party_member_phone": "13812345678"},
        expected=None,
        now=NOW,
    )
    auth.login("chaohui-ducha")
    page = client.get(PAGE).get_data(as_text=True)
    assert "王建国" not in page and "13812345678" not in page
    assert "王*国" in page and "138****5678" in page and 'id="building-table"' in page
    assert 'name="party_member"' not in page
    overview = client.get("/lists/buildings").get_data(as_text=True)
    row = overview.split('data-node="lvzhouhuayuan"', 1)[1].split("</tr>", 1)[0]
    assert "1/6" in row
    assert 'data-node="changzhengqiaolu"' not in overview  # another street
    auth.logout()
    auth.login("ducha")
    overview = client.get("/lists/buildings", query_string={"within": "xiaohe"}).get_data(
        as_text=True
    )
    assert (
        'data-node="changzhengqiaolu"' in overview and 'data-node="lvzhouhuayuan"' not in overview
    )


def test_pages_keep_to_the_query_budget(app, client, auth, compound, actor_of, assert_max_queries):
    for b in _buildings(compound)[:3]:
        buildings.assign(
            actor_of("xifang"), compound, b.key, {"leader": "张伟"}, expected=None, now=NOW
        )
    auth.login("xifang")
    client.get(PAGE)
    with assert_max_queries(8, "buildings page"):
        assert client.get(PAGE).status_code == 200
    auth.logout()
    auth.login("ducha")
    client.get("/lists/buildings")
    with assert_max_queries(8, "coverage overview"):
        assert client.get("/lists/buildings").status_code == 200


def test_roster_checks_name_the_field():
    import copy
    import json

    from engine.definitions.checks import definition_problems
    from tests.conftest import SEED

    body = json.loads((SEED / "profiles" / "compound.json").read_text())
    assert not definition_problems(body, roles=set(), units=set())
    wrong = copy.deepcopy(body)
    wrong["building_roster"]["roles"][0]["count"] = "nope"
    problems = definition_problems(wrong, roles=set(), units=set())
    assert problems and problems[0].path == "/building_roster/roles/0/count"
    twice = copy.deepcopy(body)
    twice["building_roster"]["roles"][1]["key"] = "party_member"
    assert any(
        p.path.startswith("/building_roster/roles/1")
        for p in definition_problems(twice, roles=set(), units=set())
    )

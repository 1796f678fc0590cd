"""The compound file (一小区一档案): edited through its generated form, its history of
changed fields, who may edit it and the 一名党员一幢楼 coverage."""

from __future__ import annotations

from engine.records import profiles
from engine.store.models import Event, OrgNode
from tests.conftest import NOW


def test_profile_edit_through_the_form_keeps_a_history(client, auth):
    auth.login("xifang")
    page = client.get("/lists/c/lvzhouhuayuan/profile")
    assert (
        page.status_code == 200 and 'name="households"' in page.text and "file-facts" in page.text
    )
    refused = client.post(
        "/lists/c/lvzhouhuayuan/profile",
        data={
            "has_party_org": "y",
            "committee_type": "无",
            "households": "-3",
            "buildings": "6",
            "_submit": "1",
        },
    )
    assert refused.status_code == 422
    before = dict(OrgNode.get(key="lvzhouhuayuan").profile)
    saved = client.post(
        "/lists/c/lvzhouhuayuan/profile",
        data={
            **{
                k: v
                for k, v in before.items()
                if isinstance(v, str | int) and not isinstance(v, bool)
            },
            **{k: "y" for k, v in before.items() if v is True},
            "households": "777",
            "_submit": "1",
        },
    )
    assert saved.status_code == 303
    node = OrgNode.get(key="lvzhouhuayuan")
    assert node.profile["households"] == 777
    event = Event.get(Event.target == "profile:lvzhouhuayuan")
    assert event.after["households"] == 777 and event.before["households"] == before["households"]
    history = client.get("/lists/c/lvzhouhuayuan/profile").text
    assert "777" in history and str(before["households"]) in history


def test_only_the_commissioner_and_supervisors_above_edit(client, auth, actor_of):
    auth.login("changzhengxincun-zy")
    assert client.get("/lists/c/lvzhouhuayuan/profile").status_code == 404
    auth.logout()
    auth.login("lvzhouhuayuan-wy")  # the property company reads, does not edit
    assert client.get("/lists/c/lvzhouhuayuan/profile").status_code == 200
    assert client.post("/lists/c/lvzhouhuayuan/profile", data={"_submit": "1"}).status_code == 403
    node = OrgNode.get(key="lvzhouhuayuan")
    assert profiles.may_edit(actor_of("chaohui-ducha"), node)
    assert not profiles.may_edit(actor_of("chaohui-ducha"), OrgNode.get(key="changzhengqiaolu"))


def test_party_member_per_building_coverage(client, auth, app, actor_of):
    node = OrgNode.get(key="lvzhouhuayuan")
    profiles.save(
        actor_of("xifang"),
        node,
        {**node.profile, "buildings": 8, "party_member_buildings": 6},
        expected=node.profile_lock,
        now=NOW,
    )
    assert profiles.party_member_coverage(node) is None  # no building names its party member
    # The file's own counts are a fact the pack derives, shown with its label.
    assert ("一名党员一幢楼覆盖率(%)", 75.0) in profiles.derived_facts(node)
    auth.login("xifang")
    page = client.get("/lists/c/lvzhouhuayuan/profile").text
    card = page.split('id="file-facts"', 1)[1].split("</section>", 1)[0]
    assert "<dt>一名党员一幢楼覆盖率(%)</dt><dd>75</dd>" in card and "party_member" not in card
    buildings = list(
        OrgNode.select().where((OrgNode.parent == node) & (OrgNode.kind == "building"))
    )
    first = buildings[0]
    first.profile = {"party_member": "王党员"}
    first.save()
    found = profiles.party_member_coverage(node)
    assert (found.buildings, found.covered) == (len(buildings), 1)
    assert len(found.uncovered) == len(buildings) - 1
    assert "party-member-coverage" in client.get("/lists/c/lvzhouhuayuan/profile").text


def test_the_file_reads_in_words_for_who_may_not_edit_it(
    client, auth, actor_of, assert_max_queries
):
    """Read-only, yes/no reads 是/否, a list of contacts is a table with its column titles,
    and the history names each change in words: no True, no dict, no action key."""
    node = OrgNode.get(key="lvzhouhuayuan")
    contacts = [{"building": "1幢", "name": "章晨军", "phone": "13929727484"}]
    profiles.save(
        actor_of("xifang"),
        node,
        {**node.profile, "has_party_org": True, "building_leader_contacts": contacts},
        expected=node.profile_lock,
        now=NOW,
    )
    auth.login("lvzhouhuayuan-wy")
    with assert_max_queries(8):
        page = client.get("/lists/c/lvzhouhuayuan/profile").text
    answers = page[page.index('id="profile-answers"') : page.index('id="profile-history"')]
    assert "已建立小区党组织</dt><dd" in answers and "是" in answers
    assert "<th>楼栋长</th>" in answers and "<td>章晨军</td>" in answers
    history = page[page.index('id="profile-history"') :]
    assert "修改了档案" in history and "profile.update" not in history
    for raw in ("True", "False", "{'", "[{"):
        assert raw not in answers and raw not in history, raw

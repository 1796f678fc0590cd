"""Deliberation over HTTP (issue 11): meetings with minutes and resolutions, opinion
collections answered on /r, the gate on the item page, scope, and the designer round trip."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from engine.core import clock
from engine.store.decision_tables import Meeting, Opinion, OpinionCollection, Resolution
from engine.store.models import Definition, Event, Item

MEETING = {
    "node": "lvzhouhuayuan",
    "title": "十一月红茶议事会",
    "held_at": "2026-11-27T19:00",
    "place": "党群服务驿站",
    "agenda": "3幢外墙渗漏维修\n非机动车棚改造",
    "invited": ["party", "committee", "property", "resident"],
}


def location_id(response, pattern):
    found = re.search(pattern, response.headers["Location"])
    assert found, response.headers["Location"]
    return int(found.group(1))


def convene_and_hold(client):
    response = client.post("/work/meetings/new/tea-meeting", data=MEETING)
    assert response.status_code == 303
    meeting_id = location_id(response, r"/work/meetings/(\d+)")
    minutes = {
        "lock": "1",
        "attendance-party": "3",
        "attendance-committee": "2",
        "attendance-property": "1",
        "attendance-resident": "15",
        "host": "小区党组织",
        "summary": "居民代表一致同意先行维修3幢外墙,费用从维修资金列支。",
        "_submit": "1",
    }
    response = client.post(f"/work/meetings/{meeting_id}/minutes", data=minutes)
    assert response.status_code == 303
    return meeting_id


def test_a_meeting_with_minutes_raises_an_item_linked_both_ways(client, auth, assert_max_queries):
    auth.login("lvzhouhuayuan-dzz")
    page = client.get("/work/decisions").get_data(as_text=True)
    assert "/work/meetings/new/tea-meeting?node=lvzhouhuayuan" in page
    meeting_id = convene_and_hold(client)
    response = client.post(
        f"/work/meetings/{meeting_id}/resolutions", data={"text": "3幢外墙渗漏使用维修资金维修"}
    )
    assert response.status_code == 303
    resolution = Resolution.get(Resolution.meeting == meeting_id)
    with assert_max_queries(12, "meeting page"):
        page = client.get(f"/work/meetings/{meeting_id}").get_data(as_text=True)
    assert "15" in page and "居民代表一致同意" in page and "作为重大事项提交党组织先议先审" in page
    assert "转为小区协商铃事项" not in page  # the party may not raise a bell: not offered
    response = client.post(f"/work/resolutions/{resolution.id}/outcome/raise-major")
    assert response.status_code == 303
    item_id = location_id(response, r"/work/items/(\d+)")
    item_page = client.get(f"/work/items/{item_id}").get_data(as_text=True)
    assert f"/work/meetings/{meeting_id}#resolution-{resolution.id}" in item_page
    assert "十一月红茶议事会" in item_page
    page = client.get(f"/work/meetings/{meeting_id}").get_data(as_text=True)
    assert f'href="/work/items/{item_id}"' in page
    assert client.post(f"/work/resolutions/{resolution.id}/outcome/raise-major").status_code == 409


def test_meeting_pages_refuse_out_of_scope_and_bad_input(client, auth):
    auth.login("lvzhouhuayuan-dzz")
    bad = client.post("/work/meetings/new/tea-meeting", data={**MEETING, "agenda": ""})
    assert bad.status_code == 422 and "field-error" in bad.get_data(as_text=True)
    meeting_id = convene_and_hold(client)
    stale = client.post(
        f"/work/meetings/{meeting_id}/minutes",
        data={"lock": "1", "summary": "再次保存一份纪要内容。", "_submit": "1"},
    )
    assert stale.status_code == 422  # the form showed version 1; the minutes are at 2
    assert Meeting.get_by_id(meeting_id).lock == 2
    auth.logout()
    auth.login("changzhengqiaolu-dzz")
    assert client.get(f"/work/meetings/{meeting_id}").status_code == 404
    assert client.get("/work/meetings/new/tea-meeting?node=lvzhouhuayuan").status_code == 404
    auth.logout()
    auth.login("lvzhouhuayuan-wy")  # sees it, records nothing
    assert client.get(f"/work/meetings/{meeting_id}").status_code == 200
    assert (
        client.post(
            f"/work/meetings/{meeting_id}/resolutions", data={"text": "物业决定"}
        ).status_code
        == 403
    )
    auth.logout()
    auth.login("lvzhou-yezhu1")
    assert client.get("/work/decisions").status_code == 403
    assert client.get(f"/work/meetings/{meeting_id}").status_code == 403


def open_collection(client):
    response = client.post(
        "/work/opinions/new/opinion",
        data={
            "node": "lvzhouhuayuan",
            "title": "非机动车棚改造方案",
            "description": "拟改造2幢旁空地",
        },
    )
    assert response.status_code == 303
    return location_id(response, r"/work/opinions/(\d+)")


def test_residents_answer_and_the_committee_counts_and_raises(client, auth, assert_max_queries):
    auth.login("lvzhouhuayuan-ywh")
    collection_id = open_collection(client)
    auth.logout()
    auth.login("lvzhou-yezhu1")
    home = client.get("/r/").get_data(as_text=True)
    assert f"/r/opinions/{collection_id}" in home and "非机动车棚改造方案" in home
    with assert_max_queries(6, "answer page"):
        assert client.get(f"/r/opinions/{collection_id}").status_code == 200
    refused = client.post(f"/r/opinions/{collection_id}", data={"stance": "反对", "_submit": "1"})
    assert refused.status_code == 422 and "field-error" in refused.get_data(as_text=True)
    done = client.post(
        f"/r/opinions/{collection_id}",
        data={"stance": "反对", "reason": "车棚离窗户太近", "_submit": "1"},
    )
    assert done.status_code == 303
    assert Opinion.get(Opinion.collection == collection_id).data["reason"] == "车棚离窗户太近"
    auth.logout()
    auth.login("changzheng-yezhu1")
    assert f"/r/opinions/{collection_id}" not in client.get("/r/").get_data(as_text=True)
    assert client.get(f"/r/opinions/{collection_id}").status_code == 404
    assert (
        client.post(
            f"/r/opinions/{collection_id}", data={"stance": "赞成", "_submit": "1"}
        ).status_code
        == 404
    )
    auth.logout()
    auth.login("xifang")
    with assert_max_queries(12, "collection page"):
        page = client.get(f"/work/opinions/{collection_id}").get_data(as_text=True)
    assert '<span id="answer-count">1</span>' in page and "车棚离窗户太近" in page
    opinion = Opinion.get(Opinion.collection == collection_id)
    response = client.post(f"/work/opinions/answers/{opinion.id}/item/raise-bell")
    assert response.status_code == 303
    item = Item.get_by_id(location_id(response, r"/work/items/(\d+)"))
    assert item.definition.key == "bell" and "车棚离窗户太近" in item.data["description"]
    assert f"/work/opinions/{collection_id}#opinion-{opinion.id}" in client.get(
        f"/work/items/{item.id}"
    ).get_data(as_text=True)


def test_a_closed_collection_refuses_answers(client, auth):
    auth.login("lvzhouhuayuan-ywh")
    collection_id = open_collection(client)
    past = clock.now() - dt.timedelta(minutes=1)
    OpinionCollection.update(closes_at=past).where(OpinionCollection.id == collection_id).execute()
    auth.logout()
    auth.login("lvzhou-yezhu1")
    page = client.get(f"/r/opinions/{collection_id}")
    assert page.status_code == 200 and 'id="closed"' in page.get_data(as_text=True)
    assert (
        client.post(
            f"/r/opinions/{collection_id}", data={"stance": "赞成", "_submit": "1"}
        ).status_code
        == 409
    )
    assert Opinion.select().count() == 0


def test_the_item_page_shows_the_party_decision(client, auth):
    auth.login("xifang")
    response = client.post(
        "/work/new/major-matter",
        data={
            "node": "lvzhouhuayuan",
            "category": "停车管理方案",
            "summary": "地面停车位重新划分",
            "_submit": "1",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    item = Item.select().order_by(Item.id.desc()).first()
    assert client.post(f"/work/items/{item.id}/t/submit", data={"version": "1"}).status_code in (
        303,
        204,
    )
    page = client.get(f"/work/items/{item.id}").get_data(as_text=True)
    assert "/t/agree" not in page  # the commissioner cannot pass the gate
    auth.logout()
    auth.login("lvzhouhuayuan-dzz")
    response = client.post(
        f"/work/items/{item.id}/t/agree",
        data={"version": "2", "reasons": "支委会审议同意提交业主协商", "_submit": "1"},
    )
    assert response.status_code in (303, 204)
    page = client.get(f"/work/items/{item.id}").get_data(as_text=True)
    assert 'id="gate-decisions"' in page and "支委会审议同意提交业主协商" in page
    assert (
        Event.select().where((Event.item == item.id) & (Event.action == "gate.decide")).count() == 1
    )


@pytest.mark.parametrize(("kind", "key"), [("meeting", "louyi"), ("opinion", "zhengji")])
def test_designer_round_trip(client, auth, kind, key):
    from tests.web.test_web_designer import form_values

    auth.login("admin")
    response = client.post(
        "/admin/designer/new",
        data={
            "kind": kind,
            "name": "楼道议事" if kind == "meeting" else "楼道征集",
            "key": key,
            "raise_roles": "committee",
            "node_kinds": "compound",
        },
    )
    assert response.status_code == 303
    assert client.get("/admin/designer/").status_code == 200
    response = client.post(
        f"/admin/designer/{key}/form/add",
        data={"label": "参会楼栋", "name": "buildings", "kind": "text"},
    )
    assert response.status_code == 303
    draft = Definition.get(Definition.key == key).draft
    assert "buildings" in draft["schema"]["properties"]
    # The JSON view: add an outcome, save; the builder's own save keeps it.
    body = dict(draft)
    body["outcomes"] = [
        {
            "key": "raise",
            "kind": "item",
            "label": "转为事项",
            "type": "bell",
            "data": {"category": "其他"},
        }
    ]
    assert (
        client.post(
            f"/admin/designer/{key}/json", data={"body": json.dumps(body, ensure_ascii=False)}
        ).status_code
        == 303
    )
    field = client.get(f"/admin/designer/{key}/form/field/buildings").get_data(as_text=True)
    assert (
        client.post(
            f"/admin/designer/{key}/form/field/buildings", data=form_values(field)
        ).status_code
        == 303
    )
    assert Definition.get(Definition.key == key).draft == body
    assert client.post(f"/admin/designer/{key}/publish").status_code == 303
    definition = Definition.get(Definition.key == key)
    assert definition.current == 1 and definition.kind == kind
    # A mistake is refused at publishing with its path.
    body["outcomes"][0].pop("type")
    client.post(f"/admin/designer/{key}/json", data={"body": json.dumps(body, ensure_ascii=False)})
    refused = client.post(f"/admin/designer/{key}/publish")
    assert refused.status_code == 422 and "/outcomes/0" in refused.get_data(as_text=True)
    # The exported pack carries it in its own folder.
    import io
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(client.get("/admin/designer/packs/gongshu.zip").data))
    assert any(n.endswith(f"{kind}s/{key}.json") for n in archive.namelist())


def test_the_workflow_editor_keeps_and_sets_gates(client, auth):
    from engine.authoring import designer
    from tests.web.test_web_designer import form_values

    auth.login("admin")
    before = designer.draft_of(Definition.get(Definition.key == "major-matter"))
    workflow = before["workflow"]
    panels = [f"state/{state}" for state in workflow["states"]]
    panels += [f"transition/{i}" for i in range(len(workflow["transitions"]))]
    for panel in panels:  # each state's and transition's panel saved unchanged
        path = f"/admin/designer/major-matter/workflow/{panel}"
        values = form_values(client.get(path).get_data(as_text=True))
        assert client.post(path, data=values).status_code == 303, panel
    assert designer.draft_of(Definition.get(Definition.key == "major-matter")) == before
    # A gate set in the editor: the state's exits must then record decisions with reasons.
    panel = "/admin/designer/bell/workflow/state/liaising"
    values = form_values(client.get(panel).get_data(as_text=True))
    values["state-0-gate"] = "party"
    assert client.post(panel, data=values).status_code == 303
    draft = designer.draft_of(Definition.get(Definition.key == "bell"))
    assert draft["workflow"]["states"]["liaising"]["gate"] == {"roles": ["party"]}
    refused = client.post("/admin/designer/bell/publish")
    assert refused.status_code == 422
    assert "从议定关口出发，必须记录决定" in refused.get_data(as_text=True)


def test_minutes_photos_are_seen_by_who_sees_the_meeting(client, auth):
    import io

    from engine.store.models import Attachment

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
    auth.login("lvzhouhuayuan-dzz")
    response = client.post("/work/meetings/new/tea-meeting", data=MEETING)
    meeting_id = location_id(response, r"/work/meetings/(\d+)")
    response = client.post(
        f"/work/meetings/{meeting_id}/minutes",
        data={
            "lock": "1",
            "summary": "居民代表一致同意先行维修3幢外墙。",
            "photos": (io.BytesIO(png), "meeting.png", "image/png"),
            "_submit": "1",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    photo = Attachment.get(Attachment.record == f"meeting:{meeting_id}")
    assert Meeting.get_by_id(meeting_id).minutes["photos"] == [photo.public_id]
    auth.logout()
    for username, status in (
        ("lvzhouhuayuan-wy", 200),
        ("chaohui-ducha", 200),
        ("changzhengqiaolu-dzz", 404),
        ("lvzhou-yezhu1", 404),
    ):
        auth.login(username)
        assert client.get(f"/files/{photo.public_id}").status_code == status, username
        auth.logout()


def test_a_resolution_puts_the_matter_to_the_owners_vote_linked_both_ways(client, auth):
    """The ``poll`` outcome: the committee takes it, a vote of the pack's owners' decision
    opens on the resolution's words at the compound, each page links to the other."""
    from engine.store.polls import Poll
    from tests.polls_support import make_households, units_of

    make_households(units_of(6))
    auth.login("lvzhouhuayuan-ywh")
    meeting_id = convene_and_hold(client)
    client.post(
        f"/work/meetings/{meeting_id}/resolutions", data={"text": "加装电梯方案提交业主表决"}
    )
    resolution = Resolution.get(Resolution.meeting == meeting_id)
    page = client.get(f"/work/meetings/{meeting_id}").get_data(as_text=True)
    assert "提交业主表决" in page
    response = client.post(f"/work/resolutions/{resolution.id}/outcome/owners-vote")
    assert response.status_code == 303
    poll = Poll.get(Poll.source == f"resolution:{resolution.id}")
    assert poll.title == "加装电梯方案提交业主表决" and poll.node.key == "lvzhouhuayuan"
    assert Resolution.get_by_id(resolution.id).target == f"poll:{poll.id}"
    page = client.get(f"/work/meetings/{meeting_id}").get_data(as_text=True)
    assert f'href="/polls/{poll.id}"' in page
    poll_page = client.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert f"/work/meetings/{meeting_id}#resolution-{resolution.id}" in poll_page
    assert client.post(f"/work/resolutions/{resolution.id}/outcome/owners-vote").status_code == 409


def test_the_vote_outcome_is_offered_only_to_who_may_open_votes(client, auth):
    """A property company may record a meeting's minutes but not open a vote: no button."""
    from engine.decisions import outcomes
    from engine.org.actors import actor_for
    from engine.store.models import OrgNode, User

    node = OrgNode.get(OrgNode.key == "lvzhouhuayuan")
    spec = [{"key": "v", "kind": "poll", "label": "表决", "definition": "owners-decision"}]
    property_co = actor_for(User.get(User.username == "lvzhouhuayuan-wy"))
    committee = actor_for(User.get(User.username == "lvzhouhuayuan-ywh"))
    assert outcomes.offered(property_co, spec, node) == []
    assert outcomes.offered(committee, spec, node) == spec
    missing = [{**spec[0], "definition": "no-such-vote"}]
    assert outcomes.offered(committee, missing, node) == []


def test_the_decisions_page_pages_its_meetings(client, auth, assert_max_queries):
    """Every meeting stays reachable: 50 a page, newest first, older and newer links."""
    auth.login("lvzhouhuayuan-dzz")
    first = Meeting.get_by_id(convene_and_hold(client))
    base = {f: getattr(first, f) for f in ("definition", "version", "node", "node_path")}
    start = dt.datetime(2020, 1, 1, 19, 0)
    Meeting.insert_many(
        [
            {**base, "title": f"第{i}次测试会议", "held_at": start + dt.timedelta(days=i)}
            | {"created_at": start, "state": "planned"}
            for i in range(60)
        ]
    ).execute()
    with assert_max_queries(12):
        page = client.get("/work/decisions").get_data(as_text=True)
    assert first.title in page and "第59次测试会议" in page
    assert "第9次测试会议" not in page  # the 52nd newest: on page 2
    assert "/work/decisions?page=2&amp;cpage=1#meetings" in page
    older = client.get("/work/decisions?page=2").get_data(as_text=True)
    assert "第9次测试会议" in older and "第0次测试会议" in older
    assert "第59次测试会议" not in older and first.title not in older
    assert "/work/decisions?page=1&amp;cpage=1#meetings" in older
    assert "page=3" not in older
    assert client.get("/work/decisions?page=0").status_code == 422

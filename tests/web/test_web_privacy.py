"""Personal data and anonymous items (issue 9, High 2 and finding 3): who sees the raiser
and personal answers — pages, API, timelines, webhooks — and the audited "show"."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.accounts.users import upsert_user
from engine.definitions.definitions import runtime
from engine.store.models import Event, Item, OutboxMessage, WebhookEndpoint
from engine.trail import privacy
from engine.workflow import items, kernel
from tests.conftest import NOW

PHONE = "13812345678"
NAME = "何琳"  # lvzhou-yezhu1
BELL = {
    "category": "违章搭建",
    "summary": "楼顶违章搭建阳光房",
    "building": "3幢",
    "contact_phone": PHONE,
}
THREE_PARTIES = ["lvzhouhuayuan-dzz", "lvzhouhuayuan-ywh", "lvzhouhuayuan-wy"]
OTHERS = [*THREE_PARTIES, "chaohui-ducha", "ducha", "admin"]


@pytest.fixture
def bell(app, actor_of):
    def make(anonymous: bool) -> Item:
        return items.raise_item(
            actor_of("lvzhou-yezhu1"),
            "bell",
            "lvzhouhuayuan",
            {**BELL, "anonymous": anonymous},
            now=NOW,
        )

    return make


def summon_zhifa(actor_of, item: Item) -> None:
    """Accept and blow the whistle so that a department is summoned too."""
    xifang = actor_of("xifang")
    items.transition(xifang, item.id, "accept", {}, expected=None, now=NOW)
    items.transition(
        xifang,
        item.id,
        "whistle",
        {"category": "违章搭建", "note": "请执法部门到场处置"},
        expected=None,
        now=NOW + dt.timedelta(minutes=5),
    )


def page(client, auth, username: str, path: str) -> str:
    auth.login(username)
    response = client.get(path)
    assert response.status_code == 200, (username, path, response.status_code)
    text = response.get_data(as_text=True)
    auth.logout()
    return text


def test_mask_keeps_only_enough_to_recognise():
    assert privacy.mask(PHONE, "phone") == "138****5678"
    assert privacy.mask("何琳") == "何*"
    assert privacy.mask("欧阳娜娜") == "欧**娜"
    assert privacy.mask("") == "" and privacy.mask(None) is None


@pytest.mark.parametrize("username", OTHERS)
def test_an_anonymous_bell_shows_nobody_but_the_commissioner_who_raised_it(
    client, auth, bell, username
):
    item = bell(anonymous=True)
    text = page(client, auth, username, f"/work/items/{item.id}")
    assert (
        PHONE not in text and "138****5678" not in text and NAME not in text and "何*" not in text
    )
    assert "匿名" in text
    assert "楼顶违章搭建阳光房" in text  # the matter itself is not withheld


def test_an_anonymous_bell_shows_the_commissioner_the_raiser_masked_with_an_audited_show(
    client, auth, bell
):
    item = bell(anonymous=True)
    text = page(client, auth, "xifang", f"/work/items/{item.id}")
    assert "138****5678" in text and PHONE not in text and "何*" in text
    auth.login("xifang")
    shown = client.post(f"/work/items/{item.id}/personal", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert PHONE in shown
    reveal = Event.get((Event.action == "item.reveal") & (Event.item == item.id))
    assert reveal.actor.username == "xifang" and reveal.after == {"fields": ["contact_phone"]}


def test_the_raiser_sees_their_own_item_whole(client, auth, bell):
    item = bell(anonymous=True)
    text = page(client, auth, "lvzhou-yezhu1", f"/r/items/{item.id}")
    assert PHONE in text


@pytest.mark.parametrize("username", OTHERS)
def test_a_named_bell_is_masked_for_those_who_do_not_need_it_and_they_cannot_show_it(
    client, auth, bell, username
):
    item = bell(anonymous=False)
    text = page(client, auth, username, f"/work/items/{item.id}")
    assert PHONE not in text and NAME not in text
    assert "138****5678" in text and "何*" in text
    auth.login(username)
    assert client.post(f"/work/items/{item.id}/personal").status_code == 403
    assert not Event.select().where(Event.action == "item.reveal").exists()


def test_a_repair_shows_the_property_company_a_show_action(client, auth, actor_of):
    item = items.raise_item(
        actor_of("lvzhou-yezhu1"),
        "repair",
        "lvzhouhuayuan",
        {
            "category": "水电",
            "location": "3幢2单元",
            "description": "楼道灯不亮",
            "contact_phone": PHONE,
        },
        now=NOW,
    )
    text = page(client, auth, "lvzhouhuayuan-wy", f"/work/items/{item.id}")
    assert "138****5678" in text and PHONE not in text and "/personal" in text
    auth.login("lvzhouhuayuan-wy")
    assert PHONE in client.post(f"/work/items/{item.id}/personal").get_data(as_text=True)


def test_a_summoned_department_sees_an_anonymous_bell_without_its_raiser(
    client, auth, bell, actor_of
):
    item = bell(anonymous=True)
    summon_zhifa(actor_of, item)
    text = page(client, auth, "dept-zhifa-user", f"/work/items/{item.id}")
    assert PHONE not in text and NAME not in text and "138****" not in text


@pytest.mark.parametrize("username", ["lvzhouhuayuan-wy", "chaohui-ducha", "dept-zhifa-user"])
def test_the_api_withholds_an_anonymous_raiser_and_phone(
    client, bell, actor_of, token_for, username
):
    item = bell(anonymous=True)
    summon_zhifa(actor_of, item)
    headers = token_for(username)
    found = client.get(f"/api/v1/items/{item.id}", headers=headers).get_json()
    assert found["raised_by"] is None and "contact_phone" not in found["data"]
    assert found["personal"] == "withheld" and not found["may_reveal"]
    listed = client.get("/api/v1/items?node=lvzhouhuayuan", headers=headers).get_data(as_text=True)
    assert PHONE not in listed and "lvzhou-yezhu1" not in listed
    timeline = client.get(f"/api/v1/items/{item.id}/timeline", headers=headers).get_data(
        as_text=True
    )
    assert PHONE not in timeline and "lvzhou-yezhu1" not in timeline and NAME not in timeline
    assert client.post(f"/api/v1/items/{item.id}/personal", headers=headers).status_code == 403


def test_the_api_masks_a_named_item_and_the_commissioner_may_reveal(client, bell, token_for):
    item = bell(anonymous=False)
    found = client.get(f"/api/v1/items/{item.id}", headers=token_for("lvzhouhuayuan-wy")).get_json()
    assert found["data"]["contact_phone"] == "138****5678" and found["personal"] == "masked"
    commissioner = token_for("xifang")
    assert client.get(f"/api/v1/items/{item.id}", headers=commissioner).get_json()["may_reveal"]
    whole = client.post(f"/api/v1/items/{item.id}/personal", headers=commissioner).get_json()
    assert whole["data"]["contact_phone"] == PHONE and whole["raised_by"] == "lvzhou-yezhu1"
    own = client.get(f"/api/v1/items/{item.id}", headers=token_for("lvzhou-yezhu1")).get_json()
    assert own["data"]["contact_phone"] == PHONE and own["personal"] == "whole"


def test_routing_inputs_on_the_timeline_are_masked():
    rt_view = privacy.Sight()
    kinds = {"contact_phone": "phone"}
    detail = {"inputs": {"data.contact_phone": PHONE, "data.category": "违章搭建"}}
    shown = privacy.shown_event_part(detail, kinds, rt_view)
    assert shown["inputs"] == {"data.contact_phone": "138****5678", "data.category": "违章搭建"}
    withheld = privacy.shown_event_part(detail, kinds, privacy.WITHHELD)
    assert withheld["inputs"] == {"data.category": "违章搭建"}
    assert privacy.shown_event_part({"data.contact_phone": PHONE}, kinds, privacy.WITHHELD) == {}


def test_the_resident_timeline_leaves_out_urges_and_supervisors_names(client, auth, bell, actor_of):
    from engine.supervision import actions as supervision

    item = bell(anonymous=False)
    items.transition(actor_of("xifang"), item.id, "accept", {}, expected=None, now=NOW)
    supervision.urge_item(actor_of("chaohui-ducha"), item.id, "请尽快处理,今天下班前回复", now=NOW)
    text = page(client, auth, "lvzhou-yezhu1", f"/r/items/{item.id}")
    supervisor = actor_of("chaohui-ducha").user.name
    assert "今天下班前回复" not in text and supervisor not in text
    assert "小区专员" in text  # who accepted it, by role
    staff = page(client, auth, "xifang", f"/work/items/{item.id}")
    assert "今天下班前回复" in staff


def test_a_title_may_not_read_a_personal_answer(app):
    from engine.authoring.designer import draft_of
    from engine.definitions.checks import definition_problems
    from engine.definitions.definitions import known_roles, known_units
    from engine.store.models import Definition

    body = draft_of(Definition.get(Definition.key == "bell"))
    bad = {**body, "title": {"var": "data.contact_phone"}}
    found = definition_problems(bad, roles=known_roles(), units=known_units())
    assert [p.path for p in found] == ["/title"]


def test_a_title_without_a_rule_never_falls_back_to_a_personal_answer(app, actor_of):
    item = items.raise_item(
        actor_of("lvzhou-yezhu1"),
        "repair",
        "lvzhouhuayuan",
        {
            "category": "水电",
            "location": "3幢2单元",
            "description": "楼道灯不亮",
            "contact_phone": PHONE,
        },
        now=NOW,
    )
    rt = runtime(item.version_id)
    body = {k: v for k, v in rt.body.items() if k != "title"}
    props = body["schema"]["properties"]
    ordered = {"contact_phone": props["contact_phone"], **props}
    fake = type(rt)(
        rt.key, rt.number, {**body, "schema": {**body["schema"], "properties": ordered}}, rt.tables
    )
    assert kernel.title(fake, {}, {"contact_phone": PHONE, "location": "3幢2单元"}) == "3幢2单元"


# -- webhooks ------------------------------------------------------------------------


@pytest.fixture
def street_admin(app):
    """xiaohe-admin: an admin of 小河街道 only (绿洲花园 lies in 朝晖街道)."""
    return upsert_user(
        "xiaohe-admin", "小河管理员", "demo1234", [{"role": "admin", "node": "xiaohe"}], now=NOW
    )


def test_a_street_admin_subscribes_to_their_street_only(client, auth, street_admin, bell, actor_of):
    district = WebhookEndpoint.create(
        key="district-im", url="http://127.0.0.1:9/hook", events=["*"], secret="s"
    )
    auth.login("xiaohe-admin")
    assert (
        client.post(
            "/admin/webhooks/new",
            data={
                "key": "grab-all",
                "url": "https://evil.example/hook",
                "events": "*",
                "secret": "x",
                "active": "y",
                "scope": "",
            },
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/admin/webhooks/new",
            data={
                "key": "grab-chaohui",
                "url": "https://evil.example/hook",
                "events": "*",
                "secret": "x",
                "active": "y",
                "scope": "chaohui",
            },
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/admin/webhooks/new",
            data={
                "key": "xiaohe-personal",
                "url": "https://im.example/hook",
                "events": "*",
                "secret": "x",
                "active": "y",
                "scope": "xiaohe",
                "personal": "y",
            },
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/admin/webhooks/new",
            data={
                "key": "xiaohe-im",
                "url": "https://im.example/hook",
                "events": "*",
                "secret": "x",
                "active": "y",
                "scope": "xiaohe",
            },
        ).status_code
        == 303
    )
    mine = WebhookEndpoint.get(WebhookEndpoint.key == "xiaohe-im")
    assert mine.scope_path.endswith(f"/{mine.scope_id}/") and not mine.personal

    bell(anonymous=False)  # in 朝晖街道: not the street admin's business
    assert mine.deliveries.count() == 0
    assert district.deliveries.count() > 0 and OutboxMessage.select().count() > 0

    listing = client.get("/admin/webhooks").get_data(as_text=True)
    assert "xiaohe-im" in listing and "district-im" not in listing
    for path in (
        "/admin/webhooks/district-im",
        "/admin/webhooks/district-im/edit",
        f"/admin/deliveries/{district.deliveries.first().id}",
    ):
        assert client.get(path).status_code == 404, path
    assert (
        client.post("/admin/webhooks/district-im/active", data={"active": "0"}).status_code == 404
    )
    assert (
        client.post(f"/admin/deliveries/{district.deliveries.first().id}/retry").status_code == 404
    )
    assert WebhookEndpoint.get_by_id(district.id).active


def test_a_street_endpoint_hears_of_its_own_street(app, street_admin, actor_of):
    hook = WebhookEndpoint.create(
        key="xiaohe-im",
        url="http://127.0.0.1:9/hook",
        events=["item.raised"],
        secret="s",
        scope=None,
    )
    from engine.store.models import OrgNode

    xiaohe = OrgNode.get(OrgNode.key == "xiaohe")
    WebhookEndpoint.update(scope=xiaohe, scope_path=xiaohe.path).where(
        WebhookEndpoint.id == hook.id
    ).execute()
    items.raise_item(actor_of("xifang"), "bell", "lvzhouhuayuan", BELL, now=NOW)
    assert hook.deliveries.count() == 0
    items.raise_item(actor_of("changzheng-yezhu1"), "bell", "changzhengqiaolu", BELL, now=NOW)
    assert hook.deliveries.count() == 1


@pytest.mark.parametrize("personal", [False, True])
def test_payloads_carry_personal_data_only_when_allowed_and_never_for_anonymous_items(
    app, bell, actor_of, personal
):
    hook = WebhookEndpoint.create(
        key="im", url="http://127.0.0.1:9/hook", events=["*"], secret="s", personal=personal
    )
    bell(anonymous=False)
    named = [str(d.message.payload) for d in hook.deliveries]
    assert any(PHONE in p and NAME in p for p in named) == personal
    assert any(PHONE in p or NAME in p for p in named) == personal
    hook.deliveries.model.delete().execute()
    bell(anonymous=True)
    anonymous = [str(d.message.payload) for d in hook.deliveries]
    assert anonymous and not any(PHONE in p or NAME in p for p in anonymous)
    raised = next(d.message.payload for d in hook.deliveries if d.message.event == "item.raised")
    assert raised["actor"] is None


def test_the_sweeps_payloads_are_scoped_and_masked(app, bell, actor_of):
    """The batch sweep forwards through the same fan-out as a click."""
    from engine.workflow.escalation import sweep

    hook = WebhookEndpoint.create(key="im", url="http://127.0.0.1:9/hook", events=["*"], secret="s")
    item = bell(anonymous=True)
    sweep(now=NOW + dt.timedelta(days=10))
    payloads = [str(d.message.payload) for d in hook.deliveries]
    assert len(payloads) > 1 and not any(PHONE in p or NAME in p for p in payloads)
    assert item.id

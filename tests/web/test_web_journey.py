"""The whole bell journey through the HTML pages, as the people involved click it."""

from __future__ import annotations

import re

from engine.store.models import Assignment, Event, Item, User

HX = {"HX-Request": "true"}


def ring_bell(client, auth, **answers):
    auth.login("lvzhou-yezhu1")
    data = {
        "category": "停车秩序",
        "summary": "小区东门消防通道被私家车占用",
        "plate_number": "浙A12345",
        **answers,
    }
    response = client.post("/r/new/bell", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    item_id = int(re.search(r"/r/items/(\d+)", response.headers["Location"]).group(1))
    auth.logout()
    return item_id


def test_bell_form_is_generated_and_refreshes_conditional_fields(client, auth):
    auth.login("lvzhou-yezhu1")
    page = client.get("/r/new/bell").get_data(as_text=True)
    assert 'name="category"' in page and 'name="summary"' in page
    assert 'name="plate_number"' not in page  # only for 停车秩序

    parking = client.post("/r/new/bell", data={"category": "停车秩序", "_refresh": "1"}, headers=HX)
    assert parking.status_code == 200
    fragment = parking.get_data(as_text=True)
    assert 'id="raise-fields"' in fragment and "<html" not in fragment
    assert 'name="plate_number"' in fragment and 'name="building"' not in fragment

    building = client.post(
        "/r/new/bell", data={"category": "违章搭建", "_refresh": "1"}, headers=HX
    )
    fragment = building.get_data(as_text=True)
    assert 'name="building"' in fragment and 'name="plate_number"' not in fragment


def test_invalid_answers_are_shown_inline_and_nothing_is_saved(client, auth):
    auth.login("lvzhou-yezhu1")
    before = Item.select().count()
    response = client.post("/r/new/bell", data={"category": "不存在的类别", "summary": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count('class="field-error"') >= 2
    assert Item.select().count() == before


def test_server_drops_answers_of_hidden_fields(client, auth):
    item_id = ring_bell(client, auth, category="环境卫生", plate_number="浙A99999")
    assert "plate_number" not in Item.get_by_id(item_id).data


def test_closed_loop_from_bell_to_rating(client, auth):
    item_id = ring_bell(client, auth)
    item = Item.get_by_id(item_id)
    assert item.state == "collected" and item.version.number == 1

    # The commissioner sees it in the inbox, accepts it: the three parties are summoned.
    auth.login("xifang")
    inbox = client.get("/work/").get_data(as_text=True)
    assert "小区东门消防通道被私家车占用" in inbox
    detail = client.get(f"/work/items/{item_id}").get_data(as_text=True)
    assert "受理并召集三方" in detail
    assert client.post(f"/work/items/{item_id}/t/accept", data={"version": "1"}).status_code == 303
    roles = {a.role for a in Assignment.select().where(Assignment.item == item_id)}
    assert roles == {"party", "committee", "property"}

    # The whistle: the transition's own form, then 违章搭建 summons 综合行政执法局.
    form = client.get(f"/work/items/{item_id}/t/whistle", headers=HX).get_data(as_text=True)
    assert 'name="category"' in form and "<html" not in form
    response = client.post(
        f"/work/items/{item_id}/t/whistle",
        data={"version": "2", "category": "违章搭建", "note": "东门违建车棚"},
    )
    assert response.status_code == 303
    units = {a.unit.key for a in Assignment.select().where(Assignment.item == item_id)}
    assert "dept-zhifa" in units

    # Resolving is refused while summoned units have not finished.
    refused = client.post(
        f"/work/items/{item_id}/t/resolve", data={"version": "3", "resolution": "已处理"}
    )
    assert refused.status_code in (403, 422)
    assert Item.get_by_id(item_id).state == "handling"
    auth.logout()

    # Every summoned unit reports in and replies.
    for assignment in list(Assignment.select().where(Assignment.item == item_id)):
        username = {
            "department": f"{assignment.unit.key}-user",
            "party": "lvzhouhuayuan-dzz",
            "committee": "lvzhouhuayuan-ywh",
            "property": "lvzhouhuayuan-wy",
        }[assignment.role]
        auth.login(username)
        assert str(item_id) in client.get("/work/").get_data(as_text=True)
        assert client.post(f"/work/summons/{assignment.id}/report_in").status_code == 303
        assert (
            client.post(
                f"/work/summons/{assignment.id}/complete", data={"reply": f"{username} 已到场处理"}
            ).status_code
            == 303
        )
        auth.logout()
    assert not Assignment.select().where((Assignment.item == item_id) & Assignment.open).exists()

    auth.login("xifang")
    lock = Item.get_by_id(item_id).lock
    response = client.post(
        f"/work/items/{item_id}/t/resolve",
        data={"version": str(lock), "resolution": "违建已拆除,车辆已挪走"},
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:1500]
    item = Item.get_by_id(item_id)
    assert item.state == "resolved" and item.resolution_seconds is not None
    auth.logout()

    # A low rating reopens it; a good one closes it.
    auth.login("lvzhou-yezhu1")
    page = client.get(f"/r/items/{item_id}").get_data(as_text=True)
    assert "评价" in page
    response = client.post(
        f"/r/items/{item_id}/t/rate",
        data={"version": str(item.lock), "satisfaction": "2", "comment": "车还在"},
    )
    assert response.status_code == 303
    item = Item.get_by_id(item_id)
    assert item.state == "handling" and item.satisfaction == 2 and item.resolved_at is None
    auth.logout()

    timeline = client.get(f"/r/items/{item_id}")  # logged out → login page
    assert timeline.status_code == 302
    actions = [e.action for e in Event.select().where(Event.item == item_id).order_by(Event.id)]
    assert actions[0] == "item.raise"
    for expected in (
        "transition.accept",
        "route",
        "transition.whistle",
        "summons.report_in",
        "summons.complete",
        "transition.resolve",
        "transition.rate",
        "item.set",
    ):
        assert expected in actions
    raiser = User.get(User.username == "lvzhou-yezhu1")
    assert Event.select().where((Event.item == item_id) & (Event.actor == raiser)).count() >= 2


def test_timeline_explains_routing(client, auth):
    item_id = ring_bell(client, auth)
    auth.login("xifang")
    client.post(f"/work/items/{item_id}/t/accept", data={"version": "1"})
    client.post(
        f"/work/items/{item_id}/t/whistle",
        data={"version": "2", "category": "消防通道", "note": "3幢楼道被电瓶车堵塞"},
    )
    page = client.get(f"/work/items/{item_id}").get_data(as_text=True)
    # The trace names the rule and reads its condition from the labels (no keys, no ISO times).
    assert "消防通道→消防大队" in page and "区消防大队" in page
    assert "✔ 消防通道→消防大队: 吹哨事项类别 等于 消防通道: 成立" in page
    assert "fire-lane" not in page and "form.category" not in page
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", page)
    routes = Event.select().where((Event.item == item_id) & (Event.action == "route"))
    route = next(e for e in routes if e.detail["table"] == "whistle")
    assert route.detail["version"] == 1 and route.detail["inputs"]["form.category"] == "消防通道"
    assert "fire-lane" in route.detail["fired"]


def test_stale_version_is_a_conflict(client, auth):
    item_id = ring_bell(client, auth)
    auth.login("xifang")
    assert client.post(f"/work/items/{item_id}/t/accept", data={"version": "1"}).status_code == 303
    again = client.post(f"/work/items/{item_id}/t/start", data={"version": "1"})
    assert again.status_code == 409
    assert Item.get_by_id(item_id).state == "liaising"


def test_user_text_is_escaped(client, auth):
    item_id = ring_bell(client, auth, summary="<script>alert(1)</script>")
    auth.login("xifang")
    page = client.get(f"/work/items/{item_id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

"""Listings over HTTP: neighbours post, take up, confirm and rate; needs matched with resources."""

from __future__ import annotations

import pytest

from engine.store.resident_tables import Listing
from engine.store.tables import ChecklistRow
from tests.web.test_web_accounts import ENGLISH, visible_text

HELP = {
    "category": "代买代取",
    "summary": "周六上午帮忙去药店取药",
    "place": "3幢2单元",
    "_submit": "1",
}


def test_post_take_confirm_and_rate_a_help_request(client, auth, assert_max_queries):
    auth.login("lvzhou-yezhu1")
    page = client.get("/r/help").get_data(as_text=True)
    assert "/r/help/new/neighbour-help/request" in page and "需求清单" not in page
    form = client.get("/r/help/new/neighbour-help/request")
    assert form.status_code == 200 and "一句话说明" in form.get_data(as_text=True)
    refused = client.post(
        "/r/help/new/neighbour-help/request", data={"category": "代买代取", "_submit": "1"}
    )
    assert refused.status_code == 422 and Listing.select().count() == 0
    response = client.post("/r/help/new/neighbour-help/request", data=HELP)
    assert response.status_code == 303
    posted = Listing.get()
    assert response.headers["Location"].endswith(f"/r/help/{posted.id}")
    auth.logout()

    auth.login("lvzhou-yezhu2")
    with assert_max_queries(14):
        board = client.get("/r/help").get_data(as_text=True)
    assert f"/r/help/{posted.id}" in board
    page = client.get(f"/r/help/{posted.id}").get_data(as_text=True)
    assert "我来帮忙" in page
    text = visible_text(page)
    assert not ENGLISH.findall(text), ENGLISH.findall(text)
    assert client.post(f"/r/help/{posted.id}/take").status_code == 303
    assert Listing.get_by_id(posted.id).state == "taken"
    client.post(f"/r/help/{posted.id}/confirm")
    auth.logout()

    auth.login("lvzhou-yezhu1")
    page = client.get(f"/r/help/{posted.id}").get_data(as_text=True)
    assert "已接单" in page and "曹勇" in page  # the poster sees who helped
    client.post(f"/r/help/{posted.id}/confirm")
    assert Listing.get_by_id(posted.id).state == "done"
    assert client.post(f"/r/help/{posted.id}/rate", data={"stars": "5"}).status_code == 303
    assert Listing.get_by_id(posted.id).poster_rating == 5


@pytest.mark.parametrize("username", ["changzheng-yezhu1", "dept-zhifa-user"])
def test_another_compound_never_sees_the_listing(client, auth, username):
    auth.login("lvzhou-yezhu1")
    client.post("/r/help/new/neighbour-help/offer", data=HELP)
    posted = Listing.get()
    auth.logout()
    auth.login(username)
    assert client.get(f"/r/help/{posted.id}").status_code in (403, 404)
    assert client.post(f"/r/help/{posted.id}/take").status_code in (403, 404)
    assert Listing.get_by_id(posted.id).state == "open"
    if username == "changzheng-yezhu1":
        assert f"/r/help/{posted.id}" not in client.get("/r/help").get_data(as_text=True)


def test_a_need_and_a_resource_matched_become_a_project(client, auth):
    auth.login("xifang")
    response = client.post(
        "/work/cobuild/new/co-building/need?node=lvzhouhuayuan",
        data={"category": "助老助残", "summary": "独居老人每周助餐送餐", "_submit": "1"},
    )
    assert response.status_code == 303
    auth.logout()
    auth.login("shijia-gongjian")
    assert client.get("/").headers["Location"].endswith("/work/cobuild")
    page = client.get("/work/cobuild").get_data(as_text=True)
    assert "提供资源" in page and "确认配对" not in page
    client.post(
        "/work/cobuild/new/co-building/resource?node=shijiahuayuan",
        data={
            "category": "助老助残",
            "summary": "爱心食堂送餐志愿服务",
            "provider": "共建单位",
            "_submit": "1",
        },
    )
    assert client.post("/work/cobuild/match", data={"need": 1, "resource": 2}).status_code == 403
    auth.logout()
    auth.login("xifang")
    need = Listing.get(Listing.side == "need")
    resource = Listing.get(Listing.side == "resource")
    page = client.get("/work/cobuild").get_data(as_text=True)
    assert "确认配对" in page and "爱心食堂送餐志愿服务" in page
    response = client.post("/work/cobuild/match", data={"need": need.id, "resource": resource.id})
    assert response.status_code == 303
    need = Listing.get_by_id(need.id)
    assert need.state == "matched" and ChecklistRow.get_by_id(need.project).node_id == need.node_id


def test_the_cobuild_page_reads_a_fixed_number_of_queries(client, auth, assert_max_queries):
    auth.login("xifang")
    for summary in ("独居老人每周助餐送餐", "楼道堆物集中清理志愿者", "业委会换届选举法律咨询"):
        client.post(
            "/work/cobuild/new/co-building/need?node=lvzhouhuayuan",
            data={"category": "助老助残", "summary": summary, "_submit": "1"},
        )
    assert Listing.select().count() == 3
    with assert_max_queries(14):
        page = client.get("/work/cobuild").get_data(as_text=True)
    assert page.count("绿洲花园") >= 3


def test_a_partner_sees_and_withdraws_its_own_open_resource(client, auth):
    """The poster's own open listing page offers 撤回 on /work/cobuild too (it was a 500: the
    page asked for a withdraw route only /r/help had)."""
    auth.login("shijia-gongjian")
    response = client.post(
        "/work/cobuild/new/co-building/resource?node=shijiahuayuan",
        data={"category": "法律咨询", "summary": "律师每月一次上门咨询", "_submit": "1"},
    )
    assert response.status_code == 303
    posted = Listing.get(Listing.side == "resource")
    page = client.get(f"/work/cobuild/{posted.id}")
    assert page.status_code == 200
    assert f"/work/cobuild/{posted.id}/withdraw" in page.get_data(as_text=True)
    done = client.post(f"/work/cobuild/{posted.id}/withdraw")
    assert done.status_code == 303 and done.headers["Location"].endswith(
        f"/work/cobuild/{posted.id}"
    )
    assert Listing.get_by_id(posted.id).state == "withdrawn"
    auth.logout()
    auth.login("xifang")  # not the poster: no such button, and the route refuses
    other = client.post(
        "/work/cobuild/new/co-building/need?node=lvzhouhuayuan",
        data={"category": "助老助残", "summary": "独居老人每周助餐送餐", "_submit": "1"},
    )
    need = Listing.get(Listing.side == "need")
    assert other.status_code == 303
    auth.logout()
    auth.login("shijia-gongjian")
    client.post(f"/work/cobuild/{need.id}/withdraw")
    assert Listing.get_by_id(need.id).state == "open"


def test_the_post_form_offers_the_places_under_the_posters_grants(client, auth):
    """The places a side may be posted at are read from the grants that may post it: a
    commissioner's own compound, a street's nodes for its supervisor, both streets' for
    the district's (not the district's first thousand by name, sifted)."""
    import re

    from engine.store.models import OrgNode

    def offered(user: str) -> list[str]:
        auth.login(user)
        page = client.get("/work/cobuild").get_data(as_text=True)
        auth.logout()
        select = re.search(r'<select name="node">(.*?)</select>', page, re.DOTALL)
        return re.findall(r'<option value="([^"]*)"', select.group(1)) if select else []

    assert offered("xifang") == ["lvzhouhuayuan"]
    street = OrgNode.get(OrgNode.key == "chaohui")
    paths = {n.key: n.path for n in OrgNode.select(OrgNode.key, OrgNode.path)}
    mine = offered("chaohui-ducha")
    assert "chaohui" in mine and all(paths[k].startswith(street.path) for k in mine)
    district = offered("ducha")
    assert set(mine) < set(district) and "xiaohe" in district

"""Directories over HTTP (/work/directories): add, edit and retire through the pages with
audit, server-side validation naming the field, masking for who only reads, the designer
round trip, and the pages' query budgets."""

from __future__ import annotations

import datetime as dt
import re

from engine.definitions.definitions import current_version
from engine.org.actors import actor_for
from engine.org.org import upsert_tree
from engine.residents import directories as ds
from engine.store.models import Definition, Event, OrgNode, User
from engine.store.resident_tables import DirectoryEntry
from pages import directories as directory_pages
from tests.web.test_web_accounts import ENGLISH, visible_text

NOW = dt.datetime(2026, 11, 27, 2, 0, 0)
ORG = {
    "name": "施家花园社区邻里调解工作室",
    "type": "community",
    "field": "mediation",
    "purchase": "street",
    "contact": "何建华",
    "phone": "13812345678",
}
PAGE = "/work/directories/social-orgs/shijiahuayuan"


def _entries() -> list[DirectoryEntry]:
    return list(DirectoryEntry.select().order_by(DirectoryEntry.id))


def test_add_edit_and_retire_through_the_pages_with_audit(client, auth):
    auth.login("ducha")
    form = client.get(PAGE + "/new")
    assert form.status_code == 200 and "组织名称" in form.get_data(as_text=True)
    refused = client.post(PAGE + "/new", data={"name": "缺少类型", "_submit": "1"})
    assert refused.status_code == 422 and _entries() == []
    assert "类型" in refused.get_data(as_text=True)
    bad_phone = client.post(PAGE + "/new", data={**ORG, "phone": "12", "_submit": "1"})
    assert bad_phone.status_code == 422 and _entries() == []
    added = client.post(PAGE + "/new", data={**ORG, "_submit": "1"})
    assert added.status_code == 303 and added.headers["Location"].endswith(PAGE)
    (entry,) = _entries()
    assert entry.data["phone"] == "13812345678" and entry.title == ORG["name"]
    page = client.get(PAGE).get_data(as_text=True)
    assert ORG["name"] in page and "13812345678" in page  # who keeps it sees it whole
    text = visible_text(page)
    assert not ENGLISH.findall(text), ENGLISH.findall(text)
    edited = client.post(
        f"/work/directories/entries/{entry.id}/edit",
        data={**ORG, "field": "elderly", "_submit": "1"},
    )
    assert edited.status_code == 303
    assert DirectoryEntry.get_by_id(entry.id).data["field"] == "elderly"
    no_reason = client.post(f"/work/directories/entries/{entry.id}/retire", data={"reason": ""})
    assert no_reason.status_code == 303 and DirectoryEntry.get_by_id(entry.id).retired_at is None
    client.post(f"/work/directories/entries/{entry.id}/retire", data={"reason": "组织已注销"})
    retired = DirectoryEntry.get_by_id(entry.id)
    assert retired.retired_at is not None and retired.retire_reason == "组织已注销"
    assert DirectoryEntry.select().count() == 1  # retired, never deleted
    page = client.get(PAGE).get_data(as_text=True)
    assert "组织已注销" in page
    actions = [
        e.action
        for e in Event.select()
        .where(Event.target == f"directory_entry:{entry.id}")
        .order_by(Event.id)
    ]
    assert actions == ["directory.add", "directory.edit", "directory.retire"]
    assert client.get(f"/work/directories/entries/{entry.id}/edit").status_code == 403


def test_who_only_reads_sees_personal_data_masked_and_may_not_change(client, auth):
    admin = actor_for(User.get(User.username == "admin"))
    node = OrgNode.get(OrgNode.key == "shijiahuayuan")
    entry = ds.add(admin, "social-orgs", node, ORG, now=NOW)
    auth.login("xifang")  # commissioner of a compound in the community: a reader
    page = client.get(PAGE).get_data(as_text=True)
    assert ORG["name"] in page and "138****5678" in page and "何*华" in page
    assert "13812345678" not in page and "何建华" not in page
    assert "/new" not in page and "retire" not in page
    assert client.get(PAGE + "/new").status_code == 403
    assert client.post(PAGE + "/new", data={**ORG, "_submit": "1"}).status_code == 403
    assert client.get(f"/work/directories/entries/{entry.id}/edit").status_code == 403
    client.post(f"/work/directories/entries/{entry.id}/retire", data={"reason": "x"})
    assert DirectoryEntry.get_by_id(entry.id).retired_at is None
    overview = client.get("/work/directories").get_data(as_text=True)
    assert "社会组织名录" in overview and "物业行业党组织名录" not in overview


def test_another_street_and_residents_never_see_the_entries(client, auth):
    admin = actor_for(User.get(User.username == "admin"))
    node = OrgNode.get(OrgNode.key == "shijiahuayuan")
    entry = ds.add(admin, "social-orgs", node, ORG, now=NOW)
    auth.login("changzhengqiaolu-zy")  # a commissioner in another street
    assert client.get(PAGE).status_code == 404
    assert client.get(f"/work/directories/entries/{entry.id}/edit").status_code == 404
    auth.logout()
    auth.login("lvzhou-yezhu1")
    assert client.get("/work/directories").status_code == 403


def test_supervisors_see_the_roll_up_and_the_district_its_party_organisations(client, auth):
    admin = actor_for(User.get(User.username == "admin"))
    district = OrgNode.get(OrgNode.key == "gongshu")
    for i, members in enumerate((12, 9)):
        ds.add(
            admin,
            "property-party-orgs",
            district,
            {
                "company": f"杭州运河物业服务有限公司{i}",
                "org_name": f"运河物业党支部{i}",
                "members": members,
            },
            now=NOW,
        )
    auth.login("ducha")
    page = client.get("/work/directories/social-orgs").get_data(as_text=True)
    assert "朝晖街道" in page and "施家花园社区" in page
    text = visible_text(page)
    assert not ENGLISH.findall(text), ENGLISH.findall(text)
    node_page = client.get("/work/directories/property-party-orgs/gongshu").get_data(as_text=True)
    assert "杭州运河物业服务有限公司0" in node_page and "21" in node_page  # the members' total
    client.application.extensions  # noqa: B018
    from engine.metrics import facts

    facts.refresh(now=NOW)
    board = client.get("/review/n/gongshu").get_data(as_text=True)
    assert "物业行业党组织名录" in board and "党员数 21" in board
    summary = client.get("/work/directories/property-party-orgs").get_data(as_text=True)
    assert "<dt>党员数</dt><dd>21</dd>" in summary and "党支部 0(0.0%)" in summary


def test_the_pages_keep_their_query_budget(client, auth, assert_max_queries):
    admin = actor_for(User.get(User.username == "admin"))
    for key in ("shijiahuayuan", "chaohuiyiqu"):
        node = OrgNode.get_or_none(OrgNode.key == key)
        if node is None:
            continue
        for i in range(12):
            ds.add(admin, "social-orgs", node, {**ORG, "name": f"{ORG['name']}{i}"}, now=NOW)
    for username in ("ducha", "chaohui-ducha", "xifang"):
        auth.login(username)
        for page in ("/work/directories", "/work/directories/social-orgs", PAGE):
            client.get(page)
            with assert_max_queries(8, f"{username} {page}"):
                assert client.get(page).status_code == 200
        auth.logout()


def test_a_directory_is_made_and_edited_in_the_designer_without_json(client, auth):
    auth.login("admin")
    made = client.post(
        "/admin/designer/new",
        data={
            "kind": "directory",
            "name": "共建单位名录",
            "key": "partners",
            "raise_roles": "admin",
        },
    )
    assert made.status_code == 303
    client.post(
        "/admin/designer/partners/form/add",
        data={"label": "联系电话", "name": "phone", "kind": "phone"},
    )
    field = client.post(
        "/admin/designer/partners/form/field/phone",
        data={
            "label": "联系电话",
            "name": "phone",
            "kind": "phone",
            "personal_shown": "1",
            "personal": "1",
        },
    )
    assert field.status_code == 303
    page = client.get("/admin/designer/partners/directory")
    assert page.status_code == 200 and "min_per_node" in page.get_data(as_text=True)
    bad = client.post(
        "/admin/designer/partners/directory",
        data={
            "name": "共建单位名录",
            "node_kinds": "community",
            "edit_roles": "admin",
            "min_per_node": "0",
        },
    )
    assert bad.status_code == 422
    saved = client.post(
        "/admin/designer/partners/directory",
        data={
            "name": "共建单位名录",
            "node_kinds": ["community", "street"],
            "edit_roles": ["admin", "supervisor"],
            "read_roles": "commissioner",
            "min_per_node": "5",
            "title_field": "summary",
            "entry_label": "共建单位",
        },
    )
    assert saved.status_code == 303
    published = client.post("/admin/designer/partners/publish")
    assert published.status_code in (200, 303)
    assert Definition.get(Definition.key == "partners").current == 1
    body = current_version("partners").body
    assert body["node_kinds"] == ["street", "community"] and body["min_per_node"] == 5
    assert body["read_roles"] == ["commissioner"] and body["edit_roles"] == ["admin", "supervisor"]
    assert body["schema"]["properties"]["phone"]["x-personal"] is True
    admin = actor_for(User.get(User.username == "admin"))
    node = OrgNode.get(OrgNode.key == "shijiahuayuan")
    entry = ds.add(
        admin, "partners", node, {"summary": "拱墅区税务局", "phone": "13900001111"}, now=NOW
    )
    assert ds.shown_data(body, entry.data, False)["phone"] == "139****1111"


def test_many_places_show_their_streets_first_and_a_streets_places_one_click_down(
    client, auth, monkeypatch
):
    admin = actor_for(User.get(User.username == "admin"))
    place = OrgNode.get(OrgNode.key == "shijiahuayuan")
    street = OrgNode.get_by_id(int(place.path.strip("/").split("/")[1]))
    ds.add(admin, "social-orgs", place, ORG, now=NOW)
    auth.login("ducha")
    whole = client.get("/work/directories/social-orgs").get_data(as_text=True)
    monkeypatch.setattr(directory_pages, "STREETS_FIRST_ABOVE", 1)
    first = client.get("/work/directories/social-orgs").get_data(as_text=True)
    assert "按街道" in first and f"/work/directories/social-orgs?street={street.key}" in first
    assert place.name not in first and place.name in whole  # the places come one click down
    # the totals above the list are the whole reach's either way
    assert whole.split("<h1>")[1].split("</p>")[0] == first.split("<h1>")[1].split("</p>")[0]
    kept, _ = ds.kept_places(
        actor_for(User.get(User.username == "ducha")), current_version("social-orgs").body
    )
    in_street = [n for n in kept if n["path"].startswith(street.path)]
    row = first.split(f"?street={street.key}")[1].split("</tr>")[0]
    # its places, its one entry, and none of its places at the target of 18
    assert f">{street.name}</a>" in row
    assert re.findall(r"<td[^>]*>(\d+)</td>", row) == [str(len(in_street)), "1", "0"]
    one = client.get(f"/work/directories/social-orgs?street={street.key}").get_data(as_text=True)
    assert place.name in one and "全部街道" in one and f"· {street.name}" in one
    assert f"1 条 · 登记在 {len(in_street)} 处" in one  # the street's totals, not the reach's
    assert len(in_street) < len(kept)
    assert "按街道" not in one
    others = [n for n in OrgNode.select().where(OrgNode.kind == "street") if n.id != street.id]
    assert others and all(other.name not in one.split("<h1>")[1] for other in others)
    assert client.get("/work/directories/social-orgs?street=nowhere").status_code == 404
    auth.logout()
    auth.login("dongxin-zhan")  # another street's supervisor: chaohui is not in its reach
    assert client.get(f"/work/directories/social-orgs?street={street.key}").status_code == 404


def test_two_streets_of_one_name_stay_apart_in_a_directorys_list(client, auth, monkeypatch):
    district = OrgNode.get(OrgNode.key == "gongshu")
    chaohui = OrgNode.get(OrgNode.key == "chaohui")
    upsert_tree(
        [
            {
                "key": "chaohui-2",
                "name": chaohui.name,  # a second 朝晖街道
                "kind": "street",
                "children": [{"key": "twin-community", "name": "孪生社区", "kind": "community"}],
            }
        ],
        district,
    )
    twin = OrgNode.get(OrgNode.key == "twin-community")
    ds.add(actor_for(User.get(User.username == "admin")), "social-orgs", twin, ORG, now=NOW)
    monkeypatch.setattr(directory_pages, "STREETS_FIRST_ABOVE", 1)
    auth.login("ducha")
    first = client.get("/work/directories/social-orgs").get_data(as_text=True)
    assert '?street=chaohui"' in first and '?street=chaohui-2"' in first
    second = client.get("/work/directories/social-orgs?street=chaohui-2").get_data(as_text=True)
    assert "孪生社区" in second and "施家花园" not in second  # only the second one's places
    one = client.get("/work/directories/social-orgs?street=chaohui").get_data(as_text=True)
    assert "孪生社区" not in one

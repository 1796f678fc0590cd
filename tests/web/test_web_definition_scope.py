"""A definition's ``scope`` limits where it is used, not only who edits it: an item type scoped
to one street is offered, raised and listed in that street only — on the pages (/work, /r), in
the API (types list, raise), in the designer's try-it and preview, and a scoped profile is the
file of that street's compounds only. One engine function decides (definitions.applies_at)."""

from __future__ import annotations

import pytest

from engine.authoring.publishing import publish
from engine.core.errors import Invalid
from engine.definitions.definitions import applies_at, applies_for, current_version
from engine.store.models import Definition, Item, OrgNode, Pack, User
from engine.workflow import items
from tests.conftest import NOW

REPAIR = {"category": "水电", "location": "5幢电梯", "description": "电梯坏了五天了"}
IN, OUT = "lvzhouhuayuan", "changzhengqiaolu"  # 朝晖街道 / 小河街道
IN_USER, OUT_USER = "xifang", "changzhengqiaolu-zy"
IN_RESIDENT, OUT_RESIDENT = "lvzhou-yezhu1", "changzheng-yezhu1"


@pytest.fixture
def scoped(app):
    """repair is scoped to 朝晖街道 (its newest version)."""
    body = dict(current_version("repair").body, scope="chaohui")
    publish(Pack.get(), body, now=NOW, by=User.get(User.username == "admin"))
    return body


def test_applies_at_and_for(scoped, actor_of):
    inside, outside = OrgNode.get(OrgNode.key == IN), OrgNode.get(OrgNode.key == OUT)
    assert applies_at(scoped, inside.path) and not applies_at(scoped, outside.path)
    assert applies_at(current_version("bell").body, outside.path)  # no scope: everywhere
    assert (
        applies_at({**scoped, "scope": "gone"}, inside.path) is False
    )  # an unknown scope: nowhere
    assert applies_for(actor_of(IN_USER), scoped) and applies_for(actor_of("ducha"), scoped)
    assert not applies_for(actor_of(OUT_USER), scoped)


def test_applies_where_decides_as_applies_at(scoped):
    """``applies_where`` (the scope looked up once, for many nodes) answers as
    ``applies_at`` at every node, scoped or not."""
    from engine.definitions.definitions import applies_where

    unscoped = current_version("bell").body
    for body in (scoped, unscoped, {**scoped, "scope": "gone"}):
        applies = applies_where(body)
        for node in OrgNode.select(OrgNode.path):
            assert applies(node.path) is applies_at(body, node.path)
    assert not all(applies_where(scoped)(n.path) for n in OrgNode.select(OrgNode.path))


def test_the_engine_refuses_raising_outside_the_scope(scoped, actor_of):
    assert items.raise_item(actor_of(IN_USER), "repair", IN, REPAIR, now=NOW).node.key == IN
    with pytest.raises(Invalid) as caught:
        items.raise_item(actor_of(OUT_USER), "repair", OUT, REPAIR, now=NOW)
    assert [p.path for p in caught.value.fields] == ["node"]
    assert Item.select().where(Item.node == OrgNode.get(OrgNode.key == OUT)).count() == 0


@pytest.mark.parametrize("username, node, offered", [(IN_USER, IN, True), (OUT_USER, OUT, False)])
def test_work_offers_and_raises_only_in_scope(scoped, client, auth, username, node, offered):
    auth.login(username)
    choose = client.get(f"/work/new?node={node}").get_data(as_text=True)
    assert ("/work/new/repair" in choose) is offered
    assert "/work/new/bell" in choose  # unscoped types stay offered everywhere
    assert client.get(f"/work/new/repair?node={node}").status_code == (200 if offered else 404)
    response = client.post(f"/work/new/repair?node={node}", data=REPAIR)
    assert response.status_code == (303 if offered else 404)
    assert Item.select().join(Definition).where(Definition.key == "repair").count() == (
        1 if offered else 0
    )
    inbox = client.get("/work/?view=items").get_data(as_text=True)
    assert ('value="repair"' in inbox) is offered  # the type filter lists what applies here


@pytest.mark.parametrize("username, offered", [(IN_RESIDENT, True), (OUT_RESIDENT, False)])
def test_residents_are_offered_only_in_scope(scoped, client, auth, username, offered):
    auth.login(username)
    assert ("/r/new/repair" in client.get("/r/").get_data(as_text=True)) is offered
    assert client.get("/r/new/repair").status_code == (200 if offered else 404)
    client.post("/r/new/repair", data=REPAIR)
    assert Item.select().join(Definition).where(Definition.key == "repair").count() == (
        1 if offered else 0
    )


@pytest.mark.parametrize(
    "username, listed",
    [(IN_USER, True), (OUT_USER, False), ("ducha", True), ("chaohui-ducha", True)],
)
def test_the_api_lists_a_scoped_type_where_it_applies(scoped, client, token_for, username, listed):
    keys = {
        d["key"]
        for d in client.get("/api/v1/definitions", headers=token_for(username)).get_json()[
            "definitions"
        ]
    }
    assert ("repair" in keys) is listed and "bell" in keys


@pytest.mark.parametrize(
    "username, node, status",
    [(IN_USER, IN, 201), (OUT_USER, OUT, 422), (IN_RESIDENT, IN, 201), (OUT_RESIDENT, OUT, 422)],
)
def test_the_api_raises_only_in_scope(scoped, client, token_for, username, node, status):
    response = client.post(
        "/api/v1/items",
        json={"type": "repair", "node": node, "data": REPAIR},
        headers=token_for(username),
    )
    assert response.status_code == status, response.get_json()
    if status == 422:
        assert [f["path"] for f in response.get_json()["error"]["fields"]] == ["node"]


def test_try_it_and_preview_offer_only_nodes_in_scope(scoped, client, auth):
    from engine.authoring import designer

    designer.edit_draft(
        User.get(User.username == "admin"),
        "repair",
        lambda b: b.__setitem__("scope", "chaohui"),
        now=NOW,
    )
    auth.login("admin")
    page = client.get("/admin/designer/repair/routing").get_data(as_text=True)
    panel = page.split('id="tryit-node"', 1)[1].split("</select>", 1)[0]
    assert f'value="{IN}"' in panel and f'value="{OUT}"' not in panel
    # A node outside the scope posted by hand is not used; the first node in scope stands in.
    html = client.post(
        "/admin/designer/repair/routing/try", data={"_node": OUT, "_refresh": "1"}
    ).get_data(as_text=True)
    assert f'value="{OUT}" selected' not in html
    from pages.designer.formbuilder import preview_context

    with client.application.test_request_context():
        from flask import g

        from engine.org.actors import actor_for

        g.actor = actor_for(User.get(User.username == "admin"))
        doc = preview_context(designer.draft_of(Definition.get(Definition.key == "repair")))
    assert applies_at(scoped, OrgNode.get(OrgNode.key == doc["node"]["key"]).path)


def test_a_scoped_profile_is_the_file_of_its_streets_compounds_only(app, client, auth):
    from engine.records import profiles

    base = current_version("compound-profile").body
    schema = {
        **base["schema"],
        "properties": {
            **base["schema"]["properties"],
            "lift_count": {"type": "integer", "title": "电梯数量"},
        },
    }
    publish(
        Pack.get(),
        {
            **base,
            "key": "chaohui-profile",
            "name": "朝晖小区档案",
            "scope": "chaohui",
            "schema": schema,
        },
        now=NOW,
        by=User.get(User.username == "admin"),
    )
    inside, outside = OrgNode.get(OrgNode.key == IN), OrgNode.get(OrgNode.key == OUT)
    assert profiles.profile_version(inside).definition.key == "chaohui-profile"
    assert profiles.profile_version(outside).definition.key == "compound-profile"
    assert profiles.profile_version("compound").definition.key == "compound-profile"
    auth.login("ducha")
    assert 'name="lift_count"' in client.get(f"/lists/c/{IN}/profile").get_data(as_text=True)
    assert 'name="lift_count"' not in client.get(f"/lists/c/{OUT}/profile").get_data(as_text=True)


def test_publishing_a_scoped_version_moves_only_the_items_in_its_scope(app, actor_of):
    """lift (unscoped) has an item in `checking` in each street; v2 is scoped to 朝晖街道 and drops
    `checking`: only the 朝晖 item counts as stranded and moves; the 小河 item keeps v1."""
    from engine.authoring import designer

    admin = User.get(User.username == "admin")
    body = designer.skeleton(
        "lift",
        "加装电梯",
        kind="item_type",
        raise_roles=["commissioner"],
        node_kinds=["compound"],
        words={"summary": "摘要", "open": "征集中", "closed": "已办结", "close": "办结"},
    )
    body["workflow"]["states"]["checking"] = {"label": "核实中"}
    body["workflow"]["transitions"] += [
        {
            "key": "check",
            "label": "核实",
            "from": ["open"],
            "to": "checking",
            "roles": ["commissioner"],
        }
    ]
    body["workflow"]["transitions"][0]["from"] = ["open", "checking"]
    designer.create(admin, Pack.get(), body, now=NOW)
    designer.publish_draft(admin, "lift", now=NOW)
    raised = {}
    for username, node in ((IN_USER, IN), (OUT_USER, OUT)):
        item = items.raise_item(actor_of(username), "lift", node, {"summary": "加装"}, now=NOW)
        raised[node] = items.transition(
            actor_of(username), item.id, "check", {}, expected=item.lock, now=NOW
        )

    def change(b):
        b["scope"] = "chaohui"
        del b["workflow"]["states"]["checking"]
        b["workflow"]["transitions"] = [
            t for t in b["workflow"]["transitions"] if t["key"] != "check"
        ]
        b["workflow"]["transitions"][0]["from"] = ["open"]

    designer.edit_draft(admin, "lift", change, now=NOW)
    with pytest.raises(Invalid) as caught:
        designer.publish_draft(admin, "lift", now=NOW)
    assert "1 open item(s)" in caught.value.fields[0].message
    designer.publish_draft(admin, "lift", now=NOW, mapping={"checking": "open"})
    inside, outside = Item.get_by_id(raised[IN].id), Item.get_by_id(raised[OUT].id)
    assert (inside.version.number, inside.state) == (2, "open")
    assert (outside.version.number, outside.state) == (1, "checking")


def test_a_scoped_directory_is_counted_at_its_streets_places_only(client, auth):
    """The directories' home counts a directory's places where it applies: scoped to a
    street, the district's supervisor sees that street's places only."""
    admin = User.get(User.username == "admin")
    body = current_version("social-orgs").body
    every = OrgNode.select().where(OrgNode.kind.in_(body["node_kinds"]))
    street = OrgNode.get(OrgNode.key == "chaohui")
    within = every.where(OrgNode.path.startswith(street.path))
    assert 0 < within.count() < every.count()

    def places_counted() -> int:
        page = client.get("/work/directories").get_data(as_text=True)
        section = page[page.index(body["name"]) :]
        section = section[: section.index("</section>")]
        return int(section.split("登记在 ", 1)[1].split(" 处", 1)[0])

    auth.login("ducha")
    assert places_counted() == every.count()
    publish(Pack.get(), dict(body, scope="chaohui"), now=NOW, by=admin)
    assert places_counted() == within.count()

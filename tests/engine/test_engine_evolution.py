"""Definitions evolve: items raised under v1 keep opening, validating and moving under v1."""

from __future__ import annotations

import pytest

from engine.authoring import designer
from engine.core.errors import Invalid
from engine.store.models import Definition, Item, User
from engine.workflow import items
from tests.conftest import NOW


@pytest.fixture
def versions(app, actor_of):
    """gaokong v1 (required `floor`), one item under it, then v2 (floor renamed to storey,
    `kind` removed, a new required `witness`)."""
    admin = User.get(User.username == "admin")
    body = designer.skeleton(
        "gaokong",
        "高空抛物",
        kind="item_type",
        raise_roles=["commissioner"],
        node_kinds=["compound"],
        words={"summary": "摘要", "open": "处理中", "closed": "已办结", "close": "办结"},
    )
    body["schema"]["properties"].update(
        floor={"type": "integer", "title": "楼层", "minimum": 1},
        kind={"type": "string", "title": "类别", "enum": ["坠物", "抛物"]},
    )
    body["schema"]["required"] += ["floor"]
    pack = Definition.get(Definition.key == "bell").pack
    designer.create(admin, pack, body, now=NOW)
    designer.publish_draft(admin, "gaokong", now=NOW)
    old = items.raise_item(
        actor_of("xifang"),
        "gaokong",
        "lvzhouhuayuan",
        {"summary": "12楼抛物", "floor": 12, "kind": "抛物"},
        now=NOW,
    )

    def change(b):
        props = b["schema"]["properties"]
        props["storey"] = props.pop("floor")
        del props["kind"]
        props["witness"] = {"type": "string", "title": "目击者"}
        b["schema"]["required"] = ["summary", "storey", "witness"]

    designer.edit_draft(admin, "gaokong", change, now=NOW)
    designer.publish_draft(admin, "gaokong", now=NOW)
    return old


def test_v1_items_keep_v1_and_new_items_use_v2(client, auth, versions, actor_of):
    old = Item.get_by_id(versions.id)
    assert old.version.number == 1
    auth.login("xifang")
    page = client.get(f"/work/items/{old.id}").get_data(as_text=True)
    assert "楼层" in page and "12" in page and "抛物" in page  # rendered under v1
    # It still validates and moves under v1 (its answers have no `witness`).
    moved = items.transition(actor_of("xifang"), old.id, "close", {}, expected=None, now=NOW)
    assert moved.state == "closed" and moved.version.number == 1

    with pytest.raises(Invalid) as refused:  # new items use v2: the v1 answers no longer fit
        items.raise_item(
            actor_of("xifang"),
            "gaokong",
            "lvzhouhuayuan",
            {"summary": "又有抛物", "floor": 3},
            now=NOW,
        )
    assert any("witness" in p.path for p in refused.value.fields)
    new = items.raise_item(
        actor_of("xifang"),
        "gaokong",
        "lvzhouhuayuan",
        {"summary": "又有抛物", "storey": 3, "witness": "王阿姨"},
        now=NOW,
    )
    assert new.version.number == 2
    form = client.get("/work/new/gaokong?node=lvzhouhuayuan").get_data(as_text=True)
    assert 'name="storey"' in form and 'name="floor"' not in form


def test_republishing_v1_does_not_move_v2_items(versions, actor_of):
    admin = User.get(User.username == "admin")
    new = items.raise_item(
        actor_of("xifang"),
        "gaokong",
        "lvzhouhuayuan",
        {"summary": "x", "storey": 3, "witness": "y"},
        now=NOW,
    )
    version = designer.republish(admin, "gaokong", 1, now=NOW)
    assert version.number == 3
    assert Item.get_by_id(new.id).version.number == 2
    fresh = items.raise_item(
        actor_of("xifang"), "gaokong", "lvzhouhuayuan", {"summary": "z", "floor": 2}, now=NOW
    )
    assert fresh.version.number == 3

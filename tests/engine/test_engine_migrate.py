"""Publishing a version that removes a state with open items: refused, or migrated by a mapping."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.authoring import designer
from engine.core.errors import Conflict, Invalid
from engine.store.models import Definition, Event, Item, User
from engine.workflow import items
from tests.conftest import NOW

LATER = NOW + dt.timedelta(hours=1)


@pytest.fixture
def running(app, actor_of):
    """lift v1 (open → checking → closed) with two items in `checking` and one in `open`;
    a draft that removes `checking` and adds `review`."""
    admin = User.get(User.username == "admin")
    body = designer.skeleton(
        "lift",
        "加装电梯",
        kind="item_type",
        raise_roles=["commissioner"],
        node_kinds=["compound"],
        words={"summary": "摘要", "open": "征集中", "closed": "已办结", "close": "办结"},
    )
    wf = body["workflow"]
    wf["states"]["checking"] = {"label": "核实中", "hours": 48}
    wf["transitions"] += [
        {
            "key": "check",
            "label": "核实",
            "from": ["open"],
            "to": "checking",
            "roles": ["commissioner"],
        }
    ]
    wf["transitions"][0]["from"] = ["open", "checking"]
    pack = Definition.get(Definition.key == "bell").pack
    designer.create(admin, pack, body, now=NOW)
    designer.publish_draft(admin, "lift", now=NOW)
    raised = [
        items.raise_item(
            actor_of("xifang"), "lift", "lvzhouhuayuan", {"summary": f"第{i}栋"}, now=NOW
        )
        for i in range(3)
    ]
    for item in raised[:2]:
        items.transition(actor_of("xifang"), item.id, "check", {}, expected=item.lock, now=NOW)

    def change(b):
        states = b["workflow"]["states"]
        del states["checking"]
        states["review"] = {"label": "评审中", "hours": 24}
        b["workflow"]["transitions"] = [
            {
                "key": "review",
                "label": "评审",
                "from": ["open"],
                "to": "review",
                "roles": ["commissioner"],
            },
            {
                "key": "close",
                "label": "办结",
                "from": ["open", "review"],
                "to": "closed",
                "roles": ["commissioner"],
            },
        ]

    designer.edit_draft(admin, "lift", change, now=NOW)
    return admin, raised


def test_without_a_mapping_the_publish_is_refused(running):
    admin, _ = running
    with pytest.raises(Invalid) as caught:
        designer.publish_draft(admin, "lift", now=LATER)
    assert [p.path for p in caught.value.fields] == ["/workflow/states/checking"]
    assert "2 open item(s)" in caught.value.fields[0].message
    assert Definition.get(Definition.key == "lift").current == 1


def test_a_mapping_to_a_final_or_unknown_state_is_refused(running):
    admin, _ = running
    for target in ("closed", "nowhere"):
        with pytest.raises(Invalid):
            designer.publish_draft(admin, "lift", now=LATER, mapping={"checking": target})


def test_a_mapping_moves_the_stranded_items_onto_the_new_version_audited(running, actor_of):
    admin, raised = running
    version = designer.publish_draft(admin, "lift", now=LATER, mapping={"checking": "review"})
    assert version.number == 2
    moved = [Item.get_by_id(i.id) for i in raised[:2]]
    assert all(
        i.version_id == version.id and i.state == "review" and i.state_since == LATER for i in moved
    )
    assert all(i.due_at is not None and i.due_at > LATER for i in moved)
    stayed = Item.get_by_id(raised[2].id)
    assert stayed.version.number == 1 and stayed.state == "open"
    events = list(Event.select().where(Event.action == "item.migrate").order_by(Event.id))
    assert [e.item_id for e in events] == [i.id for i in raised[:2]]
    assert events[0].detail["message"] == "migrated from v1 state checking to v2 state review"
    assert (
        events[0].before == {"version": 1, "state": "checking", "label": "核实中"}
        and events[0].actor_id == admin.id
    )
    publish = (
        Event.select()
        .where(Event.action == "definition.designer_publish")
        .order_by(Event.id.desc())
        .first()
    )
    assert publish.detail["migrated"] == [i.id for i in raised[:2]]
    # A migrated item moves on under v2's workflow.
    items.transition(
        actor_of("xifang"), moved[0].id, "close", {}, expected=moved[0].lock, now=LATER
    )
    assert Item.get_by_id(moved[0].id).closed


def test_a_concurrent_change_undoes_the_whole_publish(running, monkeypatch):
    admin, raised = running
    from engine.authoring import evolve

    real = evolve.audit.record

    def racing(action, **kwargs):  # someone moves the second item after the first is migrated
        if action == "item.migrate":
            Item.update(lock=Item.lock + 5).where(Item.id == raised[1].id).execute()
        return real(action, **kwargs)

    monkeypatch.setattr(evolve.audit, "record", racing)
    with pytest.raises(Conflict):
        designer.publish_draft(admin, "lift", now=LATER, mapping={"checking": "review"})
    assert Definition.get(Definition.key == "lift").current == 1
    assert Item.get_by_id(raised[0].id).state == "checking"
    assert not Event.select().where(Event.action == "item.migrate").exists()


def test_the_publish_page_asks_for_the_mapping_and_moves_the_items(running, client, auth):
    _, raised = running
    auth.login("admin")
    page = client.get("/admin/designer/lift/publish").get_data(as_text=True)
    assert 'id="migration"' in page and 'name="map-checking"' in page and "核实中" in page
    assert '<option value="review">评审中</option>' in page and 'value="closed"' not in page
    refused = client.post("/admin/designer/lift/publish", data={})
    assert refused.status_code == 422 and "个未办结事项停留在环节“核实中”" in refused.get_data(
        as_text=True
    )
    assert 'name="map-checking"' in refused.get_data(as_text=True)
    response = client.post("/admin/designer/lift/publish", data={"map-checking": "review"})
    assert response.status_code == 303
    assert Item.get_by_id(raised[0].id).state == "review"
    assert "2" in client.get("/admin/designer/lift/history").get_data(as_text=True)
    auth.login("xifang")
    page = client.get(f"/work/items/{raised[0].id}").get_data(as_text=True)
    # the timeline alone: the page's CSRF token is random text that may hold "v1"
    timeline = page[page.index('<ol class="timeline">') :]
    timeline = timeline[: timeline.index("</ol>")]
    assert "第 2 版继续办理:核实中 → 评审中" in timeline and "v1" not in timeline


def test_an_instance_from_before_the_file_version_gains_it_on_start(app):
    """create_tables adds a column a model gained (here the compound file's version) to an
    existing table, every row at its default, on SQLite and PostgreSQL alike."""
    from engine.store.db import database
    from engine.store.models import OrgNode, create_tables

    database.execute_sql("ALTER TABLE org_node DROP COLUMN profile_lock")
    assert "profile_lock" not in {c.name for c in database.get_columns("org_node")}
    create_tables()
    assert "profile_lock" in {c.name for c in database.get_columns("org_node")}
    assert {n.profile_lock for n in OrgNode.select()} == {1}
    create_tables()  # idempotent
    node = OrgNode.get(OrgNode.key == "lvzhouhuayuan")
    assert (
        OrgNode.update(profile_lock=OrgNode.profile_lock + 1)
        .where((OrgNode.id == node.id) & (OrgNode.profile_lock == 1))
        .execute()
        == 1
    )

"""Scoped designing: a street's admin edits only definitions scoped to their street; the
district admin edits all. Profiles (一小区一档案) open in the same form builder."""

from __future__ import annotations

import pytest

from engine.accounts.users import upsert_user
from engine.authoring import designer
from engine.definitions.checks import definition_problems
from engine.definitions.definitions import known_roles, known_units
from engine.store.models import Definition, User
from tests.conftest import NOW


@pytest.fixture
def street_admin(app, client):
    """hemu-admin: admin granted at the 和睦街道 node; whistle is scoped to 和睦街道 (draft)."""
    user = upsert_user(
        "hemu-admin", "和睦管理员", "demo1234", [{"role": "admin", "node": "hemu"}], now=NOW
    )
    admin = User.get(User.username == "admin")
    designer.edit_draft(admin, "whistle", lambda b: b.__setitem__("scope", "hemu"), now=NOW)
    return user


def test_scope_is_checked_against_the_org_tree(app):
    body = designer.draft_of(Definition.get(Definition.key == "bell"))
    assert (
        definition_problems({**body, "scope": "hemu"}, roles=known_roles(), units=known_units())
        == []
    )
    found = definition_problems(
        {**body, "scope": "nowhere"}, roles=known_roles(), units=known_units()
    )
    assert [p.path for p in found] == ["/scope"]
    profile = designer.draft_of(Definition.get(Definition.key == "compound-profile"))
    assert [
        p.path
        for p in definition_problems(
            {**profile, "scope": "nowhere"}, roles=known_roles(), units=known_units()
        )
    ] == ["/scope"]


def test_a_street_admin_edits_only_their_streets_definitions(street_admin, client, auth):
    auth.login("hemu-admin")
    page = client.get("/admin/designer/").get_data(as_text=True)
    assert 'id="open-whistle"' in page and 'id="open-bell"' not in page and "和睦街道" in page
    assert client.get("/admin/designer/whistle/form").status_code == 200
    assert client.get("/admin/designer/whistle/routing").status_code == 200
    for path in (
        "/admin/designer/bell/form",
        "/admin/designer/bell/json",
        "/admin/designer/compound-profile/form",
    ):
        assert client.get(path).status_code == 403
    assert client.post("/admin/designer/bell/publish").status_code == 403
    assert client.get("/admin/designer/packs/gongshu.zip").status_code == 403
    # Moving the definition out of the street through the JSON view is refused.
    text = client.get("/admin/designer/whistle/json").get_data(as_text=True)
    assert (
        client.post(
            "/admin/designer/whistle/json",
            data={"body": '{"key": "whistle", "kind": "item_type", "name": "x", "scope": "hushu"}'},
        ).status_code
        == 422
    )
    assert "hemu" == Definition.get(Definition.key == "whistle").draft["scope"] and text
    # What the street's admin creates is scoped to the street.
    response = client.post(
        "/admin/designer/new",
        data={
            "kind": "item_type",
            "name": "加装电梯",
            "key": "lift",
            "raise_roles": "commissioner",
            "node_kinds": "compound",
        },
    )
    assert response.status_code == 303
    assert Definition.get(Definition.key == "lift").draft["scope"] == "hemu"


def test_the_district_admin_edits_all(street_admin, client, auth):
    auth.login("admin")
    page = client.get("/admin/designer/").get_data(as_text=True)
    assert 'id="open-whistle"' in page and 'id="open-bell"' in page
    assert client.get("/admin/designer/whistle/form").status_code == 200
    assert client.get("/admin/designer/bell/form").status_code == 200
    assert client.get("/admin/designer/packs/gongshu.zip").status_code == 200


def test_profiles_are_listed_and_built_with_the_form_builder(client, auth):
    auth.login("admin")
    page = client.get("/admin/designer/").get_data(as_text=True)
    assert (
        'id="open-compound-profile" href' in page
        or 'href="/admin/designer/compound-profile/form" id="open-compound-profile"' in page
    )
    builder = client.get("/admin/designer/compound-profile/form").get_data(as_text=True)
    assert 'id="field-rows"' in builder and 'id="preview"' in builder
    assert "/compound-profile/workflow" not in builder
    response = client.post(
        "/admin/designer/compound-profile/form/add",
        data={"label": "电梯数量", "name": "lift_count", "kind": "integer"},
    )
    assert response.status_code == 303
    assert (
        Definition.get(Definition.key == "compound-profile").draft["schema"]["properties"][
            "lift_count"
        ]["type"]
        == "integer"
    )
    assert client.post("/admin/designer/compound-profile/publish").status_code == 303
    # A new profile definition starts in the builder too.
    response = client.post(
        "/admin/designer/new",
        data={
            "kind": "profile",
            "name": "楼栋档案",
            "key": "building-file",
            "node_kinds": "building",
        },
    )
    assert response.status_code == 303 and response.location.endswith("/building-file/form")
    assert Definition.get(Definition.key == "building-file").draft["node_kind"] == "building"

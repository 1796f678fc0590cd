"""The designer makes and edits the residents' definition kinds: a statement of accounts
(disclosure) and a listing, round trip: create, edit the form, the JSON view, publish, use."""

from __future__ import annotations

import json

from engine.core import clock
from engine.org.actors import actor_for
from engine.residents import disclosures, listings, statements
from engine.store.models import Definition, OrgNode, User
from tests.web.test_web_designer import form_values


def test_a_statement_kind_is_made_edited_and_published_in_the_designer(client, auth):
    auth.login("admin")
    page = client.get("/admin/designer/").get_data(as_text=True)
    assert 'value="disclosure"' in page and 'value="listing"' in page
    response = client.post(
        "/admin/designer/new",
        data={
            "kind": "disclosure",
            "name": "停车费收支公示",
            "key": "parking-accounts",
            "raise_roles": "property",
            "node_kinds": "compound",
            "question_type": "disclosure-question",
        },
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(
        "/parking-accounts/form"
    )
    assert client.get("/admin/designer/parking-accounts/form").status_code == 200
    added = client.post(
        "/admin/designer/parking-accounts/form/add",
        data={"label": "编制人", "name": "preparer", "kind": "text"},
    )
    assert added.status_code == 303
    # The JSON view: the confirming role and the period are edited there, kept whole.
    draft = Definition.get(Definition.key == "parking-accounts").draft
    assert draft["schema"]["properties"]["preparer"]["title"] == "编制人"
    draft.update(confirm_roles=["committee"], period="month")
    saved = client.post(
        "/admin/designer/parking-accounts/json",
        data={"body": json.dumps(draft, ensure_ascii=False)},
    )
    assert saved.status_code == 303
    page = client.get("/admin/designer/parking-accounts/json").get_data(as_text=True)
    assert (
        client.post("/admin/designer/parking-accounts/json", data=form_values(page)).status_code
        == 303
    )
    assert Definition.get(Definition.key == "parking-accounts").draft == draft
    published = client.post("/admin/designer/parking-accounts/publish")
    assert published.status_code in (200, 303), published.get_data(as_text=True)[:2000]
    definition = Definition.get(Definition.key == "parking-accounts")
    assert definition.current == 1 and definition.kind == "disclosure"

    # Usable at once: the property company drafts a monthly statement with it.
    wy = actor_for(User.get(User.username == "lvzhouhuayuan-wy"))
    node = OrgNode.get(OrgNode.key == "lvzhouhuayuan")
    st = disclosures.start(wy, "parking-accounts", node, "2026-10", now=clock.now())
    disclosures.add_line(
        wy, st, {"section": "income", "label": "月租车位", "amount": "4500"}, now=clock.now()
    )
    assert statements.totals(disclosures.body_of(st), st.lines)["groups"]["main"]["in"] == 450000


def test_a_listing_kind_is_made_and_published_in_the_designer(client, auth):
    auth.login("admin")
    client.post(
        "/admin/designer/new",
        data={"kind": "listing", "name": "闲置物品互换", "key": "swap", "raise_roles": "resident"},
    )
    client.post(
        "/admin/designer/swap/form/add",
        data={"label": "新旧程度", "name": "condition", "kind": "text"},
    )
    response = client.post("/admin/designer/swap/publish")
    assert response.status_code in (200, 303)
    assert Definition.get(Definition.key == "swap").current == 1
    resident = actor_for(User.get(User.username == "lvzhou-yezhu1"))
    node = OrgNode.get(OrgNode.key == "lvzhouhuayuan")
    posted = listings.post(
        resident,
        "swap",
        "offer",
        node,
        {"summary": "九成新婴儿车", "condition": "九成新"},
        now=clock.now(),
    )
    assert posted.data["condition"] == "九成新"


def test_a_bad_statement_kind_is_refused_at_publish_naming_the_path(client, auth):
    auth.login("admin")
    client.post(
        "/admin/designer/new",
        data={
            "kind": "disclosure",
            "name": "坏的公示",
            "key": "bad-accounts",
            "raise_roles": "nobody",
            "question_type": "bell",
        },
    )
    response = client.post("/admin/designer/bad-accounts/publish")
    page = response.get_data(as_text=True)
    assert (
        "/draft_roles/0" in page and Definition.get(Definition.key == "bad-accounts").current == 0
    )

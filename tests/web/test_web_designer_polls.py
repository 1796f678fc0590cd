"""The designer round trip for vote definitions (表决事项): create, edit, publish, export."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from engine.authoring import designer
from engine.store.models import Definition
from tests.web.test_web_designer import form_values


@pytest.fixture
def admin(client, auth):
    auth.login("admin")
    return client


def test_saving_the_seed_vote_unchanged_loses_nothing(admin):
    before = designer.draft_of(Definition.get(Definition.key == "owners-decision"))
    page = admin.get("/admin/designer/owners-decision/poll").get_data(as_text=True)
    assert "筹集建筑物及其附属设施的维修资金" in page and "share_at_least" in page
    response = admin.post("/admin/designer/owners-decision/poll", data=form_values(page))
    assert response.status_code == 303
    assert designer.draft_of(Definition.get(Definition.key == "owners-decision")) == before


def test_create_edit_publish_and_export_a_vote(admin):
    response = admin.post(
        "/admin/designer/new",
        data={"kind": "poll", "name": "业委会选举", "key": "election", "raise_roles": "committee"},
    )
    assert response.status_code == 303 and response.location.endswith(
        "/admin/designer/election/poll"
    )
    body = Definition.get(Definition.key == "election").draft
    seed = designer.draft_of(Definition.get(Definition.key == "owners-decision"))
    assert body["thresholds"] == seed["thresholds"]  # starts from the pack's art. 278
    assert body["open_roles"] == ["committee"]

    page = admin.get("/admin/designer/election/poll").get_data(as_text=True)
    values = form_values(page)
    values["cat-count"] = str(int(values["cat-count"]))
    blank = len(seed["categories"])  # the first blank row
    values[f"cat-key-{blank}"] = "recall"
    values[f"cat-label-{blank}"] = "罢免业委会委员"
    values[f"cat-special-{blank}"] = "1"
    values["max_choices"] = "1"
    values["window_days"] = "7"
    values["show_choices"] = "totals"
    values["passing"] = json.dumps(
        {"share_above": [{"var": "area.yes"}, {"var": "area.voted"}, 1, 2]}
    )
    assert admin.post("/admin/designer/election/poll", data=values).status_code == 303
    body = Definition.get(Definition.key == "election").draft
    assert body["categories"][-1] == {"key": "recall", "label": "罢免业委会委员", "special": True}
    assert body["window_days"] == 7 and body["show_choices"] == "totals"
    assert body["thresholds"]["passing"]["share_above"][2:] == [1, 2]

    values["quorum"] = json.dumps({"share_at_least": [{"var": "money"}, 1, 2, 3]})
    admin.post("/admin/designer/election/poll", data=values)
    refused = admin.post("/admin/designer/election/publish")
    assert refused.status_code == 422 and "money" in refused.get_data(as_text=True)
    values["quorum"] = "{nope"
    bad = admin.post("/admin/designer/election/poll", data=values)
    assert bad.status_code == 422 and "JSON" in bad.get_data(as_text=True)
    values["quorum"] = "true"
    assert admin.post("/admin/designer/election/poll", data=values).status_code == 303
    assert admin.post("/admin/designer/election/publish").status_code == 303
    assert Definition.get(Definition.key == "election").current == 1

    exported = admin.get("/admin/designer/packs/gongshu.zip")
    names = zipfile.ZipFile(io.BytesIO(exported.data)).namelist()
    inside = [n for n in names if n.endswith("election.json")]
    assert inside, names
    text = zipfile.ZipFile(io.BytesIO(exported.data)).read(inside[0])
    assert json.loads(text)["categories"][-1]["key"] == "recall"

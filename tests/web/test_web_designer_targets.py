"""The form builder on other forms of a draft: a transition's form, a checklist's row form,
the columns of repeated rows. Editing through the pages writes what a hand would write,
and saving unchanged changes nothing."""

from __future__ import annotations

import copy
import re

import pytest

from engine.authoring import designer
from engine.core import clock
from engine.store.models import Definition, User
from tests.web.test_web_designer import form_values


@pytest.fixture
def admin(client, auth):
    auth.login("admin")
    return client


def body(key):
    return designer.draft_of(Definition.get(Definition.key == key))


def save_unchanged(admin, base, names):
    for name in names:
        page = admin.get(f"{base}/field/{name}")
        assert page.status_code == 200, name
        response = admin.post(f"{base}/field/{name}", data=form_values(page.get_data(as_text=True)))
        assert response.status_code == 303, (name, response.get_data(as_text=True)[:2000])


def test_transition_form_round_trip(admin):
    before = body("bell")
    rate = before["workflow"]["transitions"][5]
    page = admin.get("/admin/designer/bell/transitions/5/form")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "评价意见" in html and "/admin/designer/bell/forms/t5/field/satisfaction" in html
    assert "/admin/designer/bell/transitions/5/form" in admin.get(
        "/admin/designer/bell/workflow/transition/5"
    ).get_data(as_text=True)
    save_unchanged(admin, "/admin/designer/bell/forms/t5", list(rate["form"]["properties"]))
    assert body("bell") == before

    response = admin.post(
        "/admin/designer/bell/forms/t5/add",
        data={"name": "photos", "kind": "photo", "label": "照片"},
    )
    assert response.headers["Location"].endswith("/admin/designer/bell/forms/t5/field/photos")
    response = admin.post(
        "/admin/designer/bell/forms/t5/field/photos",
        data={
            "label": "现场照片",
            "name": "photos",
            "kind": "photo",
            "bound-maxItems": "3",
            "show-join": "all",
            "show-0-field": "satisfaction",
            "show-0-op": "<",
            "show-0-value": "3",
        },
    )
    assert response.status_code == 303
    form = body("bell")["workflow"]["transitions"][5]["form"]
    assert form["properties"]["photos"] == {
        "type": "array",
        "title": "现场照片",
        "items": {"type": "string", "format": "attachment"},
        "x-widget": "photo",
        "maxItems": 3,
        "x-show-if": {
            "and": [
                {"!=": [{"var": "data.satisfaction"}, None]},
                {"<": [{"var": "data.satisfaction"}, 3]},
            ]
        },
    }
    assert list(form["properties"]) == ["satisfaction", "comment", "photos"]
    assert admin.post("/admin/designer/bell/forms/t5/photos/up").status_code == 303
    assert list(body("bell")["workflow"]["transitions"][5]["form"]["properties"]) == [
        "satisfaction",
        "photos",
        "comment",
    ]
    assert (
        admin.post("/admin/designer/bell/forms/t5/preview", data={"_submit": "1"}).status_code
        == 200
    )
    admin.post("/admin/designer/bell/forms/t5/photos/delete")
    assert body("bell") == before


def test_a_transition_without_a_form_gets_one_and_loses_it(admin):
    before = body("bell")
    assert "form" not in before["workflow"]["transitions"][0]
    assert admin.get("/admin/designer/bell/transitions/0/form").status_code == 200
    admin.post(
        "/admin/designer/bell/forms/t0/add", data={"name": "note", "kind": "text", "label": "备注"}
    )
    assert body("bell")["workflow"]["transitions"][0]["form"] == {
        "type": "object",
        "properties": {"note": {"type": "string", "title": "备注"}},
    }
    admin.post("/admin/designer/bell/forms/t0/note/delete")
    assert body("bell") == before
    assert admin.get("/admin/designer/bell/transitions/99/form").status_code == 404
    assert admin.get("/admin/designer/bell/forms/nonsense").status_code == 404


def test_checklist_row_form_in_the_builder(admin):
    before = body("task-list")
    index = admin.get("/admin/designer/").get_data(as_text=True)
    assert 'href="/admin/designer/task-list/form"' in index
    page = admin.get("/admin/designer/task-list/form")
    assert page.status_code == 200 and "事项内容" in page.get_data(as_text=True)
    save_unchanged(
        admin, "/admin/designer/task-list/form", list(before["row_schema"]["properties"])
    )
    assert body("task-list") == before
    admin.post(
        "/admin/designer/task-list/form/add",
        data={"name": "budget", "kind": "number", "label": "预算"},
    )
    admin.post(
        "/admin/designer/task-list/form/field/budget",
        data={
            "label": "预算(万元)",
            "name": "budget",
            "kind": "number",
            "bound-minimum": "0",
            "required": "1",
        },
    )
    expected = copy.deepcopy(before["row_schema"])
    expected["properties"]["budget"] = {"type": "number", "title": "预算(万元)", "minimum": 0}
    expected["required"] = [*expected["required"], "budget"]
    assert body("task-list")["row_schema"] == expected
    assert admin.post("/admin/designer/task-list/preview", data={"_submit": "1"}).status_code == 200


def test_group_columns_round_trip(admin):
    before = body("compound-profile")
    base = "/admin/designer/compound-profile/forms/main~service_points"
    assert "main~service_points" in admin.get("/admin/designer/compound-profile/form").get_data(
        as_text=True
    )
    page = admin.get(base)
    assert page.status_code == 200 and "服务点地址" in page.get_data(as_text=True)
    assert 'value="group"' not in page.get_data(as_text=True)
    save_unchanged(admin, base, ["name", "address"])
    assert body("compound-profile") == before

    admin.post(f"{base}/add", data={"name": "open_days", "kind": "select", "label": "开放日"})
    admin.post(
        f"{base}/field/open_days",
        data={
            "label": "开放日",
            "name": "open_days",
            "kind": "select",
            "options": "全天\n工作日",
            "show-join": "all",
            "show-0-field": "address",
            "show-0-op": "is not empty",
        },
    )
    admin.post(f"{base}/open_days/up")
    items = body("compound-profile")["schema"]["properties"]["service_points"]["items"]
    assert list(items["properties"]) == ["name", "address", "hours", "open_days", "phone"]
    assert items["properties"]["open_days"] == {
        "type": "string",
        "title": "开放日",
        "enum": ["全天", "工作日"],
        "x-show-if": {"!!": {"var": "row.address"}},
    }
    assert admin.post(f"{base}/add", data={"name": "inner", "kind": "group"}).status_code == 422
    admin.post(f"{base}/open_days/delete")
    assert body("compound-profile") == before
    assert admin.get("/admin/designer/compound-profile/forms/main~name").status_code == 404


def test_condition_builder_nests_one_level(admin):
    before = body("bell")
    page = admin.get("/admin/designer/bell/form/field/summary")
    values = form_values(page.get_data(as_text=True))
    assert "show-2-sub" in values  # the empty group to fill in
    changes = {
        "show-join": "any",
        "show-0-field": "category",
        "show-0-op": "==",
        "show-0-value": "其他",
        "show-2-join": "all",
        "show-2-0-field": "category",
        "show-2-0-op": "in",
        "show-2-0-value": "环境卫生, 停车秩序",
        "show-2-1-field": "category",
        "show-2-1-op": "is not empty",
    }
    for name, value in changes.items():
        values[name] = value
    assert admin.post("/admin/designer/bell/form/field/summary", data=values).status_code == 303
    rule = body("bell")["schema"]["properties"]["summary"]["x-show-if"]
    assert rule == {
        "or": [
            {"==": [{"var": "data.category"}, "其他"]},
            {
                "and": [
                    {"in": [{"var": "data.category"}, ["环境卫生", "停车秩序"]]},
                    {"!!": {"var": "data.category"}},
                ]
            },
        ]
    }
    assert (
        "("
        in admin.get("/admin/designer/bell/form")
        .get_data(as_text=True)
        .split('id="f-summary"')[1][:2000]
    )
    once = body("bell")
    save_unchanged(admin, "/admin/designer/bell/form", ["summary"])
    assert body("bell") == once
    html = admin.get("/admin/designer/bell/form/field/summary").get_data(as_text=True)
    assert 'name="show-1-sub"' in html and 'name="show-1-1-field"' in html
    # Deeper than one level stays as written.
    deep = {
        "or": [
            {"==": [{"var": "data.category"}, 1]},
            {
                "and": [
                    {"==": [{"var": "data.category"}, 1]},
                    {"or": [{"!!": {"var": "data.category"}}, {"!": {"var": "data.category"}}]},
                ]
            },
        ]
    }
    draft = body("bell")
    draft["schema"]["properties"]["summary"]["x-show-if"] = deep
    designer.save_draft(User.get(User.username == "admin"), "bell", draft, now=clock.now())
    save_unchanged(admin, "/admin/designer/bell/form", ["summary"])
    assert body("bell")["schema"]["properties"]["summary"]["x-show-if"] == deep
    assert before != once


def save_panels(admin, key: str, changes: dict[str, str], indexes=None) -> None:
    """Each transition's panel saved with ``changes`` (its own names: tr-<i>-…, tr<i>-…);
    ``indexes``: the panels to save even without changes."""
    wanted = set(indexes or ()) | {int(re.match(r"tr-?(\d+)", n).group(1)) for n in changes}
    for i in sorted(wanted):
        panel = f"/admin/designer/{key}/workflow/transition/{i}"
        values = form_values(admin.get(panel).get_data(as_text=True))
        for name, value in changes.items():
            if re.match(rf"tr-?{i}-", name):
                values[name] = value
        response = admin.post(panel, data=values)
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]


def test_workflow_guard_message_branches_and_sets(admin):
    before = body("bell")
    page = admin.get("/admin/designer/bell/workflow/transition/5").get_data(as_text=True)
    assert 'id="tr-5-if0"' in page and "tr-5-set-0-target" in page
    values = form_values(page)
    assert (
        values["tr-5-set-0-source"] == "answer"
        and values["tr-5-set-0-answer"] == "form.satisfaction"
    )
    changes = {
        "tr-4-guard_message": "还有单位未办结",
        "tr-5-if1-to": "liaising",
        "tr5-if1-join": "all",
        "tr5-if1-0-field": "form.satisfaction",
        "tr5-if1-0-op": "==",
        "tr5-if1-0-value": "3",
        "tr5-if1-1-field": "data.category",
        "tr5-if1-1-op": "==",
        "tr5-if1-1-value": "其他",
        "tr-5-set-1-target": "priority",
        "tr-5-set-1-source": "const",
        "tr-5-set-1-const": "2",
        "tr-0-set-0-target": "data.summary",
        "tr-0-set-0-source": "answer",
        "tr-0-set-0-answer": "data.category",
    }
    save_panels(admin, "bell", changes)
    after = body("bell")
    transitions = after["workflow"]["transitions"]
    assert transitions[4]["guard_message"] == "还有单位未办结"
    assert transitions[5]["to_if"] == [
        before["workflow"]["transitions"][5]["to_if"][0],
        {
            "when": {
                "and": [
                    {"==": [{"var": "form.satisfaction"}, 3]},
                    {"==": [{"var": "data.category"}, "其他"]},
                ]
            },
            "to": "liaising",
        },
    ]
    assert transitions[5]["effects"] == [
        {"set": {"satisfaction": {"var": "form.satisfaction"}, "priority": 2}},
        {"summon": "reopen"},
    ]
    assert transitions[0]["effects"][0] == {"set": {"data.summary": {"var": "data.category"}}}
    # Unchanged, every panel saves what it shows.
    save_panels(admin, "bell", {}, range(len(transitions)))
    assert body("bell") == after
    # Deleting brings back what was there.
    save_panels(
        admin,
        "bell",
        {
            "tr-4-guard_message": before["workflow"]["transitions"][4]["guard_message"],
            "tr-5-if1-delete": "1",
            "tr-5-set-1-delete": "1",
            "tr-0-set-0-delete": "1",
        },
    )
    assert body("bell") == before


def test_a_set_written_as_a_rule_is_kept(admin):
    draft = body("emergency")
    page = admin.get("/admin/designer/emergency/workflow").get_data(as_text=True)
    assert (
        admin.post("/admin/designer/emergency/workflow", data=form_values(page)).status_code == 303
    )
    save_panels(admin, "emergency", {}, range(len(draft["workflow"]["transitions"])))
    assert body("emergency") == draft


def test_every_panel_of_every_seed_type_saves_unchanged(admin):
    """The settings panel and each state's and transition's panel, saved as shown, leave
    every seed item type's draft as it was (nothing the panels do not show is lost)."""
    for definition in Definition.select().where(Definition.kind == "item_type"):
        key = definition.key
        before = body(key)
        workflow = before.get("workflow") or {}
        panels = ["", *(f"/state/{s}" for s in workflow.get("states") or {})]
        panels += [f"/transition/{i}" for i in range(len(workflow.get("transitions") or []))]
        for panel in panels:
            path = f"/admin/designer/{key}/workflow{panel}"
            values = form_values(admin.get(path).get_data(as_text=True))
            response = admin.post(path, data=values)
            assert response.status_code == 303, (key, panel, response.get_data(as_text=True)[:800])
        assert body(key) == before, key

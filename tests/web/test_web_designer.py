"""The designer over HTTP: drafts, the form builder, publish/history/diff/republish, packs, audit."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from werkzeug.datastructures import MultiDict

from engine.authoring import designer
from engine.authoring.packs import read_pack, validate_pack
from engine.store.models import Definition, DefinitionVersion, Event, User
from engine.workflow import items

NEW = {
    "kind": "item_type",
    "name": "高空抛物",
    "key": "gaokong",
    "raise_roles": "commissioner",
    "node_kinds": "compound",
}
ROUTES = [
    ("get", "/admin/designer/"),
    ("post", "/admin/designer/new"),
    ("get", "/admin/designer/bell/form"),
    ("post", "/admin/designer/bell/form/add"),
    ("get", "/admin/designer/bell/form/field/summary"),
    ("post", "/admin/designer/bell/form/summary/up"),
    ("post", "/admin/designer/bell/preview"),
    ("get", "/admin/designer/bell/workflow"),
    ("post", "/admin/designer/bell/workflow"),
    ("get", "/admin/designer/bell/routing"),
    ("post", "/admin/designer/bell/routing"),
    ("get", "/admin/designer/bell/json"),
    ("post", "/admin/designer/bell/json"),
    ("get", "/admin/designer/bell/publish"),
    ("post", "/admin/designer/bell/publish"),
    ("get", "/admin/designer/bell/history"),
    ("post", "/admin/designer/bell/republish/1"),
    ("post", "/admin/designer/bell/discard"),
    ("get", "/admin/designer/calendar/gongshu"),
    ("post", "/admin/designer/calendar/gongshu"),
    ("get", "/admin/designer/packs/gongshu.zip"),
    ("post", "/admin/designer/packs/import"),
]


@pytest.mark.parametrize("username", ["xifang", "dept-gaj-user", "lvzhou-yezhu1"])
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_only_admins_reach_the_designer(client, auth, username, method, path):
    auth.login(username)
    assert getattr(client, method)(path).status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get("/admin/designer/")
    assert response.status_code in (302, 303)


@pytest.fixture
def admin(client, auth):
    auth.login("admin")
    return client


def draft(key="gaokong"):
    return Definition.get(Definition.key == key).draft


def test_create_build_publish_history_diff_republish(admin):
    assert admin.get("/admin/designer/").status_code == 200
    response = admin.post("/admin/designer/new", data=NEW)
    assert response.status_code == 303
    assert draft()["workflow"]["initial"] == "open"

    response = admin.post(
        "/admin/designer/gaokong/form/add",
        data={"label": "类别", "name": "category", "kind": "select"},
    )
    assert response.status_code == 303
    response = admin.post(
        "/admin/designer/gaokong/form/field/category",
        data={
            "label": "类别",
            "name": "category",
            "kind": "select",
            "required": "1",
            "options": "坠物\n抛物",
            "value_type": "string",
            "show-0-field": "",
        },
    )
    assert response.status_code == 303
    admin.post(
        "/admin/designer/gaokong/form/add",
        data={"label": "楼层", "name": "floor", "kind": "integer"},
    )
    response = admin.post(
        "/admin/designer/gaokong/form/field/floor",
        data={
            "label": "楼层",
            "name": "floor",
            "kind": "integer",
            "bound-minimum": "1",
            "show-join": "all",
            "show-0-field": "category",
            "show-0-op": "in",
            "show-0-value": "抛物, 坠物",
        },
    )
    assert response.status_code == 303
    floor = draft()["schema"]["properties"]["floor"]
    assert floor == {
        "type": "integer",
        "title": "楼层",
        "minimum": 1,
        "x-show-if": {"in": [{"var": "data.category"}, ["抛物", "坠物"]]},
    }
    assert draft()["schema"]["required"] == ["summary", "category"]

    # Reordering through HTMX returns the builder fragment alone.
    response = admin.post("/admin/designer/gaokong/form/floor/up", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert b'id="builder"' in response.data and b"<html" not in response.data
    assert list(draft()["schema"]["properties"]) == ["summary", "floor", "category"]

    # The preview: a refresh shows the conditional field; a submit shows the messages.
    page = admin.post("/admin/designer/gaokong/preview", data={"category": "抛物", "_refresh": "1"})
    assert b'name="floor"' in page.data and b"field-error" not in page.data
    page = admin.post("/admin/designer/gaokong/preview", data={"category": "抛物", "floor": "0"})
    assert page.data.count(b'class="field-error"') == 2  # summary required, floor below minimum

    assert admin.post("/admin/designer/gaokong/publish").status_code == 303
    definition = Definition.get(Definition.key == "gaokong")
    assert definition.current == 1 and definition.draft is None
    assert DefinitionVersion.get(definition=definition, number=1).published_by.username == "admin"

    # Version 2 drops the floor; the history diffs any two versions.
    body = designer.draft_of(definition)
    del body["schema"]["properties"]["floor"]
    assert (
        admin.post(
            "/admin/designer/gaokong/json", data={"body": json.dumps(body, ensure_ascii=False)}
        ).status_code
        == 303
    )
    assert "floor" in admin.get("/admin/designer/gaokong/publish").get_data(
        as_text=True
    )  # the diff
    assert admin.post("/admin/designer/gaokong/publish").status_code == 303
    page = admin.get("/admin/designer/gaokong/history?a=1&b=2").get_data(as_text=True)
    assert "第 1 版" in page and "第 2 版" in page and "-      &#34;floor&#34;" in page

    response = admin.post("/admin/designer/gaokong/republish/1")
    assert response.status_code == 303
    definition = Definition.get(Definition.key == "gaokong")
    assert definition.current == 3
    v1, v3 = (DefinitionVersion.get(definition=definition, number=n).body for n in (1, 3))
    assert v1 == v3
    assert admin.post("/admin/designer/gaokong/republish/3").status_code == 409

    actions = [
        e.action
        for e in Event.select().where(Event.target == "definition:gaokong").order_by(Event.id)
    ]
    assert actions[0] == "definition.create"
    assert (
        actions.count("definition.draft") >= 6 and actions.count("definition.designer_publish") == 3
    )
    saved = (
        Event.select().where(Event.action == "definition.draft").order_by(Event.id.desc()).first()
    )
    assert saved.actor.username == "admin" and saved.before is not None and saved.after is not None


def test_new_item_type_problems(admin):
    response = admin.post("/admin/designer/new", data={**NEW, "key": "Bad Key"})
    assert response.status_code == 422
    response = admin.post("/admin/designer/new", data={**NEW, "key": "bell"})
    assert response.status_code == 422 and "bell" in response.get_data(as_text=True)


def test_publish_refusal_points_at_the_rule(admin):
    body = designer.draft_of(Definition.get(Definition.key == "bell"))
    body["routing"]["whistle"]["rules"][0]["summon"] = [{"unit": "dept-nowhere"}]
    body["schema"]["properties"]["summary"]["maxLength"] = -1
    admin.post("/admin/designer/bell/json", data={"body": json.dumps(body, ensure_ascii=False)})
    response = admin.post("/admin/designer/bell/publish")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "/admin/designer/bell/routing#rule-whistle-0" in page and "dept-nowhere" in page
    assert "/admin/designer/bell/form/field/summary" in page
    assert Definition.get(Definition.key == "bell").current == 1


def test_json_view_refuses_bad_json_and_key_changes_and_keeps_everything(admin):
    response = admin.post("/admin/designer/bell/json", data={"body": "{nope"})
    assert response.status_code == 422 and "JSON" in response.get_data(as_text=True)
    body = designer.draft_of(Definition.get(Definition.key == "bell"))
    response = admin.post(
        "/admin/designer/bell/json", data={"body": json.dumps({**body, "key": "x"})}
    )
    assert response.status_code == 422
    before = designer.draft_of(Definition.get(Definition.key == "bell"))
    # Saving every structured editor without changes loses nothing (round trip through the forms).
    for tab in ("workflow", "routing"):
        page = admin.get(f"/admin/designer/bell/{tab}").get_data(as_text=True)
        assert admin.post(f"/admin/designer/bell/{tab}", data=form_values(page)).status_code == 303
    field = admin.get("/admin/designer/bell/form/field/category").get_data(as_text=True)
    assert (
        admin.post("/admin/designer/bell/form/field/category", data=form_values(field)).status_code
        == 303
    )
    after = designer.draft_of(Definition.get(Definition.key == "bell"))
    assert after == before


def form_values(html: str) -> MultiDict:
    """What a browser would post for the page's main form, unchanged."""
    from html.parser import HTMLParser

    out: list[tuple[str, str]] = []

    class Parser(HTMLParser):
        select: str | None = None
        textarea: str | None = None
        text = ""

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "input" and a.get("name") and a.get("type") not in ("file",):
                if a.get("type") == "checkbox" and "checked" not in a:
                    return
                out.append(
                    (a["name"], a.get("value") or ("1" if a.get("type") == "checkbox" else ""))
                )
            elif tag == "select":
                self.select = a.get("name")
            elif tag == "option" and self.select and "selected" in a:
                out.append((self.select, a.get("value", "")))
            elif tag == "textarea":
                self.textarea, self.text = a.get("name"), ""

        def handle_endtag(self, tag):
            if tag == "select":
                self.select = None
            elif tag == "textarea" and self.textarea:
                out.append((self.textarea, self.text))
                self.textarea = None

        def handle_data(self, data):
            if self.textarea:
                self.text += data

    Parser().feed(html)
    return MultiDict([(k, v) for k, v in out if k != "csrf_token"])


def test_removing_a_state_with_open_items_is_refused(admin, actor_of):
    from tests.conftest import NOW

    item = items.raise_item(
        actor_of("lvzhou-yezhu1"),
        "bell",
        "lvzhouhuayuan",
        {"category": "治安", "summary": "夜里有陌生人"},
        now=NOW,
    )
    key = item.definition.key
    path = f"/admin/designer/{key}/workflow/state/{item.state}"
    values = form_values(admin.get(path).get_data(as_text=True))
    values.add("delete", "1")  # the panel's delete button
    assert admin.post(path, data=values).status_code == 303
    assert item.state not in draft(key)["workflow"]["states"]
    response = admin.post(f"/admin/designer/{key}/publish")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "未办结事项停留在环节" in page and f"#state-{item.state}" in page


def test_pack_export_and_import(admin, tmp_path):
    response = admin.get("/admin/designer/packs/gongshu.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    assert {
        "pack.json",
        "org.json",
        "items/bell.json",
        "profiles/compound-profile.json",
    } <= names or {"pack.json", "org.json", "items/bell.json"} <= names
    # The exported pack imports again (unchanged: no new versions).
    before = DefinitionVersion.select().count()
    response = admin.post(
        "/admin/designer/packs/import",
        data={"pack": (io.BytesIO(response.data), "gongshu.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    assert DefinitionVersion.select().count() == before

    # A broken pack: the same lines as `sanfang pack validate`.
    bell = json.loads(archive.read("items/bell.json"))
    bell["workflow"]["initial"] = "nowhere"
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as out:
        for name in archive.namelist():
            out.writestr(
                name, json.dumps(bell) if name == "items/bell.json" else archive.read(name)
            )
    folder = tmp_path / "pack"
    zipfile.ZipFile(io.BytesIO(broken.getvalue())).extractall(folder)
    with admin.application.test_request_context():  # the page's language, zh_CN
        expected = validate_pack(read_pack(folder))
    assert expected and any("没有键名为“nowhere”的环节" in line for line in expected)
    response = admin.post(
        "/admin/designer/packs/import",
        data={"pack": (io.BytesIO(broken.getvalue()), "x.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert all(line.replace("'", "&#39;") in page for line in expected)

    response = admin.post(
        "/admin/designer/packs/import",
        data={"pack": (io.BytesIO(b"not a zip"), "x.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as out:
        out.writestr("pack.json", "{}")
        out.writestr("../escape.json", "{}")
    response = admin.post(
        "/admin/designer/packs/import",
        data={"pack": (io.BytesIO(evil.getvalue()), "x.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and not (tmp_path.parent / "escape.json").exists()
    assert Event.select().where(Event.action == "pack.export").count() == 1
    assert User.get(User.username == "admin")


def test_the_designers_list_reads_every_definition_in_a_few_queries(admin, assert_max_queries):
    """The list of definitions says of each whether its draft differs from what is
    published: the published bodies are read in one query, not one per definition (the
    seed pack's 31 made the page run 36 statements)."""
    admin.get("/admin/designer/")  # the first fills per-process caches
    assert Definition.select().where(Definition.current.is_null(False)).count() > 20
    with assert_max_queries(8, "designer list"):
        page = admin.get("/admin/designer/").get_data(as_text=True)
    # each definition says whether its draft differs, as worked out one by one
    changed = sum(designer.has_changes(d) for d in Definition.select())
    assert page.count("有未发布的修改") == changed
    assert page.count("与已发布版本相同") == Definition.select().count() - changed

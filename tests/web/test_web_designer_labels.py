"""No designer page, try-it result or item trace shows an ASCII key where a label exists.

Keys (field names, states, transitions, routing tables and rules, units, roles, the
definition's own) belong in the "advanced" corner; everywhere else the admin and the
workers read the Chinese labels (issue 13).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser
from typing import Any

import pytest

from engine.authoring.designer import draft_of
from engine.store.models import Definition, OrgNode, Pack
from forms.builder import rows_from_schema
from tests.web.test_web_journey import ring_bell

SKIPPED = {"script", "style", "textarea"}
SHOWN_ATTRIBUTES = ("placeholder", "title")


class Visible(HTMLParser):
    """The text a user reads on the page, without what sits under "Advanced"."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[str] = []
        self.hidden = 0  # depth inside skipped elements and advanced corners

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        hides = tag in SKIPPED or (tag == "details" and "advanced" in (a.get("class") or ""))
        if tag in ("input", "br", "img", "meta", "link", "hr", "col"):
            if not self.hidden and a.get("type") != "hidden":
                self.parts += [a[n] or "" for n in SHOWN_ATTRIBUTES if a.get(n)]
            return
        self.stack.append(tag if not hides else f"!{tag}")
        if hides:
            self.hidden += 1
        elif not self.hidden:
            self.parts += [a[n] or "" for n in SHOWN_ATTRIBUTES if a.get(n)]

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            top = self.stack.pop()
            if top.startswith("!"):
                self.hidden -= 1
            if top.lstrip("!") == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = Visible()
    parser.feed(html)
    return "\n".join(parser.parts)


def labelled_keys(body: dict[str, Any]) -> set[str]:
    """Every key of ``body`` that has a label (and so must never show instead of it)."""
    found = {body["key"]}
    schemas = [body.get("schema") or {}]
    workflow = body.get("workflow") or {}
    found |= set(workflow.get("states") or {})
    for t in workflow.get("transitions") or []:
        found.add(t["key"])
        schemas.append(t.get("form") or {})
    for name, table in (body.get("routing") or {}).items():
        found.add(name)
        found |= {r["key"] for r in table.get("rules", [])}
        for rule in table.get("rules", []):
            found |= {u.get("unit") or u.get("role") for u in rule.get("summon", [])}
    for schema in schemas:
        for row in rows_from_schema(schema).rows:
            found.add(row.name)
            found |= {c.name for c in row.children}
    found |= set(Pack.get().roles or {})
    found |= {n.key for n in OrgNode.select().where(OrgNode.kind == "department")}
    return found


def shown_keys(html: str, keys: Iterable[str]) -> list[str]:
    text = visible_text(html)
    return sorted(
        k for k in keys if re.search(rf"(?<![A-Za-z0-9_.-]){re.escape(k)}(?![A-Za-z0-9_-])", text)
    )


@pytest.fixture
def admin(client, auth):
    auth.login("admin")
    return client


def test_the_visible_text_leaves_out_attributes_and_the_advanced_corner():
    html = (
        '<p>飞线 <input name="flying_lead" value="x" placeholder="例如 3-502"></p>'
        '<details class="advanced"><summary>高级</summary><input value="flying_lead">'
        "<code>flying_lead</code></details><script>var flying_lead</script><p>末尾 close</p>"
    )
    assert shown_keys(html, {"flying_lead", "close"}) == ["close"]
    assert "例如 3-502" in visible_text(html)


@pytest.mark.parametrize("key", ["whistle", "bell", "repair", "emergency"])
def test_no_designer_page_shows_a_key_where_a_label_exists(admin, key):
    body = draft_of(Definition.get(Definition.key == key))
    keys = labelled_keys(body)
    pages = [
        "/admin/designer/",
        f"/admin/designer/{key}/form",
        f"/admin/designer/{key}/workflow",
        f"/admin/designer/{key}/routing",
        f"/admin/designer/{key}/publish",
        f"/admin/designer/{key}/history",
    ]
    pages += [
        f"/admin/designer/{key}/form/field/{row.name}"
        for row in rows_from_schema(body["schema"]).rows
    ]
    pages += [
        f"/admin/designer/{key}/transitions/{i}/form"
        for i, t in enumerate(body["workflow"]["transitions"])
        if t.get("form")
    ]
    wrong = {}
    for path in pages:
        response = admin.get(path)
        assert response.status_code == 200, path
        shown = shown_keys(response.get_data(as_text=True), keys)
        if shown:
            wrong[path] = shown
    assert wrong == {}


def test_try_it_speaks_in_labels(admin):
    body = draft_of(Definition.get(Definition.key == "whistle"))
    html = admin.post(
        "/admin/designer/whistle/routing/try",
        data={"_try": "1", "category": "消防通道", "summary": "楼道堵塞", "urgency": "紧急"},
    ).get_data(as_text=True)
    assert 'id="tryit-result"' in html and "消防通道→消防大队" in html
    assert shown_keys(html, labelled_keys(body)) == []
    assert "was true" not in html and "data." not in visible_text(html)


def test_an_items_trace_speaks_in_labels(client, auth):
    item_id = ring_bell(client, auth)
    auth.login("xifang")
    client.post(f"/work/items/{item_id}/t/accept", data={"version": "1"})
    client.post(
        f"/work/items/{item_id}/t/whistle",
        data={"version": "2", "category": "消防通道", "note": "3幢楼道被电瓶车堵塞"},
    )
    html = client.get(f"/work/items/{item_id}").get_data(as_text=True)
    assert "分派" in html and "依据" in html
    body = draft_of(Definition.get(Definition.key == "bell"))
    assert shown_keys(html, labelled_keys(body)) == []


def test_an_items_trace_names_a_file_field_by_its_title_in_the_profile(client, auth):
    """A routing rule reading the compound's file (node.profile.households) is told by the
    field's title in the compound profile definition, not as "a field of the file"."""
    item_id = ring_bell(client, auth)
    auth.login("xifang")
    client.post(f"/work/items/{item_id}/t/accept", data={"version": "1"})
    client.post(
        f"/work/items/{item_id}/t/whistle",
        data={"version": "2", "category": "消防通道", "note": "3幢楼道被电瓶车堵塞"},
    )
    text = visible_text(client.get(f"/work/items/{item_id}").get_data(as_text=True))
    assert "大型小区消防通道→物业" in text
    assert "档案：户数 = 620" in text  # what the rule read, named by the profile's title
    assert "小区档案中的一项" not in text and "households" not in text


def test_the_admin_pages_hover_no_key_or_version(admin):
    """Tooltips are text a user reads too: the admin's lists and a definition's page named
    each definition's, pack's and role's key (and the pack's version) on hover."""
    packs = list(Pack.select())
    keys = {d.key for d in Definition.select()} | {p.key for p in packs}
    keys |= {role for p in packs for role in p.roles or {}}
    versions = {p.version for p in packs if p.version}
    for path in ["/admin/", *[f"/admin/definitions/{d.key}" for d in Definition.select()]]:
        response = admin.get(path)
        assert response.status_code == 200, path
        titles = re.findall(r'title="([^"]*)"', response.get_data(as_text=True))
        hovered = {w for t in titles for w in re.split(r"\s+", t)}
        assert not hovered & (keys | versions), (path, hovered & (keys | versions))

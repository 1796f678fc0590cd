"""What the Chinese UI says instead of keys: designer tabs, definition kinds and the
lines of an escalation step on an item's timeline."""

from __future__ import annotations

import re

from pages.extensions import escalation_line


def test_designer_offers_the_form_tab_only_where_there_is_a_form(client, auth):
    auth.login("admin")
    kpi = client.get("/admin/designer/tasks-2021/json").text
    assert "/admin/designer/tasks-2021/form" not in kpi
    assert client.get("/admin/designer/tasks-2021/form").status_code == 404
    bell = client.get("/admin/designer/bell/json").text
    assert "/admin/designer/bell/form" in bell


def test_admin_lists_definition_kinds_in_words(client, auth):
    auth.login("admin")
    page = client.get("/admin/").text
    assert "事项类型" in page and "<td>item_type</td>" not in page


def test_escalation_lines_are_translated_with_role_labels(app):
    from engine.org.scope import role_labels

    roles = role_labels()  # what the timeline passes: the pack's roles
    with app.test_request_context("/?lang=zh_CN"):
        assert (
            escalation_line("notify assignee,supervisor,raiser: 3", roles)
            == f"已通知被召集单位、{roles['supervisor']}、发起人:3 人"
        )
        assert escalation_line("priority 1 → 2", roles) == "提升优先级:1 → 2"
        assert escalation_line("urged", roles) == "标记督办"
        assert escalation_line("urged: 环节超时", roles) == "标记督办:环节超时"
        assert escalation_line("summon escalate: -", roles) == "召集上级(上级召集表):无新增单位"
        tables = {"escalate": {"label": "升级召集"}}
        assert (
            escalation_line("summon escalate: 区城管局", roles, tables)
            == "召集上级(升级召集):区城管局"
        )
        assert escalation_line("something else", roles) == "something else"
        # What steps store now: a code and its parameters.
        assert (
            escalation_line(
                {"code": "notify", "roles": ["assignee", "supervisor"], "count": 2}, roles
            )
            == f"已通知被召集单位、{roles['supervisor']}:2 人"
        )
        assert (
            escalation_line({"code": "priority", "from": 1, "to": 2}, roles) == "提升优先级:1 → 2"
        )
        assert escalation_line({"code": "urge", "message": None}, roles) == "标记督办"
        assert (
            escalation_line(
                {"code": "summon", "table": "escalate", "units": ["区三方办", "区城管局"]},
                roles,
                tables,
            )
            == "召集上级(升级召集):区三方办、区城管局"
        )
    with app.test_request_context("/?lang=en"):
        assert escalation_line("urged", roles) == "marked as urged"


def test_definition_kinds_are_named_in_chinese_on_the_admin_and_designer_lists(client, auth):
    """Every kind the pack has (votes, meetings, statements, listings ...) reads as a word."""
    auth.login("admin")
    for path in ("/admin/", "/admin/designer/"):
        page = client.get(path).get_data(as_text=True)
        cells = re.findall(r"<td>([^<]*)</td>", page)
        for kind in ("poll", "meeting", "opinion", "disclosure", "listing", "item_type"):
            assert kind not in cells, (path, kind)
        assert "议事会" in page and "经营性收支公示" in page


def _visible_text(page: str) -> str:
    """What a reader sees: no tags, no attributes, no script, no folded-away data view."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.DOTALL)
    page = re.sub(r"<details\b.*?</details>", " ", page, flags=re.DOTALL)
    return re.sub(r"<[^>]+>", " ", page)


def test_admin_pages_name_definitions_and_versions_in_words(client, auth):
    """Keys, "v3" and digests stay out of sight: names, kinds and "第 3 版" instead."""
    auth.login("admin")
    for path in (
        "/admin/",
        "/admin/definitions/bell",
        "/admin/definitions/bell/v/1",
        "/admin/designer/",
        "/admin/designer/bell/history",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        text = _visible_text(response.get_data(as_text=True))
        assert not re.search(r"\bv\d+\b", text), (path, re.findall(r".{20}\bv\d+\b.{20}", text))
        assert "第 1 版" in text, path
        if "/designer/" in path:  # the designer shows keys under 高级, not versions as "v1"
            continue
        for key in ("tasks-2021", "bell", "gongshu", "1.0.0"):
            assert not re.search(rf"(?<![\w-]){re.escape(key)}(?![\w-])", text), (path, key)
    version = _visible_text(client.get("/admin/definitions/bell/v/1").get_data(as_text=True))
    assert "小区协商铃" in version and "问题收起" in version and "collected" not in version

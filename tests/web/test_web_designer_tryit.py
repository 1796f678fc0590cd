"""The routing "try it" panel: sample answers through the form, the draft's tables decide."""

from __future__ import annotations

import pytest

from engine.authoring import designer
from engine.core import clock
from engine.store.models import User


@pytest.fixture
def admin(client, auth):
    auth.login("admin")
    return client


def test_the_routing_page_offers_the_try_panel_with_the_real_form(admin):
    page = admin.get("/admin/designer/whistle/routing").get_data(as_text=True)
    assert 'id="tryit"' in page and 'name="category"' in page and 'id="tryit-node"' in page


def test_trying_answers_shows_the_rule_that_fires_and_why_the_others_did_not(admin):
    response = admin.post(
        "/admin/designer/whistle/routing/try",
        headers={"HX-Request": "true"},
        data={
            "_try": "1",
            "_table": "departments",
            "category": "治安",
            "summary": "打架",
            "urgency": "一般",
        },
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="tryit-result"' in html
    assert 'id="try-departments-public-security"' in html
    fired = html.split('id="try-departments-public-security"')[1].split("</tr>")[0]
    assert "公安" in html.split('id="summoned-departments"')[1].split("</p>")[0]
    assert (
        fired.startswith(' class="fired"')
        or 'class="fired" id="try-departments-public-security"' in html
    )
    skipped = html.split('id="try-departments-illegal-building"')[1].split("</tr>")[0]
    # The reason in words from the labels: the rule's name, the field's label, the option.
    assert "违章搭建→综合执法" in skipped and "吹哨事项类别 等于 违章搭建" in skipped
    assert "不成立" in skipped and "data.category" not in skipped
    after = html.split('id="try-departments-food-safety"')[1].split("</tr>")[0]
    assert "未检查" in after  # hit policy first


def test_no_rule_firing_summons_the_default(admin):
    html = admin.post(
        "/admin/designer/whistle/routing/try",
        data={
            "_try": "1",
            "_table": "departments",
            "category": "其他",
            "summary": "x",
            "urgency": "一般",
        },
    ).get_data(as_text=True)
    assert (
        "没有规则命中" in html
        and "三方办" in html.split('id="summoned-departments"')[1].split("</p>")[0]
    )


def test_the_draft_is_tried_and_a_failing_rule_is_shown_with_its_path(admin, app):
    with app.app_context():
        body = designer.draft_of(designer.definition_of("whistle"))
        body["routing"]["departments"]["rules"].insert(
            0,
            {
                "key": "broken",
                "when": {"+": [{"var": "data.category"}, 1]},
                "summon": [{"unit": "dept-gaj"}],
            },
        )
        body["routing"]["departments"]["rules"][1]["when"] = {
            "==": [{"var": "data.category"}, "治安"]
        }
        designer.save_draft(User.get(User.username == "admin"), "whistle", body, now=clock.now())
    html = admin.post(
        "/admin/designer/whistle/routing/try",
        data={
            "_try": "1",
            "_table": "departments",
            "category": "治安",
            "summary": "x",
            "urgency": "一般",
        },
    ).get_data(as_text=True)
    row = html.split('id="try-departments-broken"')[1].split("</tr>")[0]
    assert "/routing/departments/rules/0/when/+/0" in row and "&#39;治安&#39; 不是数字" in row
    assert (
        "有规则运行出错" in html
        and "三方办" in html.split('id="summoned-departments"')[1].split("</p>")[0]
    )
    # the draft's own rule (not the published version's) is what ran
    assert "data.category == '治安'" in html or "illegal-building" in html


def test_a_refresh_rerenders_the_fields_without_trying(admin):
    html = admin.post(
        "/admin/designer/whistle/routing/try", data={"_refresh": "1", "category": "治安"}
    ).get_data(as_text=True)
    assert 'id="tryit-body"' in html and 'id="tryit-result"' not in html


def test_only_admins_try(client, auth):
    auth.login("xifang")
    assert client.post("/admin/designer/whistle/routing/try", data={"_try": "1"}).status_code == 403

"""An admin builds 高空抛物 in the designer (no JSON typed), publishes it; a commissioner raises one
and sees 区公安分局 summoned."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser
KEEP = os.environ.get("SANFANG_SHOTS")  # a folder to copy the screenshots to


def test_admin_designs_publishes_and_a_worker_raises(
    page: Any, live_server: Any, login: Any, shot: Any
) -> None:
    def snap(name: str) -> None:
        path = shot(name)
        if KEEP:
            Path(KEEP).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(KEEP) / path.name)

    login("admin")
    page.goto(live_server.url("/admin/designer/"))
    page.fill("#new-name", "高空抛物")  # the key is derived: gaokongpaowu
    snap("designer-index")
    with page.expect_navigation():
        page.get_by_role("button", name="创建草稿").click()
    expect(page.locator("#field-rows")).to_contain_text("摘要")

    # A choice field with two options.
    page.fill("#add-label", "类别")  # the field's name is derived: leibie
    page.select_option("#add-kind", "select")
    with page.expect_navigation():
        page.get_by_role("button", name="添加字段").click()
    page.fill("#f-options", "坠物\n抛物")
    page.check("#f-required")
    with page.expect_navigation():
        page.get_by_role("button", name="保存字段").click()

    # A floor shown only when the category is 抛物: a condition row, no JSON Logic.
    page.fill("#add-label", "楼层")  # louceng
    page.select_option("#add-kind", "integer")
    with page.expect_navigation():
        page.get_by_role("button", name="添加字段").click()
    page.fill("#f-minimum", "1")
    page.select_option("select[name=show-0-field]", label="类别")
    page.select_option("select[name=show-0-op]", "==")
    page.select_option("input[name=show-0-value] + select", "抛物")  # one of its options
    snap("field-condition")
    with page.expect_navigation():
        page.get_by_role("button", name="保存字段").click()
    expect(page.locator("#f-louceng")).to_contain_text("类别 等于 抛物")

    # The live preview: the floor appears when 抛物 is chosen; submitting shows the messages.
    preview = page.locator("#preview")
    expect(preview.locator("input[name=louceng]")).to_have_count(0)
    preview.locator("select[name=leibie]").select_option("抛物")
    expect(preview.locator("input[name=louceng]")).to_have_count(1)
    preview.get_by_role("button", name="试提交").click()
    expect(preview.locator(".field-error").first).to_be_visible()
    snap("builder-preview")

    # Reorder: the floor moves above the category (HTMX swaps the builder in place).
    page.get_by_role("button", name="上移 楼层").click()
    expect(page.locator("#field-rows tbody tr").nth(1)).to_contain_text("楼层")
    page.get_by_role("button", name="下移 楼层").click()
    expect(page.locator("#field-rows tbody tr").nth(2)).to_contain_text("楼层")

    # Routing: a table and a rule 类别 = 抛物 → 区公安分局, report in within 24 hours.
    with page.expect_navigation():
        page.get_by_role("link", name="分派").click()
    page.fill("#new-table", "whistle")
    with page.expect_navigation():
        page.get_by_role("button", name="保存分派").click()
    page.fill("#t0-r0-label", "抛物→公安")
    page.select_option("select[name=t0-r0-when-0-field]", label="类别")
    page.select_option("input[name=t0-r0-when-0-value] + select", "抛物")
    page.fill("#t0-r0-summon input[type=search]", "公安")
    page.locator("#t0-r0-summon-boxes label:visible", has_text="区公安分局").locator(
        "input"
    ).check()
    page.fill("#t0-r0-report_hours", "24")
    with page.expect_navigation():
        page.get_by_role("button", name="保存分派").click()
    expect(page.locator("#t0-r0-label")).to_have_value("抛物→公安")
    snap("routing")

    # Workflow: raising an item summons through that table.
    with page.expect_navigation():
        page.get_by_role("link", name="流程").click()
    page.select_option("#oc-summon", "whistle")
    with page.expect_response(lambda r: r.url.endswith("/workflow") and r.status == 200):
        page.get_by_role("button", name="保存流程").click()  # the panel saves in place (HTMX)
    expect(page.locator("#oc-summon")).to_have_value("whistle")
    snap("workflow")

    with page.expect_navigation():
        page.get_by_role("link", name="发布", exact=True).click()
    snap("publish")
    with page.expect_navigation():
        page.locator("#publish").click()
    expect(page.locator(".flash")).to_contain_text("版本 1")
    snap("history")

    # The commissioner of 绿洲花园 raises one.
    page.context.clear_cookies()
    login("xifang")
    page.goto(live_server.url("/work/new/gaokongpaowu?node=lvzhouhuayuan"))
    page.fill("input[name=summary]", "3幢高空抛物砸坏车辆")
    page.select_option("select[name=leibie]", "抛物")
    expect(page.locator("input[name=louceng]")).to_have_count(1)
    page.fill("input[name=louceng]", "12")
    with page.expect_navigation():
        page.get_by_role("button", name="提交").click()
    expect(page).to_have_url(re.compile(r"/work/items/\d+$"))
    expect(page.locator("#assignments")).to_contain_text("区公安分局")
    snap("worker-item")
    assert not live_server.errors


def test_admin_edits_a_transition_form_field(
    page: Any, live_server: Any, login: Any, shot: Any
) -> None:
    """The 评价 transition's own form opens in the same builder; a field is renamed and a
    column-free condition with a nested group is built, no JSON typed."""

    def snap(name: str) -> None:
        path = shot(name)
        if KEEP:
            Path(KEEP).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(KEEP) / path.name)

    login("admin")
    page.goto(live_server.url("/admin/designer/bell/workflow"))
    page.locator("#tr-link-5").click()  # one transition at a time, in the panel (HTMX)
    expect(page.locator("#wf-panel")).to_have_attribute("data-panel", "transition-5")
    expect(page.locator("#tr-5-branches")).to_be_visible()
    snap("workflow-transition-extras")
    with page.expect_navigation():
        page.locator("#tr-5-form").click()
    expect(page.locator("#builder-title")).to_contain_text("评价")
    with page.expect_navigation():
        page.get_by_role("link", name="评价意见").click()
    page.fill("#f-label", "评价说明")
    # Shown when 满意度 ≤ 2, or (a group) 满意度 is 3 and nothing else.
    page.select_option("select[name=show-join]", "any")
    page.select_option("select[name=show-0-field]", "satisfaction")
    page.select_option("select[name=show-0-op]", "<=")
    page.select_option("input[name=show-0-value] + select", "不满意")
    page.select_option("select[name=show-2-0-field]", "satisfaction")
    page.select_option("select[name=show-2-0-op]", "==")
    page.select_option("input[name=show-2-0-value] + select", "基本满意")
    snap("transition-field-nested-condition")
    with page.expect_navigation():
        page.get_by_role("button", name="保存字段").click()
    expect(page.locator("#f-comment")).to_contain_text("评价说明")
    preview = page.locator("#preview")
    expect(preview.locator("textarea[name=comment]")).to_have_count(0)
    preview.locator("input[name=satisfaction][value='2']").check()
    expect(preview.locator("textarea[name=comment]")).to_have_count(1)
    snap("transition-form-builder")
    assert not live_server.errors


def test_a_panel_deletes_a_transition_only_when_the_admin_says_yes(
    page: Any, live_server: Any, login: Any
) -> None:
    """The transition panel's delete button asks first, though the panel saves by HTMX (its
    request leaves before the submit event reaches the page's own confirm)."""
    login("admin")
    page.goto(live_server.url("/admin/designer/bell/workflow"))
    page.locator("#diagram svg .wf-edge").first.click()  # an arrow opens its transition
    expect(page.locator("#wf-panel")).to_have_attribute("data-panel", re.compile("^transition-"))
    rows = page.locator("#transition-list li")
    expect(rows).to_have_count(8)  # seven transitions and "add"
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.locator("#tr-delete").click()
    page.wait_for_timeout(500)
    expect(rows).to_have_count(8)
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    page.locator("#tr-delete").click()
    expect(rows).to_have_count(7)
    assert asked == ["确定删除这个流转吗？"] * 2
    expect(page.locator("#wf-panel")).to_have_attribute("data-panel", "settings")

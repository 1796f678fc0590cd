"""The commissioner adds a task-list row (任务清单) with an evidence photo through the
generated form, marks it done, and the street supervisor sees it in the roll-up."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser

TASK = "加装电梯意见征集"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_commissioner_adds_and_finishes_a_row_the_street_sees_it(
    page: Any, live_server: Any, login: Any, shot: Any
) -> None:
    from engine.store.models import OrgNode
    from engine.store.tables import ChecklistRow

    with live_server.db():
        community = OrgNode.get(OrgNode.key == "lvzhouhuayuan").parent.key
    login("xifang")
    page.goto(live_server.url("/lists/c/lvzhouhuayuan"))
    tasks = page.locator("#list-task-list")
    expect(tasks.locator(".progress")).to_contain_text("0/0")
    with page.expect_navigation():
        tasks.get_by_role("link", name="添加一行").click()
    expect(page).to_have_url(re.compile(r"/lists/c/lvzhouhuayuan/task-list/new$"))

    form = page.locator("#row-form")
    # The status re-renders the field block (受阻 asks for a reason): choose it first.
    form.get_by_label("受阻", exact=True).check()
    expect(form.locator("textarea[name=blocker]")).to_be_visible()
    form.get_by_label("推进中", exact=True).check()
    expect(form.locator("textarea[name=blocker]")).to_have_count(0)
    form.locator("[name=content]").fill(TASK)
    form.locator("select[name=owner_unit]").select_option("小区党组织")
    form.locator("input[name=deadline]").fill("2099-12-31")
    form.locator("input[type=file][name=evidence]").set_input_files(
        files=[{"name": "proof.png", "mimeType": "image/png", "buffer": PNG}]
    )
    shot("new-row")
    with page.expect_navigation():
        form.get_by_role("button", name="保存").click()
    expect(page).to_have_url(re.compile(r"/lists/c/lvzhouhuayuan$"))
    row = tasks.locator("tbody tr", has_text=TASK)
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(3)).to_have_text("推进中")
    expect(row.locator("td").nth(4)).to_have_text("1")  # one evidence photo
    expect(tasks.locator(".progress")).to_contain_text("0/1")
    shot("row-added")

    with page.expect_navigation():
        row.get_by_role("link", name="编辑").click()
    form = page.locator("#row-form")
    expect(form.locator(".sf-attachment input")).to_be_checked()  # the photo is kept
    form.get_by_label("已完成", exact=True).check()
    expect(form.locator("[name=done_note]")).to_be_visible()
    form.locator("[name=done_note]").fill("征集完毕")
    with page.expect_navigation():
        form.get_by_role("button", name="保存").click()
    expect(tasks.locator("tbody tr", has_text=TASK).locator("td").nth(3)).to_have_text("已完成")
    expect(tasks.locator(".progress")).to_contain_text("1/1")
    shot("row-done")
    with live_server.db():
        saved = ChecklistRow.get()
        assert (
            saved.done
            and saved.data["done_note"] == "征集完毕"
            and len(saved.data["evidence"]) == 1
        )

    page.context.clear_cookies()
    login("chaohui-ducha")
    page.goto(live_server.url("/lists/rollup/chaohui"))
    expect(page.locator(f"tr[data-node={community}] td").last).to_have_text("0")
    expect(page.locator(f"tr[data-node={community}] td").nth(1)).to_have_text("1/1")
    with page.expect_navigation():
        page.locator(f"tr[data-node={community}] a").click()
    compound = page.locator("tr[data-node=lvzhouhuayuan] td")
    expect(compound.nth(1)).to_have_text("1/1")
    shot("rollup")
    assert not live_server.errors

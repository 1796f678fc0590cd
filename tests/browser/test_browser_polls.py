"""A vote end to end in a real browser, CSRF on: the committee opens it, two owners vote on a
phone-sized screen (390×844), a paper ballot is entered with its photo, the vote closes and
the result shows quorum and passing by area and by headcount."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.polls_support import PNG, make_households, units_of

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def sign_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(live_server.url("/login"))
    page.fill("#username", username)
    page.fill("#password", "demo1234")
    with page.expect_navigation():
        page.locator("form:has(#password) button").click()
    assert "/login" not in page.url


def test_a_vote_from_opening_to_result(
    page: Any, browser: Any, live_server: Any, login: Any, shot: Any, tmp_path: Path
) -> None:
    with live_server.db():
        units = units_of(3)
        units[0]["account"] = "lvzhou-yezhu1"
        units[1]["account"] = "lvzhou-yezhu2"
        make_households(units)

    login("lvzhouhuayuan-ywh")
    page.goto(live_server.url("/polls/c/lvzhouhuayuan"))
    page.fill("#poll-title", "更新小区门禁系统")
    page.locator("#poll-category").select_option("fund-use")
    with page.expect_navigation():
        page.locator("#poll-open").click()
    expect(page.locator("h1")).to_have_text("更新小区门禁系统")
    poll_url = page.url
    shot("committee-opened")

    for owner, choice in (("lvzhou-yezhu1", "同意"), ("lvzhou-yezhu2", "反对")):
        phone = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True)
        try:
            mobile = phone.new_page()
            sign_in(mobile, live_server, owner)
            mobile.goto(live_server.url("/r/"))
            with mobile.expect_navigation():
                mobile.get_by_role("link", name="更新小区门禁系统").click()  # tap 1
            button = mobile.get_by_role("button", name=choice)
            box = button.bounding_box()
            # one thumb-wide button per option, within the screen
            assert box and 300 <= box["width"] <= PHONE["width"] and box["height"] >= 40
            with mobile.expect_navigation():
                button.click()  # tap 2
            expect(mobile.locator(".notice").first).to_contain_text(choice)
            mobile.screenshot(path=str(tmp_path / f"phone-{owner}.png"), full_page=True)
        finally:
            phone.close()

    photo = tmp_path / "ballot.png"
    photo.write_bytes(PNG)
    page.goto(poll_url)
    form = page.locator("#paper-ballot")
    form.locator("input[name=choices][value=yes]").check()
    form.locator("#paper-photo").set_input_files(str(photo))
    with page.expect_navigation():
        form.locator("#paper-save").click()
    expect(page.locator("#ballots")).to_contain_text("纸质选票")
    expect(page.locator("#ballots a", has_text="照片")).to_have_count(1)
    shot("paper-entered")

    with page.expect_navigation():
        page.locator("#poll-close").click()
    result = page.locator("#result")
    expect(result).to_contain_text("表决结果")
    expect(result).to_contain_text("参与表决达到法定比例")
    expect(result).to_contain_text("通过")
    rows = result.locator("tbody").first.locator("tr")
    expect(rows).to_have_count(4)  # area and headcount, taking part and agreeing
    expect(rows.nth(0)).to_contain_text("100.00%")
    expect(rows.nth(2)).to_contain_text("66.67%")
    expect(rows.nth(2)).to_contain_text("超过 1/2")
    shot("result")
    assert live_server.errors == []

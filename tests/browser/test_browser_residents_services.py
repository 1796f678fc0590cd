"""On a phone (390×844): a resident reads the compound's statement of accounts and asks
about a line; neighbours post a help request and take it up. Real browser, CSRF on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Any, live_server: Any, tmp_path: Path) -> Iterator[Any]:
    """A phone-sized page factory: ``phone(username)`` logs in a fresh context."""
    contexts = []
    shots = tmp_path / "shots"
    shots.mkdir()

    def open_as(username: str) -> Any:
        context = browser.new_context(
            locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True
        )
        context.set_default_timeout(5_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(live_server.url("/login"))
        page.fill("#username", username)
        page.fill("#password", "demo1234")
        with page.expect_navigation():
            page.locator("form:has(#password) button").click()
        assert "/login" not in page.url
        page.shots = shots
        return page

    yield open_as
    for context in contexts:
        context.close()


def fits_the_phone(page: Any) -> None:
    """Nothing wider than the screen: no sideways scrolling."""
    page.wait_for_load_state()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide"


def publish_statement(live_server: Any) -> int:
    from engine.org.actors import actor_for
    from engine.residents import disclosures as d
    from engine.store.models import OrgNode, User

    now = dt.datetime(2026, 10, 10, 2, 0)
    with live_server.db():
        wy = actor_for(User.get(User.username == "lvzhouhuayuan-wy"))
        ywh = actor_for(User.get(User.username == "lvzhouhuayuan-ywh"))
        st = d.start(
            wy,
            "operating-accounts",
            OrgNode.get(OrgNode.key == "lvzhouhuayuan"),
            "2026-Q3",
            now=now,
        )
        d.add_line(
            wy,
            st,
            {
                "section": "income",
                "category": "广告",
                "label": "电梯轿厢广告位租金",
                "amount": "18600",
            },
            now=now,
        )
        d.add_line(
            wy,
            st,
            {
                "section": "income",
                "category": "停车",
                "label": "地面临时停车收费",
                "amount": "42350.50",
            },
            now=now,
        )
        d.add_line(
            wy,
            st,
            {
                "section": "expense",
                "category": "税费",
                "label": "增值税及附加",
                "amount": "2213.40",
            },
            now=now,
        )
        d.submit(wy, st, now=now)
        d.confirm(ywh, st, now=now)
        return int(st.id)


def test_read_a_statement_and_ask_about_a_line(phone: Any, live_server: Any) -> None:
    statement_id = publish_statement(live_server)
    page = phone("lvzhou-yezhu1")
    page.goto(live_server.url("/r/"))
    page.get_by_role("link", name="财务公开").click()
    expect(page.locator("h1")).to_have_text("财务公开")
    page.get_by_role("link", name="2026年第3季度 经营性收支公示").click()
    expect(page.locator("h1")).to_have_text("2026年第3季度 经营性收支公示")
    expect(page.locator(".totals")).to_contain_text("¥58,737.10")  # 18600 + 42350.50 − 2213.40
    expect(page.locator("svg.money-bars")).to_be_visible()
    fits_the_phone(page)
    page.screenshot(path=str(page.shots / "statement.png"), full_page=True)

    line = page.locator("li", has_text="地面临时停车收费")
    line.get_by_role("link", name="我要提问").click()
    expect(page.locator("h1")).to_have_text("我要提问")
    page.get_by_label("您的问题").fill("临时停车收费是哪几个月的?")
    fits_the_phone(page)
    page.get_by_role("button", name="发送提问").click()
    expect(page.locator(".flash")).to_contain_text("您的提问已发出")
    expect(page.locator("h1")).to_contain_text("地面临时停车收费")
    expect(page.locator(".pill.big")).to_have_text("待答复")
    page.screenshot(path=str(page.shots / "question.png"), full_page=True)
    assert live_server.errors == []

    with live_server.db():
        from engine.store.models import Assignment, Item

        item = Item.get()
        assert [a.role for a in Assignment.select().where(Assignment.item == item)] == ["property"]
    page.goto(live_server.url(f"/r/accounts/{statement_id}"))
    expect(page.locator("li", has_text="地面临时停车收费")).to_contain_text("已有1人提问")


def test_post_and_take_up_a_help_request(phone: Any, live_server: Any) -> None:
    asker = phone("lvzhou-yezhu1")
    asker.goto(live_server.url("/r/"))
    asker.get_by_role("link", name="邻里互助").click()
    asker.get_by_role("link", name="我要求助").click()
    asker.get_by_label("类别").select_option("代买代取")
    asker.get_by_label("一句话说明").fill("周六上午帮忙去药店取降压药")
    asker.get_by_label("地点").fill("3幢2单元")
    fits_the_phone(asker)
    asker.get_by_role("button", name="发布").click()
    expect(asker.locator("h1")).to_have_text("周六上午帮忙去药店取降压药")
    expect(asker.locator(".pill.big")).to_have_text("等待响应")
    asker.screenshot(path=str(asker.shots / "posted.png"), full_page=True)

    helper = phone("lvzhou-yezhu2")
    helper.goto(live_server.url("/r/help"))
    helper.get_by_role("link", name="周六上午帮忙去药店取降压药").click()
    # Measure the request's own page, not the list while the click navigates away.
    expect(helper.locator("h1")).to_have_text("周六上午帮忙去药店取降压药")
    fits_the_phone(helper)
    button = helper.get_by_role("button", name="我来帮忙")
    box = button.bounding_box()
    assert box["height"] >= 44, box  # a finger's target
    button.click()
    expect(helper.locator(".flash")).to_contain_text("已通知对方")
    expect(helper.locator(".pill.big")).to_have_text("已接单")
    helper.get_by_role("button", name="已经完成，确认").click()
    expect(helper.locator(".listing-actions")).to_contain_text("等待对方确认")

    asker.reload()
    expect(asker.locator(".pill.big")).to_have_text("已接单")
    asker.get_by_role("button", name="已经完成，确认").click()
    expect(asker.locator(".pill.big")).to_have_text("已办结")
    asker.get_by_label("5星").check()
    asker.get_by_role("button", name="评价").click()
    expect(asker.locator(".flash")).to_contain_text("谢谢您的评价")
    asker.screenshot(path=str(asker.shots / "done.png"), full_page=True)
    assert live_server.errors == []

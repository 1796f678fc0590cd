"""The commissioner (专员) accepts a bell, summons the three parties, then blows the whistle (吹哨)."""

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

TITLE = "5幢楼顶违章搭建阳光房"
MARKER = "window.__sfMarker"


def is_htmx_post(response: Any) -> bool:
    request = response.request
    return request.method == "POST" and request.headers.get("hx-request") == "true"


@pytest.fixture
def bell(live_server: Any) -> int:
    """A bell rung by a resident of 绿洲花园, through the same service the pages call."""
    from engine.core import clock
    from engine.org.actors import actor_for
    from engine.store.models import User
    from engine.workflow import items

    with live_server.db():
        resident = actor_for(User.get(User.username == "lvzhou-yezhu1"))
        data = {"category": "违章搭建", "summary": TITLE, "building": "5幢"}
        item = items.raise_item(resident, "bell", "lvzhouhuayuan", data, now=clock.now())
        return int(item.id)


def test_commissioner_accepts_and_whistles(
    page: Any, live_server: Any, login: Any, shot: Any, bell: int
) -> None:
    login("xifang")
    page.goto(live_server.url("/work/"))
    row = page.locator("#inbox-rows tr", has_text=TITLE)
    expect(row).to_have_count(1)
    expect(row.locator(".pill")).to_have_text("问题收起")
    shot("inbox")

    with page.expect_navigation():
        row.get_by_role("link", name=TITLE).click()
    expect(page).to_have_url(re.compile(rf"/work/items/{bell}$"))
    expect(page.locator(".pill.big")).to_have_text("问题收起")
    expect(page.locator("#assignments .assignment")).to_have_count(0)
    shot("item-collected")

    with page.expect_navigation():
        page.locator("#offers").get_by_role("button", name=re.compile("^受理")).click()
    expect(page.locator(".pill.big")).to_have_text("专员联络")
    summoned = page.locator("#assignments .assignment")
    expect(summoned).to_have_count(3)
    for role in ("party", "committee", "property"):
        expect(summoned.filter(has_text=_role_label(live_server, role))).to_have_count(1)
    shot("three-parties-summoned")

    # The whistle has a form: it opens in place, without leaving the page.
    page.evaluate(f"{MARKER} = 'kept'")
    page.locator("#offers").get_by_role("link", name="吹哨").click()
    whistle = page.locator("#transition-panel #transition-whistle")
    expect(whistle).to_be_visible()
    assert page.evaluate(MARKER) == "kept", "the whistle form was not opened in place"
    shot("whistle-form")

    whistle.get_by_label("违章搭建").check()
    whistle.locator("textarea[name=note]").fill("5幢楼顶新建阳光房,请执法局到场认定并处置")
    with page.expect_navigation(), page.expect_response(is_htmx_post) as posted:
        whistle.get_by_role("button", name="吹哨").click()
    assert posted.value.status == 204, posted.value.text()
    assert posted.value.headers.get("hx-redirect", "").endswith(f"/work/items/{bell}")
    expect(page).to_have_url(re.compile(rf"/work/items/{bell}$"))
    expect(page.locator(".pill.big")).to_have_text("一表到底")
    expect(summoned).to_have_count(4)
    expect(summoned.filter(has_text="区综合行政执法局")).to_have_count(1)
    shot("zhifa-summoned")
    assert not live_server.errors


def _role_label(live_server: Any, role: str) -> str:
    """The pack's label of a role, as the page shows it."""
    from engine.org.scope import role_labels

    with live_server.db():
        return role_labels()[role]

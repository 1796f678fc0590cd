"""A resident answers an opinion collection (征求意见) on a phone-sized screen, CSRF on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def is_refresh(response: Any) -> bool:
    request = response.request
    return request.method == "POST" and request.headers.get("hx-request") == "true"


def test_resident_answers_an_opinion_collection_on_a_phone(
    page: Any, live_server: Any, login: Any, shot: Any
) -> None:
    from engine.core import clock
    from engine.decisions import opinions
    from engine.org.actors import actor_for
    from engine.store.decision_tables import Opinion
    from engine.store.models import User

    with live_server.db():
        committee = actor_for(User.get(User.username == "lvzhouhuayuan-ywh"))
        collection = opinions.open_collection(
            committee,
            "opinion",
            "lvzhouhuayuan",
            {"title": "非机动车棚改造方案", "description": "拟将2幢旁空地改造为充电车棚"},
            now=clock.now(),
        )
    page.set_viewport_size(PHONE)
    login("lvzhou-yezhu1")
    page.goto(live_server.url("/r/"))
    box = page.locator("#opinion-collections")
    expect(box).to_contain_text("非机动车棚改造方案")
    expect(box).to_contain_text("未填写")
    shot("home-asks-opinion")

    box.get_by_role("link", name="非机动车棚改造方案").click()
    form = page.locator("#opinion-form")
    expect(form).to_be_visible()
    expect(form.locator("[name=reason]")).to_have_count(0)  # shown only when against
    page.evaluate("window.__sfMarker = 'kept'")
    with page.expect_response(is_refresh) as refreshed:
        form.get_by_label("反对").check()
    assert refreshed.value.status == 200
    assert page.evaluate("window.__sfMarker") == "kept", "reloaded instead of refreshed"
    reason = form.locator("[name=reason]")
    expect(reason).to_be_visible()
    shot("against-asks-why")

    # Against without a reason: the server refuses, naming the field, the choice kept.
    with page.expect_navigation():
        form.locator("button[name=_submit]").click()
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_label("反对")).to_be_checked()
    reason.fill("车棚离1楼住户窗户太近,建议移到围墙边")
    with page.expect_navigation():
        form.locator("button[name=_submit]").click()
    assert page.url.endswith("/r/")
    expect(page.locator("#opinion-collections")).to_contain_text("已填写")
    # Nothing is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot("answered")
    with live_server.db():
        (opinion,) = Opinion.select().where(Opinion.collection == collection.id)
        assert opinion.data == {"stance": "反对", "reason": "车棚离1楼住户窗户太近,建议移到围墙边"}

"""一名党员一幢楼 on a phone (390×844): the compound's party organisation assigns a party
member and a building leader to a building; the save goes by HTMX (the page stays, the
building's card and the coverage refresh), a bad phone is named, nothing overflows."""

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


def test_party_organisation_assigns_a_building_on_a_phone(
    page: Any, live_server: Any, login: Any, shot: Any
) -> None:
    from engine.records import buildings
    from engine.store.models import Event, OrgNode

    with live_server.db():
        compound = OrgNode.get(OrgNode.key == "lvzhouhuayuan")
        first, second = buildings.buildings_of(compound)[:2]
        total = len(buildings.buildings_of(compound))
    page.set_viewport_size(PHONE)
    login("lvzhouhuayuan-dzz")
    page.goto(live_server.url("/lists/c/lvzhouhuayuan/buildings"))
    expect(page.locator("#coverage-party_member b")).to_have_text(f"0/{total}")
    card = page.locator(f"#building-{first.key}")
    card.locator("input[name=party_member]").fill("王建国")
    card.locator("input[name=party_member_phone]").fill("13812345678")
    card.locator("input[name=leader]").fill("李秀英")
    url = page.url
    card.get_by_role("button", name="保存").click()
    expect(card.locator("[role=status]")).to_have_text("已保存。")
    expect(page.locator("#coverage-party_member b")).to_have_text(f"1/{total}")
    expect(page.locator("#coverage-leader b")).to_have_text(f"1/{total}")
    assert page.url == url  # no navigation: HTMX swapped the card
    shot("assigned")

    other = page.locator(f"#building-{second.key}")
    other.locator("input[name=party_member]").fill("赵敏")
    other.locator("input[name=party_member_phone]").fill("12345")
    other.get_by_role("button", name="保存").click()
    expect(other.locator(".error")).to_contain_text("有效")
    expect(page.locator("#coverage-party_member b")).to_have_text(f"1/{total}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a phone"
    shot("bad-phone")
    with live_server.db():
        assert Event.select().where(Event.action == "building.assign").count() == 1
        assert OrgNode.get_by_id(first.id).profile["party_member"] == "王建国"
    assert not live_server.errors

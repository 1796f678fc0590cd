"""A resident rings the compound bell (小区协商铃) in a real browser, CSRF on."""

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

MARKER = "window.__sfMarker"


def is_refresh(response: Any) -> bool:
    """The HTMX POST that re-renders the raise form's fields."""
    request = response.request
    return request.method == "POST" and request.headers.get("hx-request") == "true"


def choose_category(page: Any, value: str) -> None:
    """Pick a category and wait for the HTMX refresh of #raise-fields (no reload)."""
    with page.expect_response(is_refresh) as refreshed:
        page.locator("#raise-form select[name=category]").select_option(value)
    assert refreshed.value.status == 200, refreshed.value.text()
    assert page.evaluate(MARKER) == "kept", "the page was reloaded instead of refreshed in place"


def test_resident_rings_the_bell(page: Any, live_server: Any, login: Any, shot: Any) -> None:
    login("lvzhou-yezhu1")
    page.goto(live_server.url("/r/"))
    expect(page.locator("h1")).to_have_text("绿洲花园")
    shot("resident-home")

    page.get_by_role("link", name="小区协商铃").click()
    form = page.locator("#raise-form")
    expect(form).to_be_visible()
    expect(form.locator("select[name=category]")).to_be_visible()
    expect(form.locator("[name=plate_number]")).to_have_count(0)
    expect(form.locator("[name=building]")).to_have_count(0)
    page.evaluate(f"{MARKER} = 'kept'")
    shot("bell-form")

    choose_category(page, "停车秩序")
    expect(form.locator("[name=plate_number]")).to_be_visible()
    expect(form.locator("[name=building]")).to_have_count(0)
    shot("parking-shows-plate")

    choose_category(page, "违章搭建")
    expect(form.locator("[name=plate_number]")).to_have_count(0)
    expect(form.locator("[name=building]")).to_be_visible()
    expect(form.locator("select[name=category]")).to_have_value("违章搭建")
    form.locator("[name=building]").fill("3幢")
    shot("building-shows-building")

    # The required summary is empty: the server answers with the form and an inline error.
    with page.expect_navigation():
        form.locator("button[name=_submit]").click()
    summary = form.locator("[name=summary]")
    expect(summary).to_have_attribute("aria-invalid", "true")
    summary_id = summary.get_attribute("id")
    error = page.locator(f"#{summary_id}-error")
    expect(error).to_be_visible()
    expect(page.locator(f"#{summary_id}-field")).to_contain_text(error.inner_text())
    expect(summary).to_have_attribute("aria-describedby", re.compile(rf"\b{summary_id}-error\b"))
    # What was answered before is kept, conditional field included.
    expect(form.locator("select[name=category]")).to_have_value("违章搭建")
    expect(form.locator("[name=building]")).to_have_value("3幢")
    shot("summary-required")

    title = "3幢楼顶违章搭建阳光房"
    summary.fill(title)
    with page.expect_navigation():
        form.locator("button[name=_submit]").click()
    expect(page).to_have_url(re.compile(r"/r/items/\d+$"))
    expect(page.locator("h1")).to_have_text(title)
    expect(page.locator(".pill.big")).to_have_text(
        "已收到"
    )  # the state as residents read it (resident_label)
    shot("item-raised")
    assert not live_server.errors

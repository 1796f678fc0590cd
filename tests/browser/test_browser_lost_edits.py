"""A stale transition under HTMX: the 409 form is swapped in place, the typed text kept and
what changed meanwhile shown; sending again then works (htmx 2 drops 4xx by default)."""

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

NOTE = "东门违建车棚需执法局现场认定"
MARKER = "window.__sfMarker"


def is_htmx_post(response: Any) -> bool:
    request = response.request
    return request.method == "POST" and request.headers.get("hx-request") == "true"


def _as(live_server: Any, username: str) -> Any:
    from engine.org.actors import actor_for
    from engine.store.models import User

    return actor_for(User.get(User.username == username))


def test_a_stale_whistle_is_swapped_in_with_the_typed_text(
    page: Any, live_server: Any, login: Any, shot: Any
) -> None:
    from engine.core import clock
    from engine.workflow import items

    with live_server.db():
        item = items.raise_item(
            _as(live_server, "lvzhou-yezhu1"),
            "bell",
            "lvzhouhuayuan",
            {"category": "违章搭建", "summary": "东门违建车棚"},
            now=clock.now(),
        )
        item = items.transition(
            _as(live_server, "xifang"), item.id, "accept", {}, expected=item.lock, now=clock.now()
        )
        item_id, lock = item.id, item.lock
        party = _as(live_server, "lvzhouhuayuan-dzz").user.name

    login("xifang")
    page.goto(live_server.url(f"/work/items/{item_id}"))
    page.evaluate(f"{MARKER} = 'kept'")
    page.locator("#offers").get_by_role("link", name="吹哨").click()
    whistle = page.locator("#transition-panel #transition-whistle")
    expect(whistle).to_be_visible()
    whistle.get_by_label("违章搭建").check()
    whistle.locator("textarea[name=note]").fill(NOTE)

    # While the form is open the party secretary starts handling the item.
    with live_server.db():
        items.transition(
            _as(live_server, "lvzhouhuayuan-dzz"),
            item_id,
            "start",
            {},
            expected=lock,
            now=clock.now(),
        )

    with page.expect_response(is_htmx_post) as posted:
        whistle.get_by_role("button", name="吹哨").click()
    assert posted.value.status == 409
    conflict = whistle.locator("#conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text(party)
    expect(whistle.locator("textarea[name=note]")).to_have_value(NOTE)
    assert page.evaluate(MARKER) == "kept", "the 409 was not swapped in place"
    shot("stale-whistle")

    with page.expect_navigation(), page.expect_response(is_htmx_post) as again:
        whistle.get_by_role("button", name="吹哨").click()
    assert again.value.status == 204
    expect(page).to_have_url(re.compile(rf"/work/items/{item_id}$"))
    expect(
        page.locator("#assignments .assignment").filter(has_text="区综合行政执法局")
    ).to_have_count(1)
    assert not live_server.errors

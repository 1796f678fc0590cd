"""Pages, and htmx driving them, break no rule of the Content-Security-Policy."""

from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = pytest.mark.browser

# Recorded in the page itself: an init script is not subject to the page's policy.
RECORD = """document.addEventListener("securitypolicyviolation", function (e) {
  (window.__csp = window.__csp || []).push(e.violatedDirective + " " + e.blockedURI);
});"""

PAGES = {
    "admin": [
        "/admin/",
        "/admin/tokens",
        "/admin/designer/",
        "/admin/designer/bell/workflow",
        "/admin/webhooks",
    ],
    "chaohui-ducha": [
        "/review/",
        "/review/evaluation",
        "/review/n/lvzhouhuayuan",
        "/review/reassign?from=xifang",
    ],
    "xifang": [
        "/work/",
        "/lists/c/lvzhouhuayuan",
        "/lists/c/lvzhouhuayuan/task-list/new",
        "/notifications",
    ],
    "lvzhou-yezhu1": ["/r/", "/r/new/bell"],
}


def _watch(page: Any) -> list[str]:
    seen: list[str] = []
    page.add_init_script(RECORD)
    page.on(
        "console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None
    )
    return seen


def _violations(page: Any, console: list[str]) -> list[str]:
    return console + list(page.evaluate("window.__csp || []"))


@pytest.mark.parametrize("username", sorted(PAGES))
def test_pages_raise_no_csp_violation(page, live_server, login, username):
    console = _watch(page)
    login(username)
    for path in ["/", *PAGES[username]]:
        response = page.goto(live_server.url(path))
        assert response is not None and response.status < 400, path
        assert "frame-ancestors 'none'" in (response.headers.get("content-security-policy") or "")
        page.wait_for_load_state("load")
        assert not _violations(page, console), f"{path}: {_violations(page, console)}"
    assert not live_server.errors


def test_htmx_and_sanfang_js_work_under_the_policy(page, live_server, login):
    """The reassign page's commissioner select submits itself (sanfang.js, no onchange=),
    and a generated form's conditional fields re-render through htmx."""
    console = _watch(page)
    login("chaohui-ducha")
    page.goto(live_server.url("/review/reassign"))
    with page.expect_navigation():
        page.locator("select[name=from]").select_option("xifang")
    assert re.search(r"from=xifang", page.url)
    page.context.clear_cookies()
    login("xifang")
    page.goto(live_server.url("/lists/c/lvzhouhuayuan/task-list/new"))
    form = page.locator("#row-form")
    with page.expect_response(lambda r: r.request.method == "POST"):
        form.get_by_label("受阻", exact=True).check()
    assert not _violations(page, console)
    assert not live_server.errors

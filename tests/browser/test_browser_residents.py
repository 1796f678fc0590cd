"""The residents' pages on a phone (390×844, and 360 wide): every /r page passes axe-core
(no serious or critical violation), keeps its targets at 44px and its text at 16px or more,
tap-to-call works, 撤销 asks first, and the larger-text choice persists."""

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

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
NARROW = {"width": 360, "height": 740}

# Targets under 44px, text under 16px, and whether the page scrolls sideways.
MEASURE = """() => {
  const visible = (el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.opacity !== '0'; };
  const small = [];
  const targets = 'a[href], button, input:not([type=hidden]), select, textarea, label.file-pick';
  for (const el of document.querySelectorAll(targets)) {
    if (!visible(el) || el.closest('.thumbs')) continue;
    const r = el.getBoundingClientRect();
    // A checkbox or radio is taken with its label: the label is where a thumb presses.
    const box = (el.type === 'checkbox' || el.type === 'radio') ? (el.labels && el.labels[0]) || el : el;
    const b = box.getBoundingClientRect();
    if (b.height < 44 - 0.5 || (el.tagName !== 'INPUT' && b.width < 44 - 0.5))
      small.push(`${el.tagName.toLowerCase()} "${(el.innerText || el.name || '').trim().slice(0, 20)}" `
                 + `${Math.round(b.width)}×${Math.round(b.height)}`);
  }
  const tiny = [];
  for (const el of document.querySelectorAll('main *')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (own && visible(el) && parseFloat(getComputedStyle(el).fontSize) < 16)
      tiny.push(`${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 20)}" ${getComputedStyle(el).fontSize}`);
  }
  return { small, tiny, body: parseFloat(getComputedStyle(document.body).fontSize),
           sideways: document.scrollingElement.scrollWidth > window.innerWidth };
}"""

AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ['violations'] });
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}"""


@pytest.fixture
def phone(browser: Any) -> Any:
    """A phone-sized page; the CSP is bypassed only so the test can inject axe-core."""
    context = browser.new_context(
        locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True, bypass_csp=True
    )
    context.set_default_timeout(5_000)
    page = context.new_page()
    yield page
    context.close()


def _login(page: Any, live_server: Any, username: str) -> None:
    page.goto(live_server.url("/login"))
    page.fill("#username", username)
    page.fill("#password", "demo1234")
    with page.expect_navigation():
        page.locator("form:has(#password) button").click()


def _check(page: Any, where: str) -> list[str]:
    """axe-core's serious and critical violations, small targets, small text, sideways scroll."""
    page.add_script_tag(path=str(AXE))
    found = [f"{where}: {v}" for v in page.evaluate(AXE_RUN)]
    for size in (PHONE, NARROW):
        page.set_viewport_size(size)
        m = page.evaluate(MEASURE)
        found += [f"{where} @{size['width']}: target {s}" for s in m["small"]]
        found += [f"{where} @{size['width']}: text {s}" for s in m["tiny"]]
        if m["body"] < 16:
            found.append(f"{where}: base text {m['body']}px")
        if m["sideways"]:
            found.append(f"{where} @{size['width']}: scrolls sideways")
    page.set_viewport_size(PHONE)
    return found


def _raise_repair(page: Any, live_server: Any) -> str:
    page.goto(live_server.url("/r/new/repair"))
    page.locator("select[name=category]").select_option(index=1)
    page.fill("[name=location]", "3幢楼道")
    page.fill("[name=description]", "楼道灯不亮了")
    with page.expect_navigation():
        page.locator("#raise-form button[name=_submit]").click()
    return page.url


def test_every_resident_page_passes_axe_and_fits_a_phone(
    phone: Any, live_server: Any, monkeypatch: Any
) -> None:
    from engine.demo import demo
    from engine.demo.demo import generate
    from tests.conftest import NOW, SEED

    # The rating forms are among the pages checked: keep the unrated stories waiting (the
    # demo otherwise closes those past their deadline, as the sweep would).
    monkeypatch.setattr(demo, "time_out", lambda now: 0)
    with live_server.db():
        generate(SEED, compounds=24, items=200, seed=1, now=NOW)
    _login(phone, live_server, "lvzhou-yezhu1")
    item_url = _raise_repair(phone, live_server)
    todo, seen, found = ["/r/", "/r/contacts", item_url.removeprefix(live_server.base)], set(), []
    while todo and len(seen) < 14:
        path = todo.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = phone.goto(live_server.url(path))
        assert response.status == 200, path
        found += _check(phone, path)
        hrefs = phone.eval_on_selector_all(
            "main a[href^='/r/']", "els => els.map(e => e.getAttribute('href'))"
        )
        todo += [h for h in hrefs if h not in seen and not h.startswith("/r/contacts?")]
        todo.sort(key=lambda h: not h.startswith("/r/items/"))  # the items and their steps first
    assert {p for p in seen if re.fullmatch(r"/r/items/\d+/t/\w+", p)}, "no step's form was checked"
    assert {p for p in seen if p.startswith("/r/new/")}, "no raising form was checked"
    assert found == []
    assert len(seen) >= 8, seen
    assert live_server.errors == []


def test_tap_to_call(phone: Any, live_server: Any) -> None:
    _login(phone, live_server, "lvzhou-yezhu1")
    phone.goto(live_server.url("/r/"))
    phone.get_by_role("link", name="叫得应").tap()
    expect(phone.locator("h1")).to_have_text("叫得应")
    calls = phone.locator("a[href^='tel:']")
    assert calls.count() >= 8
    commissioner = phone.get_by_role("link", name=re.compile(r"^拨打 1\d+，席芳$"))
    expect(commissioner).to_be_visible()
    href = commissioner.get_attribute("href")
    assert re.fullmatch(r"tel:1[3-9]\d{9}", href)
    box = commissioner.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 200  # a thumb's whole width
    dialled: list[str] = []
    phone.context.on("request", lambda r: dialled.append(r.url))
    commissioner.tap()  # the browser hands tel: to the phone's dialler
    phone.wait_for_timeout(300)
    assert href in dialled
    phone.goto(live_server.url("/r/contacts"))
    expect(phone.locator("h1")).to_have_text("叫得应")
    assert _check(phone, "/r/contacts") == []


def test_cancel_asks_first_and_larger_text_persists(phone: Any, live_server: Any) -> None:
    _login(phone, live_server, "lvzhou-yezhu1")
    item_url = _raise_repair(phone, live_server)
    expect(phone.locator(".pill.big")).to_have_text("已收到")
    phone.get_by_role("link", name="撤销").tap()
    question = phone.locator(".confirm")
    expect(question).to_contain_text("确定要撤销这条报修吗")
    expect(phone.locator(".pill.big")).to_have_text("已收到")  # nothing happened yet
    with phone.expect_navigation():
        phone.get_by_role("button", name="确定撤销").tap()
    expect(phone.locator(".pill.big")).to_have_text("已撤销")

    phone.goto(live_server.url("/r/"))
    before = phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    with phone.expect_navigation():
        phone.get_by_role("button", name="大字模式").tap()
    after = phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert before >= 16 and after >= before + 3
    phone.goto(item_url)  # every /r page, and after a log-out too
    assert phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") == after
    with phone.expect_navigation():
        phone.get_by_role("button", name="退出").click()
    _login(phone, live_server, "lvzhou-yezhu1")
    phone.goto(live_server.url("/r/"))
    assert phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") == after
    assert _check(phone, "/r/ (larger text)") == []


def test_a_field_the_system_fills_looks_read_only(phone: Any, live_server: Any) -> None:
    """调解次数 on the mediation form is counted by the system: it reads as not for typing
    (grey, dashed) and the page still passes axe-core."""
    _login(phone, live_server, "lvzhou-yezhu1")
    phone.goto(live_server.url("/r/new/mediation"))
    style = "el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).borderTopStyle]"
    fixed = phone.eval_on_selector("input[readonly]", style)
    typed = phone.eval_on_selector("input[type=text]:not([readonly])", style)
    assert fixed != typed and fixed[1] == "dashed", (fixed, typed)
    assert _check(phone, "/r/new/mediation") == []

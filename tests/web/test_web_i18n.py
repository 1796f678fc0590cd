"""The UI speaks simplified Chinese by default; ?lang=en switches to English.

The zh_CN catalogue lives in pages/translations/zh_Hans_CN: Flask-Babel parses the
selected "zh_CN" into babel's Locale zh_Hans_CN and looks the catalogue up under
that name (gettext falls back to "zh", never to "zh_CN"). The compiled .mo is
not in git (`make translations` builds it); so that a bare `pytest` works, this
module compiles the catalogue when the .mo is missing or older than the .po.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from forms import MESSAGES

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "pages" / "translations"
PO = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
POT = TRANSLATIONS / "messages.pot"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdrf]")


def _read(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale="zh_CN" if path.suffix == ".po" else None)


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogue() -> None:
    """Compile messages.po to messages.mo when missing or stale (atomically)."""
    if MO.exists() and MO.stat().st_mtime >= PO.stat().st_mtime:
        return
    catalog = _read(PO)
    fd, tmp = tempfile.mkstemp(dir=MO.parent, suffix=".mo.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write_mo(f, catalog)
        os.replace(tmp, MO)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@pytest.fixture(scope="module")
def catalogue() -> Catalog:
    return _read(PO)


def test_login_page_is_chinese_by_default_and_switches_to_english(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in page
    assert "登录" in page and "用户名" in page and "密码" in page
    assert "Log in" not in page

    english = client.get("/login?lang=en").get_data(as_text=True)
    assert 'lang="en"' in english
    assert "Log in" in english and "Username" in english
    assert "登录" not in english

    # The choice is remembered for the session.
    again = client.get("/login").get_data(as_text=True)
    assert "Log in" in again


def test_every_message_is_translated_with_the_same_placeholders(catalogue):
    ids = [m.id for m in catalogue if m.id]
    assert len(ids) > 150
    for message in catalogue:
        if not message.id:
            continue
        assert isinstance(message.id, str), f"plural entries are not expected: {message.id!r}"
        assert message.string, f"untranslated: {message.id!r}"
        assert not message.fuzzy, f"fuzzy: {message.id!r}"
        assert sorted(PLACEHOLDER.findall(message.id)) == sorted(
            PLACEHOLDER.findall(message.string)
        ), f"placeholders differ: {message.id!r} -> {message.string!r}"
        # Every placeholder renders (no stray %-signs in the translation).
        params = {name: "x" for name in re.findall(r"%\((\w+)\)", message.id)}
        if params:
            message.string % params


def test_catalogue_covers_the_template_and_the_forms_messages(catalogue):
    template = _read(POT)
    missing_from_po = [m.id for m in template if m.id and m.id not in catalogue]
    assert not missing_from_po, "run pybabel update and translate: " + repr(missing_from_po)
    missing_forms = [msgid for msgid in MESSAGES if msgid not in catalogue]
    assert not missing_forms, "forms.MESSAGES not in the catalogue: " + repr(missing_forms)


def test_form_validation_errors_are_chinese(client, auth):
    auth.login("lvzhou-yezhu1")
    response = client.post("/r/new/bell", data={"category": "治安", "summary": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'class="field-error"' in page
    assert "此项为必填项。" in page
    assert "This field is required." not in page


def test_navigation_and_flashes_are_chinese(client, auth):
    auth.login("lvzhou-yezhu1")
    page = client.get("/r/", follow_redirects=True).get_data(as_text=True)
    assert "我的小区" in page and "退出" in page
    response = client.post("/logout", follow_redirects=True)
    assert "您已退出登录。" in response.get_data(as_text=True)


def rule_error_msgids() -> set[str]:
    """Every msgid a rule's evaluation error may carry: the literal templates of the
    ``OpError``/``RuleEvalError`` raised in rules/, the budget's messages and the words a
    value of the data is named by."""
    import ast

    from rules import budget
    from rules.errors import WORDS

    found = {
        budget.STEPS_MESSAGE,
        budget.OUTPUT_MESSAGE,
        budget.RESULT_SIZE_MESSAGE,
        budget.RESULT_DEPTH_MESSAGE,
        *WORDS.values(),
    }
    for path in (ROOT / "rules").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            at = {"OpError": 0, "RuleEvalError": 1}.get(node.func.id)
            if at is None or len(node.args) <= at:
                continue
            template = node.args[at]
            if isinstance(template, ast.Constant) and isinstance(template.value, str):
                found.add(template.value)
    return found


def test_every_rule_evaluation_error_is_in_the_catalogue(catalogue):
    msgids = rule_error_msgids()
    assert "%(value)s is not a number" in msgids and "division by zero" in msgids
    missing = sorted(m for m in msgids if m not in catalogue)
    assert not missing, "rule errors not in the catalogue: " + repr(missing)


def test_a_rule_error_is_put_in_words_in_the_reader_s_language():
    import rules

    with pytest.raises(rules.RuleEvalError) as caught:
        rules.compile({"+": [{"var": "a"}, 1]})({"a": {"x": 1}})
    error = caught.value
    assert error.message == "an object is not a number"
    catalogue = _read(PO)

    def zh(msgid: str) -> str:
        return catalogue[msgid].string or msgid

    assert error.text(zh) == "对象 不是数字"
    stored = rules.params_from_json(json.loads(json.dumps(error.params)))
    assert rules.render(error.template, stored, zh) == "对象 不是数字"


def test_the_language_link_keeps_the_page_s_filters(client, auth):
    auth.login("xifang")
    page = client.get("/work/?view=items&page=2&lang=zh_CN").get_data(as_text=True)
    assert 'href="?view=items&amp;page=2&amp;lang=en"' in page
    english = client.get("/work/?view=items&page=2&lang=en").get_data(as_text=True)
    assert 'href="?view=items&amp;page=2&amp;lang=zh_CN"' in english

"""Security headers on every response, and pages that satisfy the Content-Security-Policy:
no inline script, no on*= handlers, no style attributes in any template or generated markup."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from werkzeug.routing import Rule

from pages.security import HEADERS

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "pages" / "templates"


def _url(rule: Rule) -> str:
    """The rule's path with a plausible value in each variable (the view may 404 on it)."""
    path = rule.rule
    for name, converter in rule._converters.items():
        value = "1" if type(converter).__name__ in ("IntegerConverter", "FloatConverter") else "x"
        path = re.sub(rf"<(?:[^:>]+:)?{name}>", value, path)
    return path


def _get_rules(app) -> list[Rule]:
    return sorted(
        (r for r in app.url_map.iter_rules() if "GET" in (r.methods or ())), key=lambda r: r.rule
    )


def _assert_headers(response, where: str) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (
            f"{where}: {name} is {response.headers.get(name)!r}"
        )
    csp = response.headers["Content-Security-Policy"]
    assert (
        "frame-ancestors 'none'" in csp
        and "'unsafe-inline'" not in csp
        and "'unsafe-eval'" not in csp
    )


@pytest.mark.parametrize("who", [None, "admin", "xifang"])
def test_every_get_route_answers_with_the_security_headers(app, client, auth, who):
    # A crash answers too (with headers): bad input is the business of other tests.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    if who:
        auth.login(who)
    rules = _get_rules(app)
    assert len(rules) > 50

    for rule in rules:
        path = _url(rule)
        response = client.get(
            path, headers={"Authorization": "Bearer nope"} if path.startswith("/api/") else {}
        )
        _assert_headers(response, path)
        response.close()


def test_errors_and_static_files_have_them_too(client):
    for path in (
        "/no-such-page",
        "/static/sanfang.js",
        "/static/sanfang.css",
        "/api/v1/openapi.json",
    ):
        response = client.get(path)
        _assert_headers(response, path)
        response.close()
    _assert_headers(client.post("/login", data={"username": "x", "password": "y"}), "POST /login")


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE | re.DOTALL)
STYLE = re.compile(r"<[^>]*\sstyle\s*=|<style\b", re.IGNORECASE | re.DOTALL)
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


def _sources() -> list[Path]:
    generated = [p for p in (ROOT / "pages").rglob("*.py")] + [
        p for p in (ROOT / "forms").rglob("*.py")
    ]
    return sorted(TEMPLATES.rglob("*.html")) + generated


@pytest.mark.parametrize(
    "pattern, what",
    [
        (INLINE_SCRIPT, "an inline <script>"),
        (HANDLER, "an on*= handler"),
        (STYLE, "inline style"),
        (JS_URL, "a javascript: URL"),
    ],
)
def test_no_template_or_generated_markup_breaks_the_policy(pattern, what):
    found = []
    for path in _sources():
        text = path.read_text("utf-8")
        found += [f"{path.relative_to(ROOT)}: {m.group(0)[:60]!r}" for m in pattern.finditer(text)]
    assert not found, f"{what}: " + "; ".join(found)


def test_the_checks_catch_what_they_should():
    assert INLINE_SCRIPT.search("<script>alert(1)</script>") and not INLINE_SCRIPT.search(
        '<script src="/a.js">'
    )
    assert HANDLER.search('<select name="x" onchange="go()">') and not HANDLER.search(
        '<a data-on="1">'
    )
    assert STYLE.search('<div class="a" style="color:red">') and STYLE.search("<style>a{}</style>")
    assert JS_URL.search('<a href="javascript:void(0)">')


def test_secure_cookies_for_https_deployments(monkeypatch, database_url, tmp_path):
    from pages import create_app

    monkeypatch.setenv("SANFANG_SECURE_COOKIES", "1")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "t",
            "DATABASE_URL": database_url,
            "UPLOAD_DIR": str(tmp_path / "u"),
            "WTF_CSRF_ENABLED": False,
        }
    )
    client = app.test_client()
    response = client.post(
        "/login",
        data={"username": "xifang", "password": "demo1234"},
        base_url="https://sanfang.example",
    )
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-sanfang=") and "Secure" in cookie and "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie and "Path=/" in cookie and "Domain" not in cookie


def test_plain_http_cookies_by_default(client):
    cookie = client.post("/login", data={"username": "xifang", "password": "demo1234"}).headers[
        "Set-Cookie"
    ]
    assert cookie.startswith("session=") and "Secure" not in cookie and "HttpOnly" in cookie


def test_every_security_setting_is_documented():
    names = set(re.findall(r"SANFANG_[A-Z_]+", (ROOT / "pages" / "security.py").read_text("utf-8")))
    documented = (ROOT / "docs" / "operations.md").read_text("utf-8")
    assert len(names) >= 6 and not [n for n in sorted(names) if f"`{n}`" not in documented]

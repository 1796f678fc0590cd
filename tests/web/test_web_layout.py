"""The layout every page shares: its links under a mount point, translations in
templates, one CSRF token (pages/extensions.py keeps argument-less links and
translates in one call; base.html asks for the token and the language once)."""

from __future__ import annotations

import re

from flask import render_template_string


def _hrefs(page: str) -> set[str]:
    return set(re.findall(r'(?:href|src|action)="([^"]*)"', page))


def test_links_follow_the_mount_point_whatever_was_built_before(client, auth):
    auth.login("xifang")
    plain = client.get("/notifications").get_data(as_text=True)
    mounted = client.get("/notifications", base_url="http://localhost/sanfang").get_data(
        as_text=True
    )
    again = client.get("/notifications").get_data(as_text=True)
    assert {"/work/", "/static/sanfang.css", "/logout"} <= _hrefs(plain)
    assert {"/sanfang/work/", "/sanfang/static/sanfang.css", "/sanfang/logout"} <= _hrefs(mounted)
    assert not any(h.startswith("/work") for h in _hrefs(mounted))
    assert _hrefs(again) == _hrefs(plain)


def test_one_csrf_token_on_the_page_and_it_is_accepted(app, client, auth):
    auth.login("xifang")
    page = client.get("/notifications").get_data(as_text=True)
    tokens = set(re.findall(r'name="csrf-token" content="([^"]+)"', page))
    tokens |= set(re.findall(r'"X-CSRFToken": "([^"]+)"', page))
    tokens |= set(re.findall(r'name="csrf_token" value="([^"]+)"', page))
    assert len(tokens) == 1
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/logout", data={"csrf_token": tokens.pop()})
    assert response.status_code == 303


def test_template_translations_escape_their_values_and_keep_percent_signs(app):
    with app.test_request_context("/"):
        app.preprocess_request()
        word = render_template_string('{{ _("Log out") }}')
        unread = render_template_string('{{ _("%(num)s unread", num="<b>") }}')
        percent = render_template_string('{{ _("100%% done") }}|{{ gettext("Work") }}')
    assert word == "退出"
    assert unread == "&lt;b&gt; 条未读"
    assert percent == "100% done|工作台"


def test_template_translations_follow_the_language(app):
    with app.test_request_context("/?lang=en"):
        app.preprocess_request()
        assert render_template_string('{{ _("Log out") }}') == "Log out"


def test_links_with_values_are_built_each_time(app):
    with app.test_request_context("/"):
        one = render_template_string('{{ url_for("work.item", item_id=1) }}')
        two = render_template_string('{{ url_for("work.item", item_id=2) }}')
        query = render_template_string('{{ url_for("work.inbox", view="items") }}')
    assert (one, two, query) == ("/work/items/1", "/work/items/2", "/work/?view=items")


def test_template_calls_pass_what_jinja_passes(app):
    """pages/templating.FastCallContext calls a plain function directly and passes what
    Jinja's own Context.call would: the eval context, the context (with loop and block
    variables), the environment; a StopIteration is an undefined value."""
    from jinja2 import Environment, pass_context, pass_environment, pass_eval_context

    def plain(*args, **kwargs):
        return f"{args}{sorted(kwargs.items())}"

    @pass_eval_context
    def escaping(eval_ctx, value):
        return f"{eval_ctx.autoescape}:{value}"

    @pass_context
    def seen(context, name):
        return context.resolve_or_missing(name)

    @pass_environment
    def env_name(environment):
        return type(environment).__name__ == type(app.jinja_env).__name__

    def stops():
        raise StopIteration

    class Callable:
        @pass_context
        def __call__(self, context):
            return context.get("who")

        @pass_context
        def seen_by_method(self, context, name):
            return context.resolve_or_missing(name)

        def plain_method(self, *args, **kwargs):
            return f"m{args}{sorted(kwargs.items())}"

    source = (
        "{{ plain(1, a=2) }}|{{ escaping('<') }}|{{ env() }}|{{ stops() is undefined }}|"
        "{{ obj() }}|{% for i in [7] %}{% set x = i %}{{ seen('x') }}{{ plain(i) }}{% endfor %}|"
        "{% macro m(v) %}[{{ v }}]{% endmacro %}{{ m(plain()) }}|{{ {'a': 1}.items()|list }}|"
        "{% for i in [8] %}{% set y = i %}{{ obj.seen_by_method('y') }}{{ obj.plain_method(i, k=1) }}"
        "{{ m('<') }}{{ {'a': 2}.get('a') }}{{ ','.join(['p', 'q']) }}{% endfor %}"
    )
    values = {"plain": plain, "escaping": escaping, "seen": seen, "env": env_name}
    values |= {"stops": stops, "obj": Callable()}
    with app.test_request_context("/"):
        ours = app.jinja_env.from_string(source).render(who="me", **values)
    jinja = Environment(autoescape=True).from_string(source).render(who="me", **values)
    assert type(app.jinja_env.from_string("").new_context()).__name__ == "FastCallContext"
    assert ours.replace("True|", "?|", 1) == jinja.replace("False|", "?|", 1)
    assert ours.startswith("(1,)[(&#39;a&#39;, 2)]|True:&lt;|True|True|me|7(7,)[]|[()[]]|")


def test_security_headers_keep_what_the_view_set(app, client):
    from flask import Response

    @app.route("/_test/framed")
    def framed():
        return Response("ok", headers={"x-frame-options": "SAMEORIGIN"})

    response = client.get("/_test/framed")
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_a_new_secret_key_ends_every_session(app, client, auth):
    auth.login("xifang")
    assert client.get("/notifications").status_code == 200
    app.config["SECRET_KEY"] = "another key"
    assert client.get("/notifications").status_code == 302


def test_template_globals_copy_as_jinjas_chainmap(app):
    """pages/templating.TemplateGlobals: the same names, values and order as Jinja's
    ChainMap, the template's own globals first; the environment's, added later, seen."""
    from collections import ChainMap

    template = app.jinja_env.from_string("{{ extra }}|{{ late }}", globals={"extra": 1})
    plain = app.jinja_env.get_template("base.html").globals
    assert type(template.globals).__name__ == type(plain).__name__ == "TemplateGlobals"
    for ours in (template.globals, plain):
        theirs = ChainMap(*ours.maps)
        assert list(ours) == list(theirs) and dict(ours) == dict(theirs)
    app.jinja_env.globals["late"] = 2
    try:
        with app.test_request_context("/"):
            assert template.render() == "1|2"
    finally:
        del app.jinja_env.globals["late"]


def _nav(page: str) -> str:
    return page[page.index('<nav class="nav">') : page.index("</nav>")]


def test_the_header_follows_the_grants_the_unread_count_and_the_language(app, client, auth):
    """pages/layout.py renders the header's links once per set of inputs: each input
    changes the page at once (a new notification, all read, another language, a grant)."""
    from engine.core import clock
    from engine.delivery.notify import notify_users
    from engine.store.db import write_transaction
    from engine.store.models import Grant, OrgNode, User

    auth.login("xifang")
    client.post("/notifications/read")
    before = _nav(client.get("/notifications").get_data(as_text=True))
    assert 'class="badge"' not in before and "/review/dashboards" in before
    xifang = User.get(User.username == "xifang")
    with write_transaction():
        notify_users([xifang], None, "一条通知", now=clock.now())
    told = _nav(client.get("/notifications").get_data(as_text=True))
    assert '<span class="badge">1</span>' in told and "1 条未读" in told
    client.post("/notifications/read")
    assert _nav(client.get("/notifications").get_data(as_text=True)) == before
    english = _nav(client.get("/notifications?lang=en").get_data(as_text=True))
    assert ">Work</a>" in english and "工作台" not in english
    client.get("/notifications?lang=zh_CN")
    with write_transaction():
        Grant.create(user=xifang, role="supervisor", node=OrgNode.get(OrgNode.key == "gongshu"))
    widened = _nav(client.get("/notifications").get_data(as_text=True))
    assert "/review/live" in widened and "/review/live" not in before


def _token(page: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def test_a_session_keeps_its_signed_token_and_another_session_cannot_use_it(app, auth, monkeypatch):
    """pages/layout.py signs a session's CSRF secret once: every page of the session shows
    that token, which is accepted; another session has its own, and refuses the first's.
    The signer's clock moves a second per signature, so a page that signed again (a form
    the view built signs before the layout asks) would show another token."""
    from itertools import count

    from itsdangerous.timed import TimestampSigner

    seconds = count(1_800_000_000)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: next(seconds))
    app.config["WTF_CSRF_ENABLED"] = True
    one, two = app.test_client(), app.test_client()
    for client in (one, two):
        token = _token(client.get("/login").get_data(as_text=True))
        response = client.post(
            "/login", data={"username": "xifang", "password": "demo1234", "csrf_token": token}
        )
        assert response.status_code == 303
    first = _token(one.get("/notifications").get_data(as_text=True))
    assert _token(one.get("/work/").get_data(as_text=True)) == first
    second = _token(two.get("/notifications").get_data(as_text=True))
    assert second != first
    assert two.post("/notifications/read", data={"csrf_token": first}).status_code == 400
    assert two.post("/notifications/read", data={"csrf_token": second}).status_code == 303
    assert one.post("/notifications/read", data={"csrf_token": first}).status_code == 303


def test_the_token_of_a_session_s_first_page_is_the_one_kept(app, client, auth, monkeypatch):
    """A page that asks for the token once (the layout's; a dashboard has no form of its
    own), the first of its session, makes the session's secret: the token it shows is the
    one every later page shows, whatever second they are signed in."""
    from itertools import count

    from itsdangerous.timed import TimestampSigner

    seconds = count(1_800_000_000)  # a second per signature, the session's cookie's too
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: next(seconds))
    auth.login("ducha")
    app.config["WTF_CSRF_ENABLED"] = True
    first = _token(client.get("/review/n/gongshu").get_data(as_text=True))
    assert _token(client.get("/review/n/gongshu").get_data(as_text=True)) == first
    assert _token(client.get("/notifications").get_data(as_text=True)) == first
    assert client.post("/notifications/read", data={"csrf_token": first}).status_code == 303

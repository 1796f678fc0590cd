"""What the layout shows on every page, made once for its inputs instead of per page: the
header's links, and the signed CSRF token.

The header's links (``layout/_nav.html``) are a function of nothing else: which areas
the actor may open (``auth.navigation``), the bell's count, the language and where the
site is mounted. Rendering them cost a page some twenty template calls (links and
their words); a page now looks the HTML up by those inputs. The key holds every input,
so nothing needs invalidating: a new grant, a read notification or another language is
another key. The store is bounded (cleared past ``KEEP`` keys).

The CSRF token Flask-WTF puts in forms and in the htmx headers is the session's random
secret signed with the app's key (``generate_csrf``: a serializer and an HMAC per
request). With ``WTF_CSRF_TIME_LIMIT`` None the token never expires and its signature's
time is not checked, so one signed token per secret serves every page of the session.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, request, session
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from pages.extensions import get_locale

KEEP = 2000  # keys: sets of links × unread counts (0 … 99, "99+") × languages × hosts
FIELD = "csrf_token"  # WTF_CSRF_FIELD_NAME, Flask-WTF's default


def init_app(app: Flask) -> None:
    kept: dict[tuple[Any, ...], Markup] = {}

    def layout_nav(nav: dict[str, bool], unread: int) -> Markup:
        environ = request.environ
        shown = "99+" if unread > 99 else unread
        key = (
            str(get_locale()),
            tuple(link for link, shown_link in nav.items() if shown_link),
            shown,
            environ.get("SCRIPT_NAME"),
            environ.get("HTTP_HOST"),
            environ.get("SERVER_NAME"),
        )
        html = kept.get(key)
        if html is None:
            if len(kept) >= KEEP:
                kept.clear()
            html = kept[key] = Markup(
                app.jinja_env.get_template("layout/_nav.html").render(nav=nav, unread=unread)
            )
        return html

    app.jinja_env.globals["layout_nav"] = layout_nav

    signed: dict[tuple[Any, ...], str] = {}

    def csrf_token() -> str:
        """``generate_csrf``'s token, the signed one kept per session secret."""
        if current_app.config["WTF_CSRF_TIME_LIMIT"]:
            return generate_csrf()  # type: ignore[no-any-return]
        if not isinstance(session.get(FIELD), str):
            # The session's first token makes its secret; signed in g, it is the one kept.
            generate_csrf()
        raw = session.get(FIELD)
        if not isinstance(raw, str):
            return generate_csrf()  # type: ignore[no-any-return]
        key = (current_app.config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key, raw)
        token = signed.get(key)
        if token is None:
            if len(signed) >= KEEP:
                signed.clear()
            # A form the view built may have signed one already (g): keep that one.
            token = signed[key] = generate_csrf()
        # The kept token wins over one a form signed this request, whose time (to the
        # second) may differ: every page of the session shows the same token.
        setattr(g, FIELD, token)
        return token

    app.jinja_env.globals["csrf_token"] = csrf_token
    # Flask-WTF also puts its own in every template's context: this one, added later, wins.
    app.context_processor(lambda: {"csrf_token": csrf_token})

"""Extensions: CSRF, HTMX, translations; each with init_app."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request, session
from flask_babel import Babel, get_locale, gettext
from flask_htmx import HTMX
from flask_wtf.csrf import CSRFProtect

from engine import clock, i18n

csrf = CSRFProtect()
htmx = HTMX()
babel = Babel()
LOCALES = ("zh_CN", "en")


def select_locale() -> str:
    chosen = request.args.get("lang") or session.get("lang")
    if chosen in LOCALES:
        return str(chosen)
    user = getattr(g, "user", None)
    if user is not None and user.locale in LOCALES:
        return str(user.locale)
    return "zh_CN"


def _localtime(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    aware = clock.local(value)
    return aware.strftime(fmt) if aware else ""


def escalation_line(line: str, roles: dict[str, str]) -> str:
    """One line of what an escalation step did (``escalation_batch``: "notify a,b: 3",
    "priority 1 → 2", "urged[: message]", "summon table: units"), in the reader's
    language, with role labels."""
    if line.startswith("notify "):
        who, _, count = line[len("notify "):].rpartition(": ")
        # "assignee" and "raiser" are not roles of the pack but who a step may notify.
        named = {"assignee": gettext("the summoned units"), "raiser": gettext("the raiser"), **roles}
        names = "、".join(str(named.get(r, r)) for r in who.split(","))
        return gettext("notified %(who)s: %(count)s people", who=names, count=count)
    if line.startswith("priority "):
        return gettext("priority raised: %(change)s", change=line[len("priority "):])
    if line == "urged" or line.startswith("urged: "):
        message = line[len("urged: "):]
        return gettext("marked as urged: %(message)s", message=message) if message else gettext("marked as urged")
    if line.startswith("summon "):
        table, _, units = line[len("summon "):].partition(": ")
        return gettext("summoned the next level (%(table)s): %(units)s", table=table,
                       units=gettext("nobody new") if units in ("", "-") else units)
    return line


def state_label(item: Any) -> str:
    """The label of ``item``'s state in its type's version, from the cached runtime (a
    list row need not load its version's body)."""
    from engine.runtimes import runtime

    return runtime(item.version_id).state_label(item.state)


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.filters["localtime"] = _localtime
    app.jinja_env.filters["escalation_line"] = escalation_line
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["state_label"] = state_label
    i18n.install(gettext)

    @app.before_request
    def _remember_lang() -> None:
        if request.args.get("lang") in LOCALES:
            session["lang"] = request.args["lang"]

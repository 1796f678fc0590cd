"""Extensions: CSRF, HTMX, translations; each with init_app."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from babel import Locale
from flask import Flask, g, has_request_context, request, session, url_for
from flask_babel import Babel, Domain, get_locale, get_translations, gettext
from flask_babel import lazy_gettext as _l
from flask_htmx import HTMX
from flask_wtf.csrf import CSRFProtect
from jinja2 import pass_eval_context
from markupsafe import Markup, escape

from engine.core import clock, i18n, memo
from engine.definitions.runtimes import runtime
from pages import links, plainwords

csrf = CSRFProtect()
htmx = HTMX()
babel = Babel()
LOCALES = ("zh_CN", "en")


def attachment_store() -> Any:
    """The app's attachment store (engine.store.storage), shared by every host."""
    from flask import current_app

    return current_app.extensions["sanfang.attachments"]


def select_locale() -> str:
    if not has_request_context():  # a command (`sanfang restore`) speaks the default language
        return "zh_CN"
    chosen = request.args.get("lang") or session.get("lang")
    if chosen in LOCALES:
        return str(chosen)
    user = getattr(g, "user", None)
    if user is not None and user.locale in LOCALES:
        return str(user.locale)
    return "zh_CN"


_PARSED: dict[str, Locale] = {}


def _parsed_locale() -> Locale:
    """``select_locale``'s choice as Babel's ``Locale``, parsed once per process: Flask-Babel
    parsed the code on every request (12 µs); a ``Locale`` it is given it takes as is."""
    code = select_locale()
    parsed = _PARSED.get(code)
    if parsed is None:
        parsed = _PARSED[code] = Locale.parse(code)
    return parsed


# Stored (naive UTC) times as the page filter shows them by default: an item page shows the
# same few dozen times on every visit (its events', its summonses'). Bounded.
_SHOWN_TIMES: dict[dt.datetime, str] = {}


def localtime(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if fmt == "%Y-%m-%d %H:%M" and type(value) is dt.datetime and value.tzinfo is None:
        shown = _SHOWN_TIMES.get(value)
        if shown is None:
            if len(_SHOWN_TIMES) >= 8192:
                _SHOWN_TIMES.clear()
            shown = _SHOWN_TIMES[value] = _shown_time(value, fmt)
        return shown
    return _shown_time(value, fmt)


def _shown_time(value: Any, fmt: str) -> str:
    if value is None:
        return ""
    if fmt == "%Y-%m-%d %H:%M" and clock.FIXED_OFFSET is not None and value >= clock.FIXED_SINCE:
        # ``clock.local``'s fixed offset, formatted in one call (a page shows a hundred)
        return (value + clock.FIXED_OFFSET).isoformat(" ", "minutes")  # type: ignore[no-any-return]
    aware = clock.local(value)
    if aware is None:
        return ""
    if fmt == "%Y-%m-%d %H:%M":  # strftime took twice as long (a page shows a hundred)
        a = aware
        return f"{a.year:04d}-{a.month:02d}-{a.day:02d} {a.hour:02d}:{a.minute:02d}"
    return aware.strftime(fmt)


# Each transition form's fields by name, by (runtime, transition): a version never changes
# and its runtime is kept by the process (the runtime is kept along, so that an id is never
# another's). Bounded.
_TRANSITION_FIELDS: dict[tuple[int, str], tuple[Any, dict[str, Any]]] = {}


def _transition_fields(rt: Any, key: str) -> dict[str, Any]:
    """The fields of transition ``key``'s form in ``rt`` by name (forms.FieldSpec)."""
    import forms

    kept = _TRANSITION_FIELDS.get((id(rt), key))
    if kept is None or kept[0] is not rt:
        schema = (rt.transition(key) or {}).get("form")
        specs = forms.field_specs(schema) if isinstance(schema, Mapping) and schema else []
        if len(_TRANSITION_FIELDS) >= 1024:
            _TRANSITION_FIELDS.clear()
        kept = _TRANSITION_FIELDS[(id(rt), key)] = (rt, {spec.name: spec for spec in specs})
    return kept[1]


# What _answer.html's ``answer`` macro shows itself for these kinds (links, tables, dates).
_ANSWER_MACRO_KINDS = frozenset(("photo", "file", "group", "date", "datetime"))


def _is_list(value: Any) -> bool:
    """Jinja's ``value is iterable and value is not string and value is not mapping``."""
    if isinstance(value, (str, Mapping)):
        return False
    try:
        iter(value)
    except TypeError:
        return False
    return True


def _words(string: str) -> Markup:
    """``_(string)`` as a template gives it: the translation as markup."""
    return str.__new__(Markup, _translations().ugettext(string))


def _answer_text(spec: Any, value: Any) -> Any:
    """What ``answer(spec, value)`` (_answer.html) shows, as text to escape or markup, for
    the plain kinds; None where the macro is needed."""
    if value is None or value == "" or value == []:
        return "–"
    if spec is None:
        return "、".join(map(str, value)) if _is_list(value) else value
    if spec.kind in _ANSWER_MACRO_KINDS:
        return None
    if value is True or value is False:
        return _words("Yes" if value else "No")
    labels = dict(spec.options or [])
    if _is_list(value):
        return "、".join([str(labels.get(v, v)) for v in value])
    return labels.get(value, value)


def transition_answers(rt: Any, event: Any) -> list[tuple[Any, Any, Any, Any]]:
    """A transition event's form answers as the timeline lists them: (label, text, field,
    value) each, ``text`` None where the ``answer`` macro shows the value (one macro call
    per photo, file, group or date instead of one per answer)."""
    fields = _transition_fields(rt, event.action[11:])
    rows = []
    for name, value in event.after["form"].items():
        spec = fields.get(name)
        label = spec.label if spec else _words("a field no longer on the form")
        rows.append((label, _answer_text(spec, value), spec, value))
    return rows


def deliberation(timeline: Any) -> tuple[Any, list[Any]]:
    """The item's origin event (a meeting's resolution, an opinion; None if none) and its
    gate decisions, from its timeline in one pass (decisions/_item_origin.html)."""
    origin, decided = None, []
    for event in timeline:
        if event.action == "gate.decide":
            decided.append(event)
        elif event.action == "item.origin" and origin is None:
            origin = event
    return origin, decided


def N_(message: str) -> str:
    """``message`` marked for the catalogue (pybabel's default keyword), translated where
    it is shown."""
    return message


# A summons' state in words (``summons_pill``).
_SUMMONS_WORDS = {
    "summoned": N_("Summoned"),
    "reported": N_("Reported in"),
    "done": N_("Done"),
    "declined": N_("Declined"),
    "cancelled": N_("Cancelled"),
}


def summons_pill(state: str) -> Markup:
    """A summons' state as a pill: its word in the reader's language (an unknown state as
    it is, escaped). A function rather than a template macro: lists call it per row."""
    word = _SUMMONS_WORDS.get(state)
    text = _words(word) if word is not None else escape(state)
    return Markup(f'<span class="pill pill-{escape(state)}">{text}</span>')


def route_words(detail: Any, rt: Any) -> dict[str, Any]:
    """A routing event of an item of ``rt`` in words (pages.itemviews.route_trace), the words
    built once per request and version."""
    return dict(_route_trace(rt)(detail))


def route_vocabulary(detail: Any, rt: Any) -> Any:
    """The vocabulary :func:`route_words` puts the routing event ``detail`` in: the same
    object while what it is made of is the same (pages.itemviews.route_trace)."""
    return _route_trace(rt).words(detail)


def _route_trace(rt: Any) -> Any:
    from flask import g

    from pages.itemviews import route_trace

    cache = g.setdefault("route_words", {})
    if id(rt) not in cache:
        cache[id(rt)] = route_trace(rt)
    return cache[id(rt)]


def escalation_line(
    line: Any, roles: dict[str, str], tables: Mapping[str, Any] | None = None
) -> str:
    """One thing an escalation step did, in the reader's language, with role labels.

    Steps store a code and its parameters (``{"code": "notify", "roles": [...], "count":
    3}``, ``priority`` from/to, ``urge`` message, ``summon`` table/units); events written
    before codes existed hold an English line ("notify a,b: 3"), read here once more.
    ``tables`` is the item type's routing, to name a summons table by its label.
    """
    if isinstance(line, str):
        line = _legacy_line(line)
    if not isinstance(line, dict):
        return str(line)
    code = line.get("code")
    if code == "notify":
        # "assignee" and "raiser" are not roles of the pack but who a step may notify.
        named = {
            "assignee": gettext("the summoned units"),
            "raiser": gettext("the raiser"),
            **roles,
        }
        names = "、".join(str(named.get(r, r)) for r in line.get("roles", []))
        return gettext("notified %(who)s: %(count)s people", who=names, count=line.get("count", 0))
    if code == "priority":
        return gettext(
            "priority raised: %(change)s", change=f"{line.get('from')} → {line.get('to')}"
        )
    if code == "urge":
        message = line.get("message")
        return (
            gettext("marked as urged: %(message)s", message=message)
            if message
            else gettext("marked as urged")
        )
    if code == "summon":
        units = "、".join(line.get("units") or []) or gettext("nobody new")
        return gettext(
            "summoned the next level (%(table)s): %(units)s",
            table=((tables or {}).get(line.get("table")) or {}).get("label")
            or gettext("the escalation table"),
            units=units,
        )
    return str(line.get("code", ""))


def _legacy_line(line: str) -> dict[str, Any] | str:
    """An escalation line as events before codes stored it, as a code and parameters."""
    if line.startswith("notify "):
        who, _, count = line[len("notify ") :].rpartition(": ")
        return {"code": "notify", "roles": who.split(","), "count": count}
    if line.startswith("priority "):
        before, _, after = line[len("priority ") :].partition(" → ")
        return {"code": "priority", "from": before, "to": after}
    if line == "urged" or line.startswith("urged: "):
        return {"code": "urge", "message": line[len("urged: ") :] or None}
    if line.startswith("summon "):
        table, _, units = line[len("summon ") :].partition(": ")
        return {
            "code": "summon",
            "table": table,
            "units": [] if units in ("", "-") else units.split(", "),
        }
    return line


def state_label(item: Any) -> str:
    """The label of ``item``'s state in its type's version, from the cached runtime (a
    list row need not load its version's body)."""
    return runtime(item.version_id).state_label(item.state)


def _translations() -> Any:
    """The request's translations (Flask-Babel's), looked up once per request."""
    return memo.memoized("translations", get_translations)


class _RequestDomain(Domain):  # type: ignore[misc]
    """Flask-Babel's message domain, its translations looked up once per request: its
    ``gettext`` (the Python side, lazy strings) looked up context, locale and cache key on
    every call. Like ``_translations``, it assumes a request keeps its language (nothing
    here uses ``force_locale``; a write transaction empties the memo anyway)."""

    def get_translations(self) -> Any:
        return memo.memoized(("domain translations", id(self)), super().get_translations)


@pass_eval_context
def _template_gettext(eval_ctx: Any, string: str, **variables: Any) -> str:
    """``_()`` and ``gettext()`` in templates: Jinja's newstyle gettext (the translation
    as markup, ``%`` formatting with escaped variables), in one call instead of three.

    Jinja's own goes through an alias that resolves ``gettext`` from the context, a
    wrapper that calls the installed callable through the context, then formats even
    a string with no ``%`` in it; a page translates hundreds of strings.
    """
    rv = _translations().ugettext(string)
    if eval_ctx.autoescape:
        # Markup(rv) without its probe for ``__html__``, which a str lacks (an exception).
        rv = str.__new__(Markup, rv)
    if not variables and "%" not in rv:
        return rv  # what ``rv % {}`` gives
    return rv % variables  # type: ignore[no-any-return]


# What each definition kind is called (the designer's and /admin's lists).
KIND_WORDS = {
    "item_type": _l("Item type"),
    "profile": _l("File (profile)"),
    "checklist": _l("Checklist"),
    "evaluation": _l("Evaluation"),
    "index": _l("Index"),
    "poll": _l("Vote (matter put to the owners)"),
    "meeting": _l("Deliberation meeting"),
    "opinion": _l("Opinion collection"),
    "disclosure": _l("Statement of accounts"),
    "listing": _l("Listing (offers and requests)"),
    "directory": _l("Directory (register of entries)"),
}


def cached_url_for(app: Flask) -> Any:
    """``url_for`` for templates, keeping the links that take no values (the header's, the
    stylesheet's): werkzeug builds each in a few microseconds, and every page has twenty.

    A link with values (an item's id, a query) is built every time. A kept link is keyed
    by what else goes into it: the mount point (``SCRIPT_NAME``) and the host.
    """
    build = app.url_for
    kept: dict[tuple[Any, ...], dict[tuple[str, Any], str]] = {}

    def kept_here() -> dict[tuple[str, Any], str]:
        environ = request.environ
        where = (environ.get("SCRIPT_NAME"), environ.get("HTTP_HOST"), environ.get("SERVER_NAME"))
        if where not in kept and len(kept) > 100:  # hosts come from the request: bounded
            kept.clear()
        return kept.setdefault(where, {})

    def url_for(endpoint: str, **values: Any) -> str:
        static_file = endpoint == "static" and list(values) == ["filename"]
        if (values and not static_file) or endpoint[:1] == "." or not has_request_context():
            return build(endpoint, **values)
        links = memo.memoized("links", kept_here)  # once per request
        key = (endpoint, values.get("filename"))
        url = links.get(key)
        if url is None:
            url = links[key] = build(endpoint, **values)
        return url

    return url_for


def kind_label(kind: str) -> str:
    """A definition kind in the reader's language (the kind itself if unknown)."""
    words = KIND_WORDS.get(kind)
    return str(words) if words else kind


def edition(number: int | None) -> str:
    """A definition version as people say it ("第 3 版"), never "v3"."""
    if number is None:
        return ""
    return gettext("version %(number)s", number=number)


def lang_href(code: str) -> str:
    """This page in language ``code``: the query as it is, its ``lang`` replaced (a
    filtered or paged list stays filtered and paged)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return "?" + urlencode([*args, ("lang", code)])


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(
        app, locale_selector=_parsed_locale, default_translation_directories="translations"
    )
    # Babel.domain_instance is a cached_property: the instance attribute takes its place.
    babel.domain_instance = _RequestDomain(domain=app.extensions["babel"].default_domain)
    app.jinja_env.add_extension("jinja2.ext.i18n")
    # Flask-Babel's callables look the request's translations up on every string (context,
    # domain, locale, cache key): a page translates hundreds. The request keeps them once.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.globals["gettext"] = _template_gettext
    app.jinja_env.globals["_"] = _template_gettext
    app.jinja_env.globals["url_for"] = cached_url_for(app)
    app.jinja_env.globals["url_pattern"] = links.url_pattern
    app.jinja_env.globals["vary"] = links.VARY
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["edition"] = edition
    app.jinja_env.globals["deliberation"] = deliberation
    app.jinja_env.globals["summons_pill"] = summons_pill
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["lang_href"] = lang_href
    app.jinja_env.globals["kind_label"] = kind_label
    # Where a stored attachment is shown (the file widget's kept photos, forms/html.py too).
    app.jinja_env.globals["attachment_url"] = lambda public_id: url_for(
        "auth.file", public_id=public_id
    )
    plainwords.init_app(app)
    # Engine and form messages: Flask-Babel's gettext without variables, its lookups once.
    i18n.install(lambda message: _translations().ugettext(message))

    @app.before_request
    def _remember_lang() -> None:
        if request.args.get("lang") in LOCALES:
            session["lang"] = request.args["lang"]

"""An item page's timeline and summoned units, made here rather than by the templates'
loops: each audit event in words (one branch per action, in place of the template's, with
its translations, filters and calls per event) and as its ``<li>``
(``items/_timeline_entries.html``); each summons' entry without its forms
(``items/_assignments.html``). The timeline was 40 % of the busiest item page's time,
the summoned units 10 %. Everything shown is escaped here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from flask import Flask, current_app
from flask_babel import get_locale
from markupsafe import Markup, escape

from engine.store import fetched
from pages.extensions import (
    N_,
    edition,
    escalation_line,
    localtime,
    route_vocabulary,
    route_words,
    summons_pill,
    transition_answers,
)
from pages.plainwords import _


class Line(NamedTuple):
    """One event as the timeline shows it: ``text``, then ``strong`` in bold and ``tail``;
    ``urged`` a badge before the text; the answers of a transition's form, a routing's
    explanation (``why``: ``route_words``) or what an escalation step did (``did``)."""

    at: str
    who: str
    text: str
    urged: str | None = None
    strong: str | None = None
    tail: str = ""
    answers: list[Any] | None = None
    why: dict[str, Any] | None = None
    did: list[str] | None = None


def timeline_lines(events: list[Any], rt: Any, role_labels: Mapping[str, str]) -> list[Line]:
    """``events`` (``itemviews.timeline_view``'s rows) of an item of ``rt`` as lines."""
    system = _("System")
    return [
        Line(
            localtime(e.at),
            (e.actor_name if e.actor_id else system) or "",
            **_said(e, rt, role_labels),
        )
        for e in events
    ]


def _names(summoned: Any, role_labels: Mapping[str, str]) -> str:
    """Units summoned, a role's other than a department's after its name."""
    named = [
        s.get("name", "")
        if s.get("role") == "department"
        else f"{s.get('name', '')}({role_labels.get(s.get('role'), s.get('role'))})"
        for s in summoned or []
    ]
    return "、".join(named) if named else _("nobody new")


def _said(e: Any, rt: Any, role_labels: Mapping[str, str]) -> dict[str, Any]:
    """What the event ``e`` did, as :class:`Line`'s fields after its time and actor."""
    action = e.action
    before = e.before if isinstance(e.before, Mapping) else {}
    after = e.after if isinstance(e.after, Mapping) else {}
    detail = e.detail if isinstance(e.detail, Mapping) else {}

    def state(key: Any) -> str:
        return "" if key is None else str(rt.state_label(key))

    if action == "item.raise":
        return _fields(f"{_('raised the item')} ({state(after.get('state'))})")
    if action.startswith("transition."):
        text = (
            f"{detail.get('label', '')}: {state(before.get('state'))} → {state(after.get('state'))}"
        )
        answers = transition_answers(rt, e) if after.get("form") else None
        return _fields(text, answers=answers)
    if action == "route":
        why = route_words(detail, rt)
        if detail.get("default_used"):
            fired = _("no rule fired, default route")
        else:
            fired = f"{_('rules fired')} {'、'.join(why['fired'])}"
        summoned = _names(detail.get("summoned"), role_labels)
        text = f"{_('routing')} {why['table']}: {fired} → {summoned}"
        return _fields(text, why=why)
    if action == "summons.urge":
        return _fields(f"{after.get('name', '')}: {after.get('message', '')}", urged=_("Urged"))
    if action.startswith("summons."):
        text = _ACTION_WORDS.get(action)
        text = _(text) if text else action
        reply = after.get("reply")
        return _fields(f"{text}: {reply}" if reply else text)
    if action == "escalation":
        unit = detail.get("unit")
        routing = rt.body.get("routing")
        did = [escalation_line(line, role_labels, routing) for line in detail.get("did") or []]
        tail = f" ({unit})" if unit else ""
        return _fields(_("escalation"), strong=str(detail.get("label", "")), tail=tail, did=did)
    if action == "item.urge":
        return _fields(str(after.get("message", "")), urged=_("Urged"))
    if action == "item.reroute":
        text = f"{_('re-routed')} → {_names(after.get('summoned'), role_labels)}"
        if after.get("withdrawn"):
            text += " · " + _("withdrew %(count)s open summons", count=len(after["withdrawn"]))
        return _fields(f"{text} · {_('reason')}: {after.get('reason', '')}")
    if action == "item.reassign":
        text = _("reassigned the item to %(name)s", name=after.get("name", ""))
        return _fields(f"{text} · {_('reason')}: {after.get('reason', '')}")
    if action == "item.migrate":
        text = _(
            "moved to %(edition)s of its type: %(s)s → %(t)s",
            edition=edition(after.get("version")),
            s=before.get("label") or _("a removed state"),
            t=state(after.get("state")),
        )
        return _fields(text)
    if action == "item.reveal":
        return _fields(_("looked at the personal data"))
    if action == "gate.decide":
        text = _("recorded the decision at %(gate)s", gate=state(after.get("state")))
        label = (rt.transition(after.get("transition")) or {}).get("label", "")
        return _fields(f"{text}: {label}")
    if action == "item.origin":
        if after.get("kind") == "resolution":
            text = _("raised it from a meeting's resolution")
        else:
            text = _("raised it from a resident's opinion")
        return _fields(f"{text}: {after.get('title', '')}")
    if action == "item.set":
        return _fields(f"{_('set')} {_set_fields(after, rt)}")
    return _fields(_("changed the item"))


# The summons actions' words (marked for the catalogue, translated where shown); the
# summons states' are ``pages.extensions``' (``summons_pill``).
_ACTION_WORDS = {
    "summons.report_in": N_("reported in"),
    "summons.complete": N_("completed"),
    "summons.decline": N_("declined"),
    "summons.cancel": N_("open summons cancelled as the item ended"),
}


def _set_fields(after: Mapping[str, Any], rt: Any) -> str:
    """The fields an ``item.set`` event changed, by their titles, with their new values."""
    schema = rt.body.get("schema") or {}
    props = schema.get("properties") or {}
    parts = []
    for key, value in after.items():
        title = props.get(key[5:], {}).get("title") if key.startswith("data.") else None
        if not title:
            title = _("priority") if key == "priority" else _("a field")
        if isinstance(value, (list, tuple, set, dict)):
            value = "、".join(str(v) for v in value)
        parts.append(f"{title}: {value}")
    return "、".join(parts)


def _fields(text: str, **more: Any) -> dict[str, Any]:
    return {"text": text, **more}


# Each event's ``<li>`` kept by the process with what it was made of: the event as shown
# (its parts already as the reader may see them), the type's runtime, the role labels
# and, for a routing event, its vocabulary; by the type's runtime, the language and the
# event's time, action and actor. An event never changes, and an item page words every
# one of them again on each visit (the demo's busiest item: 27 events, 0.48 ms of 2.9).
_LINES = fetched.Shelf(2048)  # (an item shows tens of events: a few hundred items)


def timeline_html(events: list[Any], rt: Any, role_labels: Mapping[str, str]) -> Markup:
    """The timeline's ``<li>`` of each of ``events`` (``timeline_lines``), escaped here:
    the template's loop over the lines' parts was a third of the timeline's time. Each
    one is made once while what it is made of stays the same (``_LINES``)."""
    language = str(get_locale())
    labels = tuple(role_labels.items())
    shown = []
    for e in events:
        words = None
        if e.action == "route":  # its words' vocabulary: places and forms it names
            words = route_vocabulary(e.detail if isinstance(e.detail, Mapping) else {}, rt)
        # the runtime by its id: kept along in ``made_of``, no other object takes that id
        key = (id(rt), language, e.at, e.action, e.actor_id)
        made_of = (e, rt, labels, words)
        html = _LINES.kept(key, made_of)
        if html is None:
            html = _line_html(timeline_lines([e], rt, role_labels)[0])
            _LINES.keep(key, made_of, html)
        shown.append(html)
    return Markup("".join(shown))


def _line_html(line: Line) -> str:
    """One line's ``<li>``, escaped."""
    html = f"<li><time>{escape(line.at)}</time> <strong>{escape(line.who)}</strong> "
    if line.urged:
        html += f'<span class="urged">{escape(line.urged)}</span> '
    html += f"{escape(line.text)}"
    if line.strong is not None:
        html += f" <strong>{escape(line.strong)}</strong>{escape(line.tail)}"
    if line.answers:
        cells = "".join(
            f"<dt>{escape(label)}</dt><dd>{_answer(spec, v) if text is None else escape(text)}</dd>"
            for label, text, spec, v in line.answers
        )
        html += f'\n<dl class="answers small">{cells}</dl>'
    if line.why:
        why = line.why
        html += (
            f"\n<details><summary>{escape(_('Why'))}</summary>"
            f'<ul class="small">{escape(why["outcomes_html"])}</ul>'
        )
        if why["inputs"]:
            read = escape(_("Answers read"))
            html += f'<p class="small muted">{read}: {escape(why["inputs_line"])}</p>'
        html += "</details>"
    if line.did:
        did = "".join(f"<li>{escape(text)}</li>" for text in line.did)
        html += f'\n<ul class="small">{did}</ul>'
    return html + "</li>\n"


def _answer(spec: Any, value: Any) -> Markup:
    """An answer the ``answer`` macro shows (a photo, a file, a group, a date)."""
    macro = current_app.jinja_env.get_template("_answer.html").module.answer
    return Markup(macro(spec, value))


def assignment_rows(
    assignments: list[Any], now: Any, role_labels: Mapping[str, str]
) -> list[tuple[Any, Markup]]:
    """Each summons of an item (``items/_assignments.html``) with the start of its
    ``<li>``: its unit, state pill, times and reply, escaped here; the template adds the
    forms of who acts on it and closes the ``<li>``."""
    words = [escape(_(w)) for w in ("Summoned", "report in by", "reported", "finish by", "Overdue")]
    summoned_word, report_word, reported_word, finish_word, overdue_word = words
    rows = []
    for a in assignments:
        overdue = bool(a.open and a.next_due_at and a.next_due_at < now)
        unit = escape(a.unit.name)
        if a.role != "department":
            unit = f"{unit} · {escape(role_labels.get(a.role, a.role))}"
        times = f"{summoned_word} {escape(localtime(a.summoned_at))}"
        if a.report_due_at:
            times += f" · {report_word} {escape(localtime(a.report_due_at))}"
        if a.reported_at:
            times += f" · {reported_word} {escape(localtime(a.reported_at))}"
        if a.handle_due_at:
            times += f" · {finish_word} {escape(localtime(a.handle_due_at))}"
        if overdue:
            times += f' · <span class="overdue-flag">{overdue_word}</span>'
        reply = f'\n      <p class="reply">{escape(a.reply)}</p>' if a.reply else ""
        html = (
            f'<li class="assignment state-{escape(a.state)}{" overdue" if overdue else ""}">\n'
            f'      <div class="row-between">\n        <strong>{unit}</strong>\n'
            f"        {summons_pill(a.state)}\n      </div>\n"
            f'      <p class="muted small">\n        {times}\n      </p>{reply}'
        )
        rows.append((a, Markup(html)))
    return rows


def init_app(app: Flask) -> None:
    app.jinja_env.globals["timeline_html"] = timeline_html
    app.jinja_env.globals["assignment_rows"] = assignment_rows

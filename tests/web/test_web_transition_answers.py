"""A transition's answers on the timeline read as the ``answer`` macro (_answer.html) shows
them: the plain kinds are put in words in Python (pages.extensions.transition_answers),
the others still by the macro; the HTML is the same either way."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import render_template, render_template_string

from forms.specs import FieldSpec
from pages.extensions import _TRANSITION_FIELDS, deliberation, transition_answers


def _spec(kind: str, **more: object) -> FieldSpec:
    return FieldSpec(name="f", path="f", pointer="/f", kind=kind, label="<标签>", **more)


SELECT = _spec("select", options=(("a", "甲 & 乙"), ("b", "<b>"), (1, "一")))
CHILD = _spec("text")
CASES = [
    (spec, value)
    for spec in (
        None,
        _spec("text"),
        _spec("number"),
        _spec("checkbox"),
        SELECT,
        _spec("multiselect", options=(("a", "甲"), ("b", "乙"))),
        _spec("date"),
        _spec("datetime"),
        _spec("photo"),
        _spec("file"),
        _spec("group", children=(CHILD,)),
    )
    for value in (
        None,
        "",
        [],
        "a",
        "<x> & 'y'",
        1,
        2.5,
        0,
        True,
        False,
        ["a", "b", "<c>"],
        [1, None],
        "2026-01-02",
        "2026-01-02T08:30:00+08:00",
    )
    # photos, files and groups are lists (of ids, of rows): the macro shows them still
    if spec is None or spec.kind not in ("photo", "file", "group") or value in ([], ["a", "b"])
] + [(_spec("group", children=(CHILD,)), [{"f": "<v>"}, "odd"]), (None, {"k": "v"})]

MACRO = (
    '{% from "_answer.html" import answer %}'
    "{% for spec, v in cases %}<dd>{{ answer(spec, v) }}</dd>{% endfor %}"
)
ROWS = (
    '{% from "_answer.html" import answer %}'
    "{% for label, text, spec, v in rows %}"
    "<dd>{{ answer(spec, v) if text is none else text }}</dd>{% endfor %}"
)


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_transition_answers_read_as_the_macro_shows_them(app, lang):
    rt = SimpleNamespace(transition=lambda key: {"form": {"type": "object", "properties": {}}})
    with app.test_request_context(f"/?lang={lang}", headers={"Accept-Language": lang}):
        expected = render_template_string(MACRO, cases=CASES)
        rows = []
        for spec, value in CASES:
            event = SimpleNamespace(action="transition.x", after={"form": {"f": value}})
            # the version's form as having the case's field (or none of that name)
            _TRANSITION_FIELDS[(id(rt), "x")] = (rt, {} if spec is None else {"f": spec})
            rows += transition_answers(rt, event)
        assert render_template_string(ROWS, rows=rows) == expected
        labels = {label for label, *_ in rows}
        assert "<标签>" in labels and len(labels) == 2  # a field's label, or "no longer on"


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("zh_CN", ["已召集", "已报到", "已办结", "已退回", "已取消"]),
        ("en", ["Summoned", "Reported in", "Done", "Declined", "Cancelled"]),
    ],
)
def test_summons_pill_says_the_state_in_the_readers_language(app, lang, words):
    states = ["summoned", "reported", "done", "declined", "cancelled", "<odd> & 'x'"]
    with app.test_request_context(f"/?lang={lang}", headers={"Accept-Language": lang}):
        shown = render_template_string(
            "{% for s in states %}{{ summons_pill(s) }}|{% endfor %}", states=states
        )
    odd = "&lt;odd&gt; &amp; &#39;x&#39;"
    expected = [f'<span class="pill pill-{s}">{w}</span>' for s, w in zip(states, words)]
    expected.append(f'<span class="pill pill-{odd}">{odd}</span>')
    assert shown == "|".join(expected) + "|"


def test_deliberation_finds_the_first_origin_and_every_gate_decision():
    def event(action: str, n: int) -> SimpleNamespace:
        return SimpleNamespace(action=action, n=n)

    timeline = [
        event("item.raise", 0),
        event("item.origin", 1),
        event("gate.decide", 2),
        event("item.origin", 3),
        event("gate.decide", 4),
    ]
    origin, decided = deliberation(timeline)
    assert origin.n == 1 and [e.n for e in decided] == [2, 4]
    assert deliberation(timeline[:1]) == (None, [])


def test_the_timeline_shows_a_photo_and_a_date_by_the_macro(app):
    """The answer macro is imported only where a transition's answer needs it."""
    import datetime as dt

    date, photo = _spec("date"), _spec("photo")
    rt = SimpleNamespace(transition=lambda key: {}, state_label=lambda state: f"<{state}>")
    _TRANSITION_FIELDS[(id(rt), "x")] = (rt, {"d": date, "p": photo})
    event = SimpleNamespace(
        at=dt.datetime(2026, 1, 2, 3, 4),
        action="transition.x",
        actor_id=None,
        actor_name=None,
        before={"state": "a"},
        after={"state": "b", "form": {"d": "2026-01-02", "p": ["abc"], "n": 3}},
        detail={"label": "办结"},
    )
    with app.test_request_context("/?lang=zh_CN"):
        page = render_template("items/_timeline_entries.html", timeline=[event], rt=rt)
        macro = render_template_string(
            '{% from "_answer.html" import answer %}{{ answer(d, "2026-01-02") }}|'
            '{{ answer(p, ["abc"]) }}',
            d=date,
            p=photo,
        )
    day, photos = macro.split("|")
    assert f"<dd>{day}</dd>" in page and f"<dd>{photos}</dd>" in page and "<dd>3</dd>" in page

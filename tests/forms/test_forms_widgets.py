"""Every field kind: the right spec, the right WTForms field, the right HTML."""

from __future__ import annotations

import re
from typing import Any

import pytest
from wtforms import fields

import forms
from forms import wtf

KIND_FIELDS: dict[str, tuple[str, type[Any]]] = {
    "summary": ("text", fields.StringField),
    "detail": ("textarea", fields.TextAreaField),
    "category": ("select", fields.SelectField),
    "urgency": ("radio", fields.RadioField),
    "satisfaction": ("radio", fields.RadioField),
    "anonymous": ("checkbox", fields.BooleanField),
    "floor": ("integer", fields.IntegerField),
    "area": ("number", fields.FloatField),
    "found_on": ("date", fields.DateField),
    "found_at": ("datetime", fields.DateTimeLocalField),
    "meet_at": ("time", fields.TimeField),
    "email": ("email", fields.EmailField),
    "phone": ("phone", fields.TelField),
    "link": ("uri", fields.URLField),
    "parties": ("checkboxes", fields.SelectMultipleField),
    "depts": ("multiselect", fields.SelectMultipleField),
    "photos": ("photo", fields.MultipleFileField),
    "files": ("file", fields.MultipleFileField),
    "rooms": ("group", fields.FieldList),
}


def test_specs_in_schema_order(all_kinds: dict[str, Any]) -> None:
    specs = forms.field_specs(all_kinds)
    assert [s.name for s in specs] == list(all_kinds["properties"])
    assert {s.name: s.kind for s in specs} == {n: k for n, (k, _) in KIND_FIELDS.items()}
    by = {s.name: s for s in specs}
    assert by["summary"].required and by["summary"].placeholder == "一句话说明"
    assert by["summary"].bounds == {"minLength": 2, "maxLength": 50}
    assert by["urgency"].options == (("low", "一般"), ("high", "紧急"))
    assert by["category"].options[0] == ("违章搭建", "违章搭建")
    assert by["satisfaction"].options[4] == (5, "5星")
    assert by["photos"].accept == "image/*" and by["photos"].max_items == 9
    assert [c.path for c in by["rooms"].children] == ["rooms/*/name", "rooms/*/area"]
    assert by["rooms"].children[1].required
    assert by["rooms"].children[1].pointer == "/properties/rooms/items/properties/area"


@pytest.mark.parametrize(("name", "expected"), KIND_FIELDS.items())
def test_each_kind_gets_its_wtforms_field(
    all_kinds: dict[str, Any], name: str, expected: tuple[str, type[Any]]
) -> None:
    form = forms.form_class(all_kinds)()
    assert isinstance(form[name], expected[1])


def test_form_class_is_cached_per_schema_and_base(all_kinds: dict[str, Any]) -> None:
    import wtforms

    class Base(wtforms.Form):
        pass

    first = forms.form_class(all_kinds)
    assert forms.form_class(dict(all_kinds)) is first
    assert forms.form_class(all_kinds, base=Base) is not first
    assert issubclass(forms.form_class(all_kinds, base=Base), Base)


EXPECTED_HTML: dict[str, list[str]] = {
    "summary": [
        'type="text"',
        'placeholder="一句话说明"',
        'maxlength="50"',
        'aria-required="true"',
    ],
    "detail": ["<textarea", 'name="detail"'],
    "category": [
        '<select id="category" name="category"',
        '<option value="">Choose…</option>',
        '<option value="违章搭建">违章搭建</option>',
    ],
    "urgency": ['type="radio" id="urgency-1" name="urgency" value="high"', "紧急", "<legend>"],
    "satisfaction": ['type="radio" id="satisfaction-4" name="satisfaction" value="5"'],
    "anonymous": ['type="checkbox"', 'name="anonymous"'],
    "floor": ['type="number"', 'min="1"', 'max="33"'],
    "area": ['type="number"', 'step="0.5"'],
    "found_on": ['type="date"'],
    "found_at": ['type="datetime-local"'],
    "meet_at": ['type="time"'],
    "email": ['type="email"'],
    "phone": ['type="tel"'],
    "link": ['type="url"'],
    "parties": ['type="checkbox" id="parties-2" name="parties" value="物业"'],
    "depts": ['<select id="depts" name="depts" multiple', '<option value="zhifa">执法局</option>'],
    "photos": [
        'type="file" id="photos" name="photos" multiple',
        'accept="image/*"',
        'data-max-items="9"',
    ],
    "files": ['type="file" id="files" name="files" multiple'],
    "rooms": ["<legend>房间</legend>", 'name="_add" value="rooms"'],
}


@pytest.mark.parametrize(("name", "snippets"), EXPECTED_HTML.items())
def test_each_kind_renders(
    all_kinds: dict[str, Any], render: Any, name: str, snippets: list[str]
) -> None:
    html = render(forms.bind(all_kinds))
    block = _field_block(html, name)
    for snippet in snippets:
        assert snippet in block, (snippet, block)
    label = all_kinds["properties"][name]["title"]
    assert label in block


def _field_block(html: str, name: str) -> str:
    start = html.index(f'id="{name}-field"')
    following = re.search(r'id="[a-z_]+-field"', html[start + 10 :])
    end = start + 10 + following.start() if following else len(html)
    return html[start:end]


def test_every_widget_goes_through_the_one_macro(env: Any) -> None:
    source = env.loader.get_source(env, "forms/_macros.html")[0]
    assert source.count("{% macro ") == 1
    assert '"forms/_widget-" ~ spec.kind ~ ".html", "forms/_field.html"' in source


def test_stored_answers_are_shown(all_kinds: dict[str, Any], render: Any) -> None:
    answers = {
        "summary": "楼道堆物",
        "category": "噪音扰民",
        "urgency": "high",
        "satisfaction": 4,
        "anonymous": True,
        "found_on": "2026-11-20",
        "found_at": "2026-11-20T08:30:00+08:00",
        "meet_at": "09:15",
        "parties": ["物业"],
        "depts": ["jianshe"],
        "photos": ["att_abc"],
        "rooms": [{"name": "客厅", "area": 12.5}],
    }
    html = render(forms.bind(all_kinds, data=answers))
    assert 'value="楼道堆物"' in html
    assert '<option value="噪音扰民" selected>' in html
    assert 'value="high" checked' in html and 'value="4" checked' in html
    assert 'checked id="anonymous"' in html
    assert 'value="2026-11-20"' in html and 'value="2026-11-20T08:30"' in html
    assert 'value="09:15"' in html
    assert 'value="物业" checked' in html and '<option value="jianshe" selected>' in html
    assert 'name="photos" value="att_abc" checked' in html
    assert 'name="rooms-0-name" type="text" value="客厅"' in html
    assert 'name="_remove" value="rooms/0"' in html


def test_labels_help_options_and_answers_are_escaped(render: Any) -> None:
    schema = {
        "type": "object",
        "properties": {
            "x": {
                "type": "string",
                "title": "<script>alert(1)</script>",
                "x-help": "<b>帮</b>",
                "x-placeholder": '"><script>',
            },
            "y": {"type": "string", "enum": ["<i>a</i>"], "x-widget": "radio"},
        },
    }
    html = render(forms.bind(schema, data={"x": "<img src=x onerror=alert(1)>"}))
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_errors_are_inline_with_aria(all_kinds: dict[str, Any], render: Any, md: Any) -> None:
    bound = forms.bind(
        all_kinds, formdata=md(("summary", "x"), ("floor", "99"), ("rooms-0-area", "0"))
    )
    bound.validate()
    html = render(bound)
    assert '<p class="field-error" id="summary-error">Enter at least 2 characters.</p>' in html
    assert 'aria-describedby="summary-error" aria-invalid="true"' in html
    assert 'id="category-error">This field is required.' in html
    assert 'id="floor-error">Enter a number no greater than 33.' in html
    assert 'id="rooms-0-area-error">Enter a number no less than 1.' in html


def test_hidden_fields_are_not_rendered_and_triggers_are_flagged(
    conditional: dict[str, Any], render: Any
) -> None:
    html = render(forms.bind(conditional, data={"category": "噪音扰民"}))
    assert 'id="sf-fields"' in html
    assert "building_area" not in html and "permit" not in html and "owner_only" not in html
    assert 'name="category"' in html and 'data-sf-refresh="1"' in html
    html = render(
        forms.bind(
            conditional, data={"category": "违章搭建"}, context={"actor": {"roles": ["resident"]}}
        )
    )
    assert 'name="building_area"' in html and 'name="owner_only"' in html
    block = _field_block(html, "building_area")
    assert 'data-sf-refresh="1"' in block  # permit depends on it


def test_template_words_are_translated(all_kinds: dict[str, Any], env: Any) -> None:
    env.install_gettext_callables(  # a fake catalogue
        lambda s: {
            "Add a row": "添加一行",
            "Remove": "删除",
            "Row %(num)s": "第%(num)s行",
            "Choose…": "请选择",
        }.get(s, s),
        lambda s, p, n: s if n == 1 else p,
        newstyle=True,
    )
    bound = forms.bind(all_kinds, data={"rooms": [{"area": 3}]})
    html = env.get_template("forms/_form_fields.html").render(bound=bound)
    assert ">添加一行<" in html and ">删除<" in html and "第1行" in html and "请选择" in html


def test_kind_table_covers_every_kind() -> None:
    assert set(wtf.FACTORIES) == {kind for kind, _ in KIND_FIELDS.values()}


def test_every_kind_and_keyword_is_documented() -> None:
    from pathlib import Path

    doc = (Path(forms.__file__).parents[1] / "docs" / "forms.md").read_text()
    for kind in wtf.FACTORIES:
        assert f"`{kind}`" in doc, kind
    for keyword in ("x-widget", "x-help", "x-placeholder", "x-show-if", "x-accept", "readOnly"):
        assert f"`{keyword}`" in doc, keyword

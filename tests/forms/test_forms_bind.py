"""bind(): formdata and stored answers → BoundForm; the same result as validate() on JSON."""

from __future__ import annotations

import time
from typing import Any

import pytest
import wtforms
from werkzeug.datastructures import FileStorage
from wtforms.csrf.session import SessionCSRF

import forms
from forms import messages

FORMDATA = [
    ("summary", "楼道堆物"),
    ("detail", "三楼楼道"),
    ("category", "违章搭建"),
    ("urgency", "high"),
    ("satisfaction", "4"),
    ("anonymous", "y"),
    ("floor", "3"),
    ("area", "12.5"),
    ("found_on", "2026-11-20"),
    ("found_at", "2026-11-20T08:30"),
    ("meet_at", "09:15"),
    ("email", "a@example.cn"),
    ("phone", "13812345678"),
    ("link", "https://example.cn/x"),
    ("parties", "党组织"),
    ("parties", "物业"),
    ("depts", "zhifa"),
    ("photos", "att_1"),
    ("photos", "att_2"),
    ("files", ""),
    ("rooms-0-name", "客厅"),
    ("rooms-0-area", "20"),
    ("rooms-1-name", ""),
    ("rooms-1-area", "8"),
    ("csrf_token", "ignored"),
]
JSON = {
    "summary": "楼道堆物",
    "detail": "三楼楼道",
    "category": "违章搭建",
    "urgency": "high",
    "satisfaction": 4,
    "anonymous": True,
    "floor": 3,
    "area": 12.5,
    "found_on": "2026-11-20",
    "found_at": "2026-11-20T08:30",
    "meet_at": "09:15",
    "email": "a@example.cn",
    "phone": "13812345678",
    "link": "https://example.cn/x",
    "parties": ["党组织", "物业"],
    "depts": ["zhifa"],
    "photos": ["att_1", "att_2"],
    "rooms": [{"name": "客厅", "area": 20}, {"area": 8}],
}


def test_formdata_and_json_give_the_same_answers(all_kinds: dict[str, Any], md: Any) -> None:
    bound = forms.bind(all_kinds, formdata=md(*FORMDATA))
    assert bound.validate() == []
    assert bound.data() == JSON
    assert forms.validate(all_kinds, JSON) == (JSON, [])
    assert not bound.rows_changed


BAD = [
    ("summary", "x"),
    ("floor", "0"),
    ("area", "0.3"),
    ("email", "nope"),
    ("phone", "110"),
    ("parties", "居委会"),
    ("photos", "../x"),
    ("rooms-0-area", "0"),
    ("rooms-1-name", "卧室"),
]
BAD_JSON = {
    "summary": "x",
    "floor": 0,
    "area": 0.3,
    "email": "nope",
    "phone": "110",
    "parties": ["居委会"],
    "photos": ["../x"],
    "rooms": [{"area": 0}, {"name": "卧室"}],
    "anonymous": False,
}


def test_formdata_and_json_give_the_same_errors(all_kinds: dict[str, Any], md: Any) -> None:
    bound = forms.bind(all_kinds, formdata=md(*BAD))
    from_form = bound.validate()
    assert bound.data() == BAD_JSON
    _, from_json = forms.validate(all_kinds, BAD_JSON)
    assert from_form == from_json
    assert [e.path for e in from_form] == [
        "summary",
        "category",
        "floor",
        "area",
        "email",
        "phone",
        "parties",
        "photos",
        "rooms/0/area",
        "rooms/1/area",
    ]
    # ...and they are on the WTForms fields for inline display.
    assert bound.form.summary.errors == ["Enter at least 2 characters."]
    assert bound.form.rooms.entries[1].form.area.errors == [messages.REQUIRED]
    assert bound.form.detail.errors == []


def test_unconvertible_input_shows_only_the_conversion_error(
    all_kinds: dict[str, Any], md: Any
) -> None:
    bound = forms.bind(
        all_kinds,
        formdata=md(
            ("summary", "好的"),
            ("category", "其他"),
            ("floor", "三"),
            ("found_on", "2026-02-30"),
            ("satisfaction", "x"),
        ),
    )
    errs = {e.path: e.message for e in bound.validate()}
    assert set(errs) == {"floor", "found_on", "satisfaction"}
    assert "floor" not in bound.data()


def test_empty_inputs_are_no_answer(all_kinds: dict[str, Any], md: Any) -> None:
    blank = [
        (name, "")
        for name in (
            "detail",
            "floor",
            "area",
            "found_on",
            "found_at",
            "meet_at",
            "email",
            "urgency",
            "satisfaction",
        )
    ]
    bound = forms.bind(all_kinds, formdata=md(("summary", "好的"), ("category", "其他"), *blank))
    assert bound.validate() == []
    assert bound.data() == {"summary": "好的", "category": "其他", "anonymous": False}


def test_file_objects_are_not_answers(all_kinds: dict[str, Any], md: Any) -> None:
    data = md(("summary", "好的"), ("category", "其他"), ("photos", "att_9"))
    data.add("photos", FileStorage(filename="x.jpg"))
    assert forms.bind(all_kinds, formdata=data).data()["photos"] == ["att_9"]


def test_add_and_remove_rows(all_kinds: dict[str, Any], md: Any, render: Any) -> None:
    rows = [("rooms-0-area", "1"), ("rooms-5-area", "2"), ("rooms-7-area", "3")]
    bound = forms.bind(all_kinds, formdata=md(*rows, ("_remove", "rooms/1")))
    assert bound.rows_changed
    assert bound.data()["rooms"] == [{"area": 1}, {"area": 3}]
    assert [e.name for e in bound.form.rooms.entries] == ["rooms-0", "rooms-1"]
    bound = forms.bind(all_kinds, formdata=md(*rows[:2], ("_add", "rooms")))
    assert bound.rows_changed and len(bound.form.rooms.entries) == 3
    html = render(bound)
    assert 'name="rooms-2-area"' in html and 'name="_remove" value="rooms/2"' in html
    # maxItems 3: no fourth row, and no add button any more.
    bound = forms.bind(all_kinds, formdata=md(*rows, ("_add", "rooms")))
    assert len(bound.form.rooms.entries) == 3
    assert 'name="_add"' not in render(bound)


def test_stored_answers_round_trip(all_kinds: dict[str, Any]) -> None:
    bound = forms.bind(all_kinds, data=JSON)
    assert bound.data() == JSON
    assert bound.validate() == []


def test_defaults_fill_a_new_form() -> None:
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "default": 3},
            "d": {"type": "string", "format": "date", "default": "2026-01-01"},
            "rows": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {"x": {"type": "string", "default": "甲"}},
                },
            },
        },
    }
    bound = forms.bind(schema)
    assert bound.data() == {"n": 3, "d": "2026-01-01", "rows": [{"x": "甲"}]}


def test_read_only_answers_come_from_the_stored_data(md: Any, render: Any) -> None:
    schema = {
        "type": "object",
        "properties": {
            "code": {"type": "string", "readOnly": True},
            "kind": {"type": "string", "readOnly": True, "enum": ["a", "b"]},
            "note": {"type": "string"},
        },
    }
    bound = forms.bind(
        schema,
        formdata=md(("code", "forged"), ("kind", "b"), ("note", "n")),
        data={"code": "A-1", "kind": "a"},
    )
    assert bound.data() == {"code": "A-1", "kind": "a", "note": "n"}
    html = render(bound)
    assert "readonly" in html and "disabled" in html


def test_visibility_follows_the_submitted_answers(conditional: dict[str, Any], md: Any) -> None:
    bound = forms.bind(
        conditional, formdata=md(("category", "噪音扰民"), ("building_area", "50"), ("permit", "y"))
    )
    assert bound.visible == {
        "category": True,
        "building_area": False,
        "permit": False,
        "owner_only": False,
    }
    assert bound.validate() == [] and bound.data() == {"category": "噪音扰民"}
    assert bound.form.building_area.sf_visible is False
    bound = forms.bind(conditional, formdata=md(("category", "违章搭建")))
    assert [(e.path, e.message) for e in bound.validate()] == [("building_area", messages.REQUIRED)]


class CSRFBase(wtforms.Form):
    """A base whose Meta adds a token field, as flask_wtf.FlaskForm does."""

    class Meta:
        csrf = True
        csrf_secret = b"x"
        csrf_class = SessionCSRF

        @property
        def csrf_context(self) -> dict[str, Any]:
            return {}


def test_base_form_errors_are_form_level(all_kinds: dict[str, Any], md: Any) -> None:
    bound = forms.bind(
        all_kinds, formdata=md(("summary", "好的"), ("category", "其他")), base=CSRFBase
    )
    errs = bound.validate()
    assert errs and {e.path for e in errs} == {""}
    assert isinstance(bound.form, CSRFBase)
    bound = forms.bind(
        all_kinds,
        formdata=md(("summary", "好的"), ("category", "其他")),
        base=CSRFBase,
        meta={"csrf": False},
    )
    assert bound.validate() == []


def test_a_failing_condition_while_binding(md: Any, render: Any) -> None:
    schema = {
        "type": "object",
        "properties": {
            "size": {"type": "integer"},
            "big": {
                "type": "boolean",
                "title": "大件",
                "x-show-if": {">": [{"var": "data.size"}, 10]},
            },
        },
    }
    bound = forms.bind(schema, formdata=md(("size", "")))
    errs = bound.validate()
    assert [e.path for e in errs] == [""]
    html = render(bound)
    assert '<div class="form-errors" role="alert">' in html and "大件" in html


@pytest.mark.parametrize(("typ", "posted", "value"), [("integer", "2", 2), ("number", "1.5", 1.5)])
def test_numeric_options_are_typed(md: Any, typ: str, posted: str, value: Any) -> None:
    schema = {
        "type": "object",
        "properties": {
            "one": {"type": typ, "enum": [1, 2] if typ == "integer" else [1, 1.5]},
            "many": {"type": "array", "items": {"type": "integer", "enum": [1, 2]}},
        },
    }
    assert forms.check_schema(schema) == []
    bound = forms.bind(schema, formdata=md(("one", posted), ("many", "1"), ("many", "2")))
    assert bound.validate() == []
    assert bound.data() == {"one": value, "many": [1, 2]}


@pytest.mark.parametrize(
    ("field", "posted"),
    [
        ("floor", "１２"),  # full-width digits: Python's int() reads them
        ("floor", "١٢"),
        ("floor", "1_2"),
        ("floor", "9" * 5000),
        ("area", "nan"),  # float() reads these: NaN would be stored, and is not JSON
        ("area", "inf"),
        ("area", "１２"),
        ("area", "1_0"),
        ("satisfaction", "３"),
        ("meet_at", "１２:００"),
    ],
)
def test_numbers_are_ascii(all_kinds: dict[str, Any], md: Any, field: str, posted: str) -> None:
    bound = forms.bind(
        all_kinds, formdata=md(("summary", "好的"), ("category", "其他"), (field, posted))
    )
    assert field in {e.path for e in bound.validate()}
    assert field not in bound.data()


def test_ascii_numbers_with_white_space_are_read(all_kinds: dict[str, Any], md: Any) -> None:
    bound = forms.bind(
        all_kinds,
        formdata=md(("summary", "好的"), ("category", "其他"), ("floor", " 12 "), ("area", "2.5")),
    )
    assert bound.validate() == []
    assert bound.data()["floor"] == 12 and bound.data()["area"] == 2.5


@pytest.mark.parametrize("index", ["²", "１", "9" * 5000])
def test_a_row_index_that_is_not_ascii_digits_is_ignored(
    all_kinds: dict[str, Any], md: Any, index: str
) -> None:
    # WTForms' FieldList reads any str.isdigit() index with int(): "²" and 5,000 digits raised.
    bound = forms.bind(
        all_kinds,
        formdata=md(
            ("summary", "好的"),
            ("category", "其他"),
            (f"rooms-{index}-area", "5"),
            ("rooms-0-area", "6"),
        ),
    )
    assert bound.validate() == []
    assert bound.data()["rooms"] == [{"area": 6}]


def test_show_if_comparing_a_long_text_with_a_number_is_fast() -> None:
    schema = {
        "type": "object",
        "properties": {
            "code": {"type": "string", "maxLength": 20},
            "note": {"type": "string", "x-show-if": {"==": [{"var": "data.code"}, 12]}},
        },
    }
    start = time.perf_counter()
    assert forms.visible(schema, {"code": "1" * 10000 + "x"})["note"] is False
    assert time.perf_counter() - start < 0.5  # a quadratic regex took ~4 s

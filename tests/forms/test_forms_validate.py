"""validate(): the one server-side validation, with per-field paths and messages."""

from __future__ import annotations

from typing import Any

import pytest

import forms
from forms import messages


def errors(schema: dict[str, Any], data: Any, **kw: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for error in forms.validate(schema, data, **kw)[1]:
        out.setdefault(error.path, []).append(error.message)
    return out


VALID = {"summary": "楼道堆物", "category": "其他"}


def test_valid_answers_are_cleaned(all_kinds: dict[str, Any]) -> None:
    data = {**VALID, "detail": "", "floor": None, "parties": [], "anonymous": False}
    cleaned, errs = forms.validate(all_kinds, data)
    assert errs == []
    assert cleaned == {**VALID, "anonymous": False}


def test_not_an_object() -> None:
    assert forms.validate({"type": "object", "properties": {}}, [1]) == (
        {},
        [forms.FieldError("", messages.NOT_OBJECT)],
    )


def test_required_and_unknown(all_kinds: dict[str, Any]) -> None:
    assert errors(all_kinds, {"summary": "", "extra": 1}) == {
        "summary": [messages.REQUIRED],
        "category": [messages.REQUIRED],
        "extra": [messages.UNKNOWN_FIELD],
    }


@pytest.mark.parametrize(
    ("answers", "path", "message"),
    [
        ({"summary": "x"}, "summary", "Enter at least 2 characters."),
        ({"summary": "x" * 51}, "summary", "Enter at most 50 characters."),
        ({"summary": 3}, "summary", "Enter text."),
        ({"category": "火灾"}, "category", "Choose one of the offered options."),
        ({"urgency": "mid"}, "urgency", "Choose one of the offered options."),
        ({"satisfaction": 6}, "satisfaction", "Choose one of the offered options."),
        ({"satisfaction": "5"}, "satisfaction", "Enter a whole number."),
        ({"satisfaction": True}, "satisfaction", "Enter a whole number."),
        ({"anonymous": "yes"}, "anonymous", "Choose yes or no."),
        ({"floor": 0}, "floor", "Enter a number no less than 1."),
        ({"floor": 34}, "floor", "Enter a number no greater than 33."),
        ({"floor": 2.5}, "floor", "Enter a whole number."),
        ({"area": 0}, "area", "Enter a number greater than 0."),
        ({"area": 1.2}, "area", "Enter a multiple of 0.5."),
        ({"found_on": "2026-02-30"}, "found_on", "Enter a valid date (YYYY-MM-DD)."),
        ({"found_at": "2026-11-27 13:00"}, "found_at", "Enter a valid date and time."),
        ({"meet_at": "25:00"}, "meet_at", "Enter a valid time (HH:MM)."),
        ({"email": "a@b"}, "email", "Enter a valid email address."),
        ({"phone": "12345"}, "phone", "Enter a valid mobile or landline number."),
        (
            {"link": "javascript:alert(1)"},
            "link",
            "Enter a valid web address starting with http:// or https://.",
        ),
        ({"parties": ["物业", "物业"]}, "parties", "Each value may be given only once."),
        ({"parties": ["党组织", "业委会", "物业"]}, "parties", "Choose at most 2 options."),
        ({"parties": ["居委会"]}, "parties", "Choose one of the offered options."),
        ({"parties": "物业"}, "parties", "Choose a list of values."),
        ({"depts": ["zhifa", 3]}, "depts", "Choose one of the offered options."),
        ({"photos": ["att_1", "../etc/passwd"]}, "photos", "This attachment is not valid."),
        ({"photos": [f"att_{n}" for n in range(10)]}, "photos", "Upload at most 9 files."),
        ({"rooms": [{"area": 2}] * 4}, "rooms", "Add at most 3 rows."),
        ({"rooms": [{"area": 2}, "x"]}, "rooms/1", "Each row must be an object."),
        ({"rooms": [{"area": 2}, {"name": "卧室"}]}, "rooms/1/area", "This field is required."),
        ({"rooms": [{"area": 2}, {"area": 0.5}]}, "rooms/1/area", "Enter a number no less than 1."),
        (
            {"rooms": [{"area": 2, "bogus": 1}]},
            "rooms/0/bogus",
            "This field is not part of the form.",
        ),
    ],
)
def test_each_check_maps_to_its_field(
    all_kinds: dict[str, Any], answers: dict[str, Any], path: str, message: str
) -> None:
    assert errors(all_kinds, {**VALID, **answers}) == {path: [message]}


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("13812345678", True),
        ("+86 13812345678", True),
        ("0571-87654321", True),
        ("057187654321", True),
        ("0571-87654321-123", True),
        ("400-123-4567", True),
        ("12812345678", False),
        ("1381234567", False),
        ("abc", False),
        ("13８12345678", False),  # digits are ASCII
        ("0571-８7654321", False),
    ],
)
def test_phone_format(all_kinds: dict[str, Any], value: str, ok: bool) -> None:
    assert (errors(all_kinds, {**VALID, "phone": value}) == {}) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2026-11-27T13:00:00+08:00", True),
        ("2026-11-27T13:00", True),
        ("2026-11-27T05:00:00Z", True),
        ("2026-11-27", False),
        ("2026-11-27T24:00", False),
        ("2026-11-27T１３:00", False),  # full-width digits matched \d, and int() read them
        ("2026-11-27T13:00+0８:00", False),
    ],
)
def test_datetime_format(all_kinds: dict[str, Any], value: str, ok: bool) -> None:
    assert (errors(all_kinds, {**VALID, "found_at": value}) == {}) is ok


def test_errors_are_in_form_order_and_translated(all_kinds: dict[str, Any]) -> None:
    zh = {messages.REQUIRED: "此项为必填项。", messages.MINIMUM: "请输入不小于 %(min)s 的数。"}
    _, errs = forms.validate(
        all_kinds,
        {"rooms": [{"area": 0}, {}], "floor": 0, "summary": "好的"},
        gettext=lambda s: zh.get(s, s),
    )
    assert errs == [
        forms.FieldError("category", "此项为必填项。"),
        forms.FieldError("floor", "请输入不小于 1 的数。"),
        forms.FieldError("rooms/0/area", "请输入不小于 1 的数。"),
        forms.FieldError("rooms/1/area", "此项为必填项。"),
    ]


def test_hidden_fields_are_pruned_and_not_required(conditional: dict[str, Any]) -> None:
    answers = {"category": "噪音扰民", "building_area": 50, "permit": True, "owner_only": "x"}
    cleaned, errs = forms.validate(conditional, answers)
    assert (cleaned, errs) == ({"category": "噪音扰民"}, [])
    assert errors(conditional, {"category": "违章搭建"}) == {"building_area": [messages.REQUIRED]}
    cleaned, errs = forms.validate(
        conditional, {**answers, "category": "违章搭建"}, context={"actor": {"roles": ["resident"]}}
    )
    assert errs == [] and cleaned == {**answers, "category": "违章搭建"}


def test_a_field_hidden_because_its_trigger_is_hidden(conditional: dict[str, Any]) -> None:
    # permit depends on building_area, which is hidden: permit goes too.
    assert forms.visible(conditional, {"category": "噪音扰民", "building_area": 50}) == {
        "category": True,
        "building_area": False,
        "permit": False,
        "owner_only": False,
    }


def test_visibility_inside_group_rows() -> None:
    schema = {
        "type": "object",
        "properties": {
            "mode": {"type": "string", "enum": ["简", "详"]},
            "rooms": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["why"],
                    "properties": {
                        "broken": {"type": "boolean"},
                        "why": {
                            "type": "string",
                            "x-show-if": {
                                "and": [{"var": "row.broken"}, {"==": [{"var": "data.mode"}, "详"]}]
                            },
                        },
                    },
                },
            },
        },
    }
    rows = [{"broken": True}, {"broken": False, "why": "stale"}]
    cleaned, errs = forms.validate(schema, {"mode": "详", "rooms": rows})
    assert errs == [forms.FieldError("rooms/0/why", messages.REQUIRED)]
    assert cleaned["rooms"] == [{"broken": True}, {"broken": False}]
    assert forms.visible(schema, {"mode": "简", "rooms": rows})["rooms/0/why"] is False


def test_a_failing_condition_is_a_form_level_error() -> None:
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
    cleaned, errs = forms.validate(schema, {"big": True})
    assert cleaned == {"big": True}  # a failing condition leaves its field shown
    assert len(errs) == 1 and errs[0].path == ""
    assert "大件" in errs[0].message and "/properties/big/x-show-if/>/0" in errs[0].message
    assert forms.validate(schema, {"size": 12, "big": True}) == ({"size": 12, "big": True}, [])
    assert forms.visible(schema, {})["big"] is True


def test_context_cannot_replace_the_answers(conditional: dict[str, Any]) -> None:
    vis = forms.visible(conditional, {"category": "违章搭建"}, {"data": {"category": "噪音扰民"}})
    assert vis["building_area"] is True


def test_every_msgid_is_listed() -> None:
    import ast
    from pathlib import Path

    listed = set(messages.MESSAGES)
    for module in Path(forms.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and (node.value.id == "M")
            ):
                assert getattr(messages, node.attr) in listed, (module.name, node.attr)
    templates = Path(forms.__file__).parents[1] / "pages" / "templates" / "forms"
    import re

    for template in templates.glob("*.html"):
        for msgid in re.findall(r"_\(\s*[\"']([^\"']+)[\"']", template.read_text()):
            assert msgid in listed, (template.name, msgid)


@pytest.mark.parametrize("value", ["１３:00", "13:０0", "13:00:0５", "13:00+0８:00"])
def test_time_digits_are_ascii(all_kinds: dict[str, Any], value: str) -> None:
    assert "meet_at" in errors(all_kinds, {**VALID, "meet_at": value})

"""The form builder's rows ⇄ JSON Schema, and condition rows ⇄ JSON Logic, round-trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import forms
import rules
from forms.builder import (
    OPERATORS,
    Condition,
    FieldRow,
    FormRows,
    Group,
    condition_logic,
    group_logic,
    parse_condition,
    parse_group,
    parse_value,
    rows_from_schema,
    schema_from_rows,
    value_text,
)
from forms.specs import KINDS

SEED = Path(__file__).resolve().parents[2] / "seed" / "gongshu"

ROWS = {
    "text": FieldRow(
        "t",
        "text",
        "名称",
        help="帮助",
        placeholder="如:",
        required=True,
        bounds={"minLength": 2, "maxLength": 20},
        pattern="^[a-z]+$",
    ),
    "textarea": FieldRow("ta", "textarea", "描述", bounds={"maxLength": 500}),
    "email": FieldRow("em", "email", "邮箱"),
    "uri": FieldRow("u", "uri", "链接"),
    "phone": FieldRow("ph", "phone", "电话", required=True),
    "date": FieldRow("d", "date", "日期"),
    "datetime": FieldRow("dt", "datetime", "时间"),
    "time": FieldRow("tm", "time", "时刻"),
    "select": FieldRow("s", "select", "类别", options=[("甲", "甲"), ("乙", "乙")]),
    "radio": FieldRow(
        "r", "radio", "满意度", options=[(1, "很差"), (5, "很好")], value_type="integer"
    ),
    "checkbox": FieldRow("c", "checkbox", "已处理"),
    "integer": FieldRow("i", "integer", "楼层", bounds={"minimum": 1, "maximum": 99}),
    "number": FieldRow("n", "number", "面积", bounds={"exclusiveMinimum": 0, "multipleOf": 0.5}),
    "checkboxes": FieldRow(
        "cb", "checkboxes", "多选", options=[("a", "A"), ("b", "B")], bounds={"minItems": 1}
    ),
    "multiselect": FieldRow("ms", "multiselect", "多选2", options=[("x", "x"), ("y", "y")]),
    "photo": FieldRow("p", "photo", "照片", bounds={"maxItems": 9}, accept="image/*"),
    "file": FieldRow("f", "file", "附件", bounds={"maxItems": 3}),
    "group": FieldRow(
        "g",
        "group",
        "房间",
        bounds={"maxItems": 5},
        children=[
            FieldRow("area", "number", "面积", required=True),
            FieldRow("why", "text", "原因", show_if=Group("all", [Condition("area", ">", 10)])),
        ],
    ),
}


def test_every_kind_has_a_row() -> None:
    assert set(ROWS) == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_round_trips_and_is_a_valid_form(kind: str) -> None:
    row = ROWS[kind]
    schema = schema_from_rows(FormRows([row]))
    assert forms.check_schema(schema) == []
    assert [s.kind for s in forms.field_specs(schema)] == [kind]
    back = rows_from_schema(schema)
    assert back.rows == [row]
    assert schema_from_rows(back) == schema


def test_a_whole_form_keeps_order_and_required() -> None:
    form = FormRows(list(ROWS.values()), {"title": "表"})
    schema = schema_from_rows(form)
    assert list(schema["properties"]) == [r.name for r in ROWS.values()]
    assert schema["required"] == ["t", "ph"]
    assert schema["properties"]["g"]["items"]["required"] == ["area"]
    assert schema["properties"]["g"]["items"]["properties"]["why"]["x-show-if"] == {
        "and": [{"!=": [{"var": "row.area"}, None]}, {">": [{"var": "row.area"}, 10]}]
    }
    assert forms.check_schema(schema) == []


VALUES = {
    "==": "甲",
    "!=": 3,
    "in": ["甲", "乙"],
    "not in": [1, 2],
    ">": 5,
    ">=": 5.5,
    "<": 0,
    "<=": 10,
    "contains": "a",
    "is empty": None,
    "is not empty": None,
}


@pytest.mark.parametrize("op", OPERATORS)
def test_each_operator_round_trips_and_is_a_valid_rule(op: str) -> None:
    cond = Condition("floor", op, VALUES[op])
    logic = condition_logic(cond)
    assert rules.validate(logic) == []
    assert parse_condition(logic) == cond
    assert parse_group(logic) == Group("all", [cond])


@pytest.mark.parametrize(
    ("op", "answer", "shown"),
    [
        ("==", "甲", True),
        ("==", "乙", False),
        ("!=", 4, True),
        ("in", "乙", True),
        ("in", "丙", False),
        ("not in", 1, False),
        ("not in", 7, True),
        (">", 6, True),
        (">", None, False),
        (">=", 5.5, True),
        ("<", -1, True),
        ("<=", 11, False),
        ("contains", ["a", "b"], True),
        ("contains", [], False),
        ("is empty", None, True),
        ("is empty", "x", False),
        ("is not empty", "x", True),
    ],
)
def test_operators_mean_what_they_say(op: str, answer: object, shown: bool) -> None:
    logic = condition_logic(Condition("floor", op, VALUES[op]))
    data = {} if answer is None else {"floor": answer}
    assert bool(rules.evaluate(logic, {"data": data})) is shown


def test_nested_groups_round_trip() -> None:
    group = Group(
        "any",
        [
            Condition("a", "==", 1),
            Group("all", [Condition("b", "is not empty"), Condition("c", "in", ["x"])]),
            Group(
                "any",
                [
                    Condition("d", "<", 3),
                    Group("all", [Condition("e", "!=", "y"), Condition("f", ">=", 2)]),
                ],
            ),
        ],
    )
    logic = group_logic(group)
    assert logic["or"][1]["and"][0] == {"!!": {"var": "data.b"}}
    assert rules.validate(logic) == []
    assert parse_group(logic) == group
    assert group_logic(Group("all", [])) is True


@pytest.mark.parametrize(
    "rule",
    [
        {"within": [{"var": "node.path"}, "chaohui"]},
        {"and": [{"==": [{"var": "data.a"}, 1]}]},
        {">": [{"var": ["data.size", 0]}, 10]},
        {"==": [{"var": "data.a"}, {"var": "data.b"}]},
    ],
)
def test_rules_the_builder_cannot_show_are_kept_as_written(rule: object) -> None:
    assert parse_group(rule) is None
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "integer"},
            "b": {"type": "integer"},
            "size": {"type": "integer"},
            "x": {"type": "string", "x-show-if": rule},
        },
    }
    form = rows_from_schema(schema)
    assert form.rows[3].show_if_raw == rule
    assert schema_from_rows(form) == schema


def test_every_seed_form_round_trips_unchanged() -> None:
    count = 0
    for path in SEED.rglob("*.json"):
        body = json.loads(path.read_text("utf-8"))
        if not isinstance(body, dict) or "schema" not in body:
            continue
        schemas = [body["schema"]] + [
            t["form"] for t in body.get("workflow", {}).get("transitions", []) if "form" in t
        ]
        for schema in schemas:
            back = schema_from_rows(rows_from_schema(schema))
            assert back == schema
            assert list(back["properties"]) == list(schema["properties"])
            count += 1
    assert count > 5


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("3", "integer", 3),
        ("2.5", "number", 2.5),
        ("4.0", "number", 4),
        ("x", "integer", "x"),
        (" 甲 ", "string", "甲"),
        ("是", "boolean", True),
        ("no", "boolean", False),
        # not numbers: stay text for the publish check (inf/nan raised a 500, １２ became 12)
        ("inf", "integer", "inf"),
        ("nan", "number", "nan"),
        ("１２", "integer", "１２"),
        ("1_0", "number", "1_0"),
        ("1e400", "number", "1e400"),
        (" -1e3 ", "number", -1000),
    ],
)
def test_parse_value(text: str, kind: str, value: object) -> None:
    assert parse_value(text, kind) == value


def test_value_text() -> None:
    assert value_text(["a", 1]) == "a, 1"
    assert value_text(True) == "true"
    assert value_text(None) == ""


def test_a_visibility_on_the_rule_documents_context_is_shown_as_rows_and_kept() -> None:
    """A field shown by the place's kind or the raiser's role is a row of the builder (the
    designer offers these in words) and writes back the same rule."""
    rule = {
        "and": [
            {"==": [{"var": "node.kind"}, "compound"]},
            {"in": ["commissioner", {"var": "actor.roles"}]},
            {"==": [{"var": "data.a"}, 1]},
        ]
    }
    assert parse_group(rule) is None  # (without context, as before)
    schema = {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "x": {"type": "string", "x-show-if": rule}},
    }
    form = rows_from_schema(schema)
    assert form.rows[1].show_if_raw is None
    assert [c.field for c in form.rows[1].show_if.items] == ["node.kind", "actor.roles", "a"]
    assert schema_from_rows(form) == schema

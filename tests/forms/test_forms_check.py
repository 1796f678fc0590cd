"""check_schema: the supported subset, refused with a JSON Pointer to the mistake."""

from __future__ import annotations

from typing import Any

import pytest

import forms


def one_field(prop: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": {"f": prop, **extra.pop("more", {})}, **extra}


def paths(schema: Any) -> list[str]:
    return [problem.path for problem in forms.check_schema(schema)]


def test_every_kind_is_accepted(all_kinds: dict[str, Any], conditional: dict[str, Any]) -> None:
    assert forms.check_schema(all_kinds) == []
    assert forms.check_schema(conditional) == []


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        ([], ""),
        ({"type": "array"}, "/type"),
        ({"type": "object", "properties": {"f": {"type": "strnig"}}}, "/properties/f/type"),
        (one_field({"type": "null"}), "/properties/f/type"),
        (one_field({"type": ["string", "null"]}), "/properties/f/type"),
        (one_field({"type": "object", "properties": {}}), "/properties/f/type"),
        (one_field({"type": "string", "x-widget": "slider"}), "/properties/f/x-widget"),
        (one_field({"type": "integer", "x-widget": "textarea"}), "/properties/f/x-widget"),
        (
            one_field({"type": "string", "enum": ["a"], "x-widget": "checkboxes"}),
            "/properties/f/x-widget",
        ),
        (one_field({"type": "string", "pattern": "(unclosed"}), "/properties/f/pattern"),
        (one_field({"type": "string", "format": "ipv4"}), "/properties/f/format"),
        (one_field({"type": "string", "if": {}}), "/properties/f/if"),
        (one_field({"type": "string", "enum": []}), "/properties/f/enum"),
        (one_field({"type": "string", "enum": ["a", 1]}), "/properties/f/enum"),
        (one_field({"type": "integer", "enum": [1, 1]}), "/properties/f/enum"),
        (
            one_field({"type": "string", "oneOf": [{"const": "a", "title": "甲", "x": 1}]}),
            "/properties/f/oneOf/0",
        ),
        (one_field({"type": "array", "items": {"type": "string"}}), "/properties/f/items"),
        (
            one_field(
                {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "g": {"type": "array", "items": {"type": "object", "properties": {}}}
                        },
                    },
                }
            ),
            "/properties/f/items/properties/g/items",
        ),
        (one_field({"type": "integer", "default": "three"}), "/properties/f/default"),
        (one_field({"type": "string", "title": 3}), "/properties/f/title"),
        (one_field({"type": "string"}, required=["g"]), "/required/0"),
        ({"type": "object", "properties": {"2nd": {"type": "string"}}}, "/properties/2nd"),
        ({"type": "object", "properties": {"data": {"type": "string"}}}, "/properties/data"),
        (
            {"type": "object", "properties": {"validate_x": {"type": "string"}}},
            "/properties/validate_x",
        ),
        (
            {"type": "object", "additionalProperties": False, "properties": {}},
            "/additionalProperties",
        ),
    ],
)
def test_refusals_point_at_the_mistake(schema: Any, path: str) -> None:
    assert path in paths(schema)


def test_show_if_with_method_is_refused_inside_the_rule() -> None:
    schema = one_field(
        {"type": "string", "x-show-if": {"method": [{"var": "data.g"}, "upper"]}},
        more={"g": {"type": "string"}},
    )
    problems = forms.check_schema(schema)
    assert [p.path for p in problems] == ["/properties/f/x-show-if/method"]
    assert "method" in problems[0].message


def test_show_if_rule_problem_path_goes_into_the_rule() -> None:
    schema = one_field({"type": "string", "x-show-if": {"==": [{"nope": [1]}, 1]}})
    assert paths(schema) == ["/properties/f/x-show-if/==/0/nope"]


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"==": [{"var": "data.missing"}, 1]}, "/properties/f/x-show-if/==/0/var"),
        ({"==": [{"var": ["data.missing", 0]}, 1]}, "/properties/f/x-show-if/==/0/var/0"),
        ({"!": {"var": "data"}}, "/properties/f/x-show-if/!/var"),
        ({"!": {"var": ""}}, "/properties/f/x-show-if/!/var"),
        ({"!": {"var": "row.g"}}, "/properties/f/x-show-if/!/var"),
        ({"!": {"var": "data.f"}}, "/properties/f/x-show-if/!/var"),
        ({"!": {"var": {"cat": ["data.", "g"]}}}, "/properties/f/x-show-if/!/var"),
    ],
)
def test_show_if_reads_only_existing_fields(rule: Any, path: str) -> None:
    schema = one_field({"type": "string", "x-show-if": rule}, more={"g": {"type": "string"}})
    assert path in paths(schema)


def test_show_if_may_read_context_and_sibling_rows() -> None:
    schema = {
        "type": "object",
        "properties": {
            "kind": {"type": "string", "enum": ["a", "b"]},
            "owner": {"type": "string", "x-show-if": {"==": [{"var": "node.kind"}, "compound"]}},
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "has": {"type": "boolean"},
                        "what": {
                            "type": "string",
                            "x-show-if": {
                                "and": [{"var": "row.has"}, {"==": [{"var": "data.kind"}, "a"]}]
                            },
                        },
                    },
                },
            },
        },
    }
    assert forms.check_schema(schema) == []
    bad = {
        "type": "object",
        "properties": {
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"what": {"type": "string", "x-show-if": {"var": "row.nope"}}},
                },
            }
        },
    }
    assert paths(bad) == ["/properties/rows/items/properties/what/x-show-if/var"]


def test_messages_go_through_gettext() -> None:
    problems = forms.check_schema(one_field({"type": "null"}), gettext=lambda s: "译:" + s)
    assert problems[0].message.startswith("译:Type ")

"""Static validation: allow-list, refused operators, object shape, arity, caps, paths."""

from __future__ import annotations

import pytest

import rules
from rules import Problem, RuleError


def test_valid_rule_has_no_problems() -> None:
    assert rules.validate({"and": [{"==": [{"var": "data.category"}, "违章搭建"]}, True]}) == []


@pytest.mark.parametrize("literal", [1, 2.5, "x", None, True, [1, "a"], []])
def test_literals_are_valid_rules(literal: object) -> None:
    assert rules.validate(literal) == []


def test_method_is_refused_with_its_path() -> None:
    rule = {"and": [True, {"method": [{"var": "now"}, "isoformat"]}]}
    assert rules.validate(rule) == [
        Problem("/and/1/method", "operator 'method' is not allowed (rules may not call methods)")
    ]


@pytest.mark.parametrize("op", ["log", "count"])
def test_other_qubit_operators_are_refused(op: str) -> None:
    [problem] = rules.validate({op: [1]})
    assert problem.path == f"/{op}" and "not allowed" in problem.message


def test_unknown_operator() -> None:
    assert rules.validate({"or": [{"sum": [1, 2]}]}) == [
        Problem("/or/0/sum", "unknown operator 'sum'")
    ]


def test_dotted_operator_is_unknown() -> None:
    # json-logic-qubit would resolve "datetime.datetime.now" through custom operations.
    [problem] = rules.validate({"datetime.datetime.now": []})
    assert problem.message == "unknown operator 'datetime.datetime.now'"


def test_pointer_escapes_slash_and_tilde() -> None:
    [problem] = rules.validate({"/": [1, {"a/b~": 1}]})
    assert problem.path == "/~1/1/a~1b~0"


@pytest.mark.parametrize("obj", [{"==": [1, 1], "!=": [1, 2]}, {}])
def test_object_with_other_than_one_key_is_refused(obj: dict[str, object]) -> None:
    [problem] = rules.validate({"!": [obj]})
    assert problem.path == "/!/0"
    assert problem.message.startswith("a rule object has exactly one operator")


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"==": [1]}, "/=="),
        ({"?:": [True, 1]}, "/?:"),
        ({"and": []}, "/and"),
        ({">": [3, 2, 1]}, "/>"),
        ({"<": [1, 2, 3, 4]}, "/<"),
        ({"max": []}, "/max"),
        ({"if": [True, {"hours_between": ["2026-01-01T00:00:00+08:00"]}]}, "/if/1/hours_between"),
    ],
)
def test_wrong_arity(rule: object, path: str) -> None:
    [problem] = rules.validate(rule)
    assert problem.path == path and "argument(s), got" in problem.message


def test_var_name_must_be_text_or_number() -> None:
    [problem] = rules.validate({"var": [[1], 2]})
    assert problem == Problem("/var/0", "a var name must be text or a number")


def test_nan_and_non_json_values_are_refused() -> None:
    assert rules.validate({"+": [float("nan"), 1]})[0].path == "/+/0"
    assert "not a JSON value" in rules.validate({"+": [{1, 2}]})[0].message


def _nested(levels: int) -> object:
    rule: object = True
    for _ in range(levels):
        rule = {"!": [rule]}
    return rule


def test_depth_cap() -> None:
    assert rules.validate(_nested(rules.MAX_DEPTH - 1)) == []
    [problem] = rules.validate(_nested(rules.MAX_DEPTH))
    assert problem.message == "rule nested deeper than 32 levels"
    assert problem.path == "/!/0" * rules.MAX_DEPTH


def test_depth_cap_override() -> None:
    assert rules.validate(_nested(3), max_depth=3) != []
    assert rules.validate(_nested(3), max_depth=4) == []


def test_node_cap() -> None:
    big = {"+": list(range(rules.MAX_NODES))}
    assert rules.validate(big) == [Problem("", "rule has more than 2000 nodes")]
    assert rules.validate({"+": list(range(10))}, max_nodes=11) == [
        Problem("", "rule has more than 11 nodes")
    ]
    assert rules.validate({"+": list(range(10))}, max_nodes=12) == []


def test_very_deep_rule_does_not_blow_the_stack() -> None:
    assert rules.validate(_nested(50_000))[0].message.startswith("rule nested deeper")


def test_check_raises_first_problem() -> None:
    with pytest.raises(RuleError) as caught:
        rules.check({"and": [{"method": [1, "x"]}, {"foo": 1}]})
    assert caught.value.path == "/and/0/method"
    assert str(caught.value).startswith("/and/0/method: operator 'method'")


def test_root_error_renders_slash() -> None:
    assert str(RuleError("", "boom")) == "/: boom"


def test_evaluate_and_compile_refuse_invalid_rules() -> None:
    for run in (lambda r: rules.evaluate(r, {}), lambda r: rules.compile(r)({})):
        with pytest.raises(RuleError) as caught:
            run({"method": ["abc", "upper"]})
        assert not isinstance(caught.value, rules.RuleEvalError)


def test_method_refused_at_evaluation_even_without_check(monkeypatch: pytest.MonkeyPatch) -> None:
    from rules import reference

    monkeypatch.setattr(reference, "check", lambda rule: None)
    with pytest.raises(rules.RuleEvalError):
        reference.evaluate({"method": ["abc", "upper"]}, {})


def test_vars_used() -> None:
    rule = {
        "and": [
            {"==": [{"var": "data.category"}, "x"]},
            {"in": [{"var": ["node.key", "?"]}, ["a"]]},
            {"missing": ["data.phone"]},
            {"missing_some": [1, ["data.a", "data.b"]]},
            {"some": [{"var": "data.rooms"}, {"var": "area"}]},
            {"var": {"cat": ["data.", {"var": "data.field"}]}},
        ]
    }
    assert rules.vars_used(rule) == {
        "data.category",
        "node.key",
        "data.phone",
        "data.a",
        "data.b",
        "data.rooms",
        "data.field",
    }

"""The error policy: no NaN, no Infinity, no comparing the incomparable; every error has a path."""

from __future__ import annotations

from typing import Any

import pytest
from rules_support import outcome

import rules

DOC: dict[str, Any] = {
    "data": {"name": "abc", "n": "12", "tags": ["a"], "empty": ""},
    "items": ["x", "7"],
    "now": "2026-11-27T13:00:00+08:00",
}

ERRORS = [
    ({"+": ["abc", 1]}, "/+/0", "'abc' is not a number"),
    ({"+": [1, {"var": "data.missing"}]}, "/+/1", "null (a missing value?) used as a number"),
    ({"*": [{"var": "data.empty"}, 2]}, "/*/0", "'' is not a number"),
    ({"-": [True, 1]}, "/-/0", "true is not a number"),
    ({"max": [1, "1.5x"]}, "/max/1", "'1.5x' is not a number"),
    ({"/": [1, 0]}, "/~1/1", "division by zero"),
    ({"/": [1, "0.0"]}, "/~1/1", "division by zero"),
    ({"%": [5, 0]}, "/%/1", "modulo by zero"),
    ({"*": [1e308, 10]}, "/*", "the result is not a finite number"),
    ({"<": [{"var": "data.name"}, 3]}, "/</0", "cannot order text 'abc' against 3"),
    ({">": [3, {"var": "data.name"}]}, "/>/1", "cannot order text 'abc' against 3"),
    ({">=": [{"var": "data.nope"}, 3]}, "/>=/0", "cannot order null (a missing value?) against 3"),
    ({"<": [5, 1, "abc"]}, "/</2", "cannot order text 'abc' against 1"),
    ({"<=": [{"var": "data.tags"}, 3]}, "/<=/0", "cannot order a list"),
    (
        {"and": [True, {"==": [{"var": "data.tags"}, "a"]}]},
        "/and/1/==",
        "cannot compare a list with 'a' using ==",
    ),
    ({"in": ["a", {"var": "data.nope"}]}, "/in/1", "'in' needs a list or text, got null"),
    (
        {"filter": [{"var": "items"}, {"+": [{"var": ""}, 1]}]},
        "/filter/1/+/0",
        "'x' is not a number",
    ),
    ({"substr": ["abc", 1.5]}, "/substr/1", "1.5 is not a whole number"),
    (
        {"hours_between": ["yesterday", {"var": "now"}]},
        "/hours_between/0",
        "'yesterday' is not an ISO-8601 date",
    ),
    (
        {"hours_between": ["2026-11-27T13:00:00", {"var": "now"}]},
        "/hours_between/0",
        "'2026-11-27T13:00:00' has a time but no UTC offset",
    ),
    ({"add_hours": ["2026-11-27", 1]}, "/add_hours/0", "'2026-11-27' is a date without a time"),
    ({"date": "2026-02-30"}, "/date", "'2026-02-30' is not an ISO-8601 date"),
    (
        {"within": [{"var": "node.path"}, "x"]},
        "/within/0",
        "'within' needs the node path list, got null",
    ),
    ({"var": {"var": "data.tags"}}, "/var", "a var name must be text or a number, not a list"),
    ({"missing_some": [1, "a"]}, "/missing_some/1", "missing_some needs a list of names"),
    ({"cat": [{"var": "data"}]}, "/cat", "cannot turn an object into text"),
]


@pytest.mark.parametrize(("rule", "path", "message"), ERRORS)
def test_error_policy(rule: Any, path: str, message: str) -> None:
    for run in (rules.evaluate, lambda r, d: rules.compile(r)(d)):
        with pytest.raises(rules.RuleEvalError) as caught:
            run(rule, DOC)
        assert (caught.value.path, caught.value.message) == (path, message)
        assert str(caught.value) == f"{path}: {message}"


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"+": ["1.5", "2"]}, 3.5),
        ({"+": [" 7 ", 1]}, 8),
        ({"*": ["1e3", 1]}, 1000),
        ({"<": [{"var": "data.n"}, 13]}, True),
        ({"<": ["10", "9"]}, True),  # two texts compare as text, as in JavaScript
        ({"==": [{"var": "data.n"}, 12]}, True),
        ({"==": ["abc", 1]}, False),  # equality never fails on scalars
        ({"==": [{"var": "data.tags"}, None]}, False),
        ({"===": [{"var": "data.tags"}, {"var": "data.tags"}]}, False),
        ({"in": [{"var": "data.tags"}, [["a"]]]}, False),
        ({"<": [False, True]}, True),
    ],
)
def test_coercions_that_succeed(rule: Any, expected: Any) -> None:
    assert rules.evaluate(rule, DOC) == expected
    assert rules.compile(rule)(DOC) == expected


def test_errors_are_value_errors_and_rule_errors() -> None:
    assert outcome(rules.evaluate, {"/": [1, 0]}, DOC)[0] == "eval-error"
    assert issubclass(rules.RuleEvalError, rules.RuleError)
    assert issubclass(rules.RuleError, ValueError)

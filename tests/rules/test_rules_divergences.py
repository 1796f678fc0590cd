"""Where json-logic-qubit departs from the published JsonLogic semantics, we follow the latter.

Each case shows qubit's answer next to ours (docs/rules.md, "Divergences").
"""

from __future__ import annotations

from typing import Any

import json_logic
import pytest

import rules

# (rule, data, qubit's answer or exception type, ours or RuleEvalError)
CASES: list[tuple[Any, Any, Any, Any]] = [
    ({"%": [-7, 3]}, {}, 2, -1),
    ({"==": [True, 2]}, {}, True, False),
    ({"==": [None, "None"]}, {}, True, False),
    ({"==": [0, ""]}, {}, False, True),
    ({"==": ["1.0", 1]}, {}, False, True),
    ({"!=": [True, 2]}, {}, False, True),
    ({"!!": {"var": "x"}}, {"x": {}}, False, True),
    ({"cat": [True, None, {"var": "x"}]}, {"x": [1, None, 2]}, "TrueNone[1, None, 2]", "true1,,2"),
    ({"in": [1, [True]]}, {}, True, False),
    ({"in": [1, "a1"]}, {}, TypeError, True),
    ({"substr": [12345, 1]}, {}, TypeError, "2345"),
    ({"filter": [[0, 1, 2], {"==": [{"var": ""}, 0]}]}, {}, [], [0]),
    ({"===": [{"var": "a"}, {"var": "b"}]}, {"a": [1], "b": [1]}, True, False),
    ({"+": ["abc", 1]}, {}, ValueError, rules.RuleEvalError),
    ({"+": [True, 1]}, {}, 2, rules.RuleEvalError),
    ({"/": [1, 0]}, {}, ZeroDivisionError, rules.RuleEvalError),
    ({"%": [1, 0]}, {}, ZeroDivisionError, rules.RuleEvalError),
    ({"<": [None, 1]}, {}, False, rules.RuleEvalError),
    ({"<": ["abc", 1]}, {}, ValueError, rules.RuleEvalError),
    ({"==": [{"var": "a"}, {"var": "b"}]}, {"a": [1], "b": [1]}, True, rules.RuleEvalError),
    ({"in": ["x", None]}, {}, False, rules.RuleEvalError),
]


def _run(fn: Any, rule: Any, data: Any) -> Any:
    try:
        return fn(rule, data)
    except Exception as error:  # noqa: BLE001 - the exception type is the answer
        return type(error)


@pytest.mark.parametrize(("rule", "data", "qubit", "ours"), CASES)
def test_divergence(rule: Any, data: Any, qubit: Any, ours: Any) -> None:
    assert _run(json_logic.jsonLogic, rule, data) == qubit
    assert _run(rules.evaluate, rule, data) == ours
    assert _run(lambda r, d: rules.compile(r)(d), rule, data) == ours


@pytest.mark.parametrize(
    "rule", [{"and": []}, {"or": []}, {"max": []}, {"min": []}, {"!": [1, 2]}, {">": [3, 2, 1]}]
)
def test_refused_arity_where_qubit_answers(rule: Any) -> None:
    assert rules.validate(rule) != []


def test_qubit_global_operations_untouched() -> None:
    before = dict(json_logic.operations)
    rules.evaluate({"hours_between": ["2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z"]}, {})
    assert dict(json_logic.operations) == before
    assert "hours_between" not in json_logic.operations and "method" in json_logic.operations

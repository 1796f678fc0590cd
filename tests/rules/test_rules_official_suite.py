"""The official JsonLogic suite (tests/data/jsonlogic/tests.json) through both evaluators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rules_support import outcome

import rules

SUITE = Path(__file__).parents[1] / "data" / "jsonlogic" / "tests.json"

# Official cases we diverge from on purpose: index in the suite -> reason. Keep minimal.
DIVERGENT: dict[int, str] = {}


def _cases() -> list[Any]:
    entries = json.loads(SUITE.read_text(encoding="utf-8"))
    cases = [entry for entry in entries if isinstance(entry, list)]
    return [
        pytest.param(
            rule,
            data,
            expected,
            id=f"{i}:{json.dumps(rule)[:60]}",
            marks=[pytest.mark.skip(reason=DIVERGENT[i])] if i in DIVERGENT else [],
        )
        for i, (rule, data, expected) in enumerate(cases)
    ]


def _same(got: Any, expected: Any) -> bool:
    # JSON has one number type: 2 and 2.0 are the same result, True and 1 are not.
    if isinstance(expected, bool) or isinstance(got, bool):
        return got is expected
    if isinstance(expected, list) and isinstance(got, list):
        return len(got) == len(expected) and all(map(_same, got, expected))
    return bool(got == expected)


def test_suite_is_vendored_whole() -> None:
    assert len(_cases()) == 278


@pytest.mark.parametrize(("rule", "data", "expected"), _cases())
def test_reference_evaluator(rule: Any, data: Any, expected: Any) -> None:
    # JsonLogic's apply() reads missing data as {} (`data || {}` in json-logic-js).
    assert _same(rules.evaluate(rule, {} if data is None else data), expected)


@pytest.mark.parametrize(("rule", "data", "expected"), _cases())
def test_compiled_evaluator(rule: Any, data: Any, expected: Any) -> None:
    assert _same(rules.compile(rule)({} if data is None else data), expected)


@pytest.mark.parametrize(("rule", "data", "expected"), _cases())
def test_differential_on_suite_data_variants(rule: Any, data: Any, expected: Any) -> None:
    """Same results or same errors on the suite's rules with other data."""
    variants = [
        {} if data is None else data,
        {"a": None, "x": [1], "integers": ["a", 2]},
        {"temp": "hot", "pie": {"filling": 3}, "financing": 0},
    ]
    for doc in variants:
        assert outcome(rules.evaluate, rule, doc) == outcome(
            lambda r, d: rules.compile(r)(d), rule, doc
        )

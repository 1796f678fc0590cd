"""No valid rule can hurt the server: every evaluation has a budget (docs/rules.md, "Caps").

Before: a 228-byte reduce doubled its text forty times (MemoryError after seconds),
and data nested 300+ levels deep raised a raw RecursionError in cat, substr and
routing reasons.
"""

from __future__ import annotations

import json
import random
import time
from typing import Any

import pytest
from rules_support import outcome

import rules
from rules import budget, compiler
from rules.routing import Route, Table

ACC = {"var": "accumulator"}
FORTY = list(range(40))


def both(rule: Any, doc: Any) -> tuple[Any, ...]:
    """The outcome of both evaluators, which must agree (same message, same path)."""
    reference = outcome(rules.evaluate, rule, doc)
    assert outcome(lambda r, d: rules.compile(r)(d), rule, doc) == reference, rule
    return reference


def nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("rule", "path", "message"),
    [
        ({"reduce": [FORTY, {"cat": [ACC, ACC]}, "x"]}, "/reduce/1/cat", budget.OUTPUT_MESSAGE),
        (
            {"reduce": [FORTY, {"merge": [ACC, ACC]}, ["x"]]},
            "/reduce/1/merge",
            budget.OUTPUT_MESSAGE,
        ),
        (
            {"reduce": [FORTY, {"substr": [{"cat": [ACC, ACC]}, 0]}, "x"]},
            "/reduce/1/substr",
            budget.OUTPUT_MESSAGE,
        ),
        # a list holding the same list twice: tiny in memory, 2**40 values as JSON
        ({"reduce": [FORTY, [ACC, ACC], 0]}, "", budget.RESULT_SIZE_MESSAGE),
        ({"cat": {"reduce": [FORTY, [ACC, ACC], 0]}}, "/cat", budget.OUTPUT_MESSAGE),
        ({"substr": [{"reduce": [FORTY, [ACC, ACC], []]}, 0, 1]}, "/substr", budget.OUTPUT_MESSAGE),
        (
            {"map": [list(range(400)), {"map": [list(range(400)), {"var": ""}]}]},
            "/map/1/map",
            budget.STEPS_MESSAGE,
        ),
        ({"some": [{"var": "big"}, {"==": [{"var": ""}, -1]}]}, "/some", budget.STEPS_MESSAGE),
        ({"reduce": [{"var": "big"}, [ACC], 0]}, "/reduce", budget.STEPS_MESSAGE),
        ({"reduce": [list(range(150)), [ACC], 0]}, "", budget.RESULT_DEPTH_MESSAGE),
        (
            {"merge": [{"var": "big"}, {"var": "big"}, {"var": "big"}, {"var": "big"}]},
            "/merge",
            budget.OUTPUT_MESSAGE,
        ),
    ],
)
def test_exceeding_the_budget_is_a_rule_error(rule: Any, path: str, message: str) -> None:
    assert len(json.dumps(rule)) < 4000
    start = time.perf_counter()
    assert both(rule, {"big": list(range(300_000))}) == ("eval-error", path, message)
    assert time.perf_counter() - start < 10  # both evaluators; each is well under a second


def test_the_issue_rule_is_228_bytes_and_fails_fast() -> None:
    rule = {"reduce": [FORTY, {"cat": [ACC, ACC]}, "x"]}
    assert len(json.dumps(rule)) == 228
    start = time.perf_counter()
    with pytest.raises(rules.RuleEvalError) as caught:
        rules.compile(rule)({})
    assert time.perf_counter() - start < 0.5
    assert str(caught.value) == f"/reduce/1/cat: {budget.OUTPUT_MESSAGE}"


def test_work_within_the_budget_is_fine() -> None:
    rooms = [{"area": i, "illegal": i % 7 == 0} for i in range(1000)]
    doc = {"data": {"rooms": rooms, "name": "x" * 100_000}}
    assert both(
        {"reduce": [{"var": "data.rooms"}, {"+": [ACC, {"var": "current.area"}]}, 0]}, doc
    ) == ("ok", sum(range(1000)))
    assert both(
        {"map": [{"filter": [{"var": "data.rooms"}, {"var": "illegal"}]}, {"var": "area"}]}, doc
    ) == ("ok", list(range(0, 1000, 7)))
    assert both({"cat": [{"var": "data.name"}, "!"]}, doc) == ("ok", "x" * 100_000 + "!")
    assert both({"var": "data.rooms"}, doc) == ("ok", rooms)


def test_each_evaluation_has_its_own_budget() -> None:
    rule = {"map": [{"var": "l"}, {"+": [{"var": ""}, 1]}]}
    compiled = rules.compile(rule)
    doc = {"l": list(range(20_000))}  # 20,000 × 4 steps: most of one budget
    for _ in range(3):
        assert compiled(doc)[-1] == 20_000
        assert rules.evaluate(rule, doc)[-1] == 20_000


@pytest.mark.parametrize("depth", [300, 5000])
def test_deep_data_is_no_problem(depth: int) -> None:
    doc = {"d": nested(depth), "o": {"k": nested(depth)}}
    assert both({"cat": ["<", {"var": "d"}, ">"]}, doc) == ("ok", "<1>")
    assert both({"substr": [{"var": "d"}, 0]}, doc) == ("ok", "1")
    assert both({"in": ["1", {"var": "d"}]}, doc) == ("ok", False)
    assert both({"!!": {"var": "d"}}, doc) == ("ok", True)
    assert both({"var": "d"}, doc) == ("eval-error", "", budget.RESULT_DEPTH_MESSAGE)
    table = Table(
        [
            Route("a", {"==": [{"var": "d"}, "x"]}),
            Route("b", {"and": [{"var": "o"}, {"==": [{"var": "d"}, 1]}]}),
            Route("c", {"in": [{"var": "o.k"}, ["x"]]}),
            Route("d", {"!": {"var": "o"}}),
        ]
    )
    decision = table.decide(doc)
    reasons = [outcome.reason for outcome in decision.outcomes]
    assert all(len(reason) < 400 for reason in reasons), reasons
    assert decision.outcomes[1].error is not None  # == between a list and 1
    assert reasons[2].startswith("o.k in ['x'] was false (got [[[[") and reasons[2].endswith("…)")


def test_a_result_as_deep_as_the_cap_is_returned() -> None:
    value = nested(budget.MAX_RESULT_DEPTH)
    assert both({"var": "d"}, {"d": value}) == ("ok", value)
    assert both({"var": "d"}, {"d": nested(budget.MAX_RESULT_DEPTH + 1)})[0] == "eval-error"


@pytest.mark.parametrize(
    ("rule", "doc"),
    [
        ({"+": [{"var": "t"}, 1]}, {"t": "x" * 100_000}),
        ({"<": [{"var": "t"}, 1]}, {"t": "y" * 100_000}),
        ({"days_between": [{"var": "t"}, "2026-01-01"]}, {"t": "z" * 100_000}),
        ({"substr": ["abc", {"var": "t"}]}, {"t": "1" * 100_000 + ".5"}),
        ({"==": [{"var": "t"}, {"var": "l"}]}, {"t": "w" * 100_000, "l": [1]}),
    ],
)
def test_error_messages_quote_only_an_excerpt(rule: Any, doc: Any) -> None:
    result = both(rule, doc)
    assert result[0] == "eval-error" and len(result[2]) < 200, result[2][:300]


def test_validation_messages_quote_only_an_excerpt() -> None:
    [problem] = rules.validate({"x" * 100_000: 1})
    assert len(problem.message) < 100
    [problem] = rules.validate({"a" * 100_000: 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6})
    assert len(problem.message) < 300


def test_routing_falls_back_when_a_rule_exceeds_the_budget() -> None:
    table = Table(
        [
            Route("boom", {"!!": {"reduce": [FORTY, {"cat": [ACC, ACC]}, "x"]}}),
            Route("ok", {"==": [{"var": "k"}, "v"]}),
        ]
    )
    decision = table.decide({"k": "v"})
    assert decision.fired == [] and decision.used_default
    assert decision.outcomes[0].reason == f"rule failed: /!!/reduce/1/cat: {budget.OUTPUT_MESSAGE}"


def test_only_metered_rules_get_a_budget() -> None:
    # Routing rules run with the shared UNMETERED budget and pay nothing for it;
    # every operator that spends is seen by compiler.metered().
    for name, info in rules.operators().items():
        spends = info.metered or info.kind == "scoped"
        assert compiler.metered({"and": [True, {name: [[1], {"var": ""}]}]}) is spends, name
    routing = {"and": [{"in": [{"var": "a"}, ["x", "y"]]}, {">": [{"var": "b"}, 3]}]}
    assert not compiler.metered(routing) and not compiler.may_return_container(routing)
    fn = rules.compile(routing)
    assert fn.__name__ == "all_of"  # the closure itself, no wrapper
    assert not compiler.may_return_container({"if": [{"var": "x"}, 1, {"cat": ["a"]}]})
    assert compiler.may_return_container({"if": [{"var": "x"}, 1, {"var": "y"}]})
    assert compiler.may_return_container({"or": [{"var": "x"}, 1]})
    assert budget.UNMETERED.steps == budget.MAX_STEPS
    assert budget.UNMETERED.output == budget.MAX_OUTPUT


def _random_loop_rule(r: random.Random) -> Any:
    logic = r.choice(
        [
            {"cat": [ACC, ACC]},
            {"cat": [ACC, "ab"]},
            {"merge": [ACC, ACC]},
            {"merge": [ACC, [1]]},
            [ACC, ACC],
            [ACC],
            {"+": [{"var": "current"}, 1]},
            {"map": [{"var": "current"}, {"cat": [{"var": ""}, {"var": ""}]}]},
            {"substr": [{"cat": [ACC, ACC, ACC]}, 1]},
        ]
    )
    initial = r.choice(["x", ["x"], 0, [], "abcdefghij" * 10, [[1, 2], [3]]])
    items = r.choice([list(range(r.randint(0, 45))), {"var": "big"}, {"var": "strings"}])
    rule: Any = {"reduce": [items, logic, initial]}
    return r.choice([rule, {"cat": [rule]}, {"!!": rule}, {"merge": [rule, rule]}, rule])


def test_both_evaluators_fail_alike_near_the_caps() -> None:
    r = random.Random(17)
    doc = {"big": list(range(6_000)), "strings": [["ab"] * r.randint(1, 40) for _ in range(50)]}
    kinds = set()
    for _ in range(50):
        kinds.add(both(_random_loop_rule(r), doc)[0])
    assert kinds == {"ok", "eval-error"}

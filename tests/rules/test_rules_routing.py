"""Routing tables: hit policies, indexing equivalence, errors, explanations."""

from __future__ import annotations

from typing import Any

import pytest
from rules_support import RuleGen

import rules
from rules.routing import Decision, Route, Table, index_clause

CAT = {"var": "data.category"}


def _routes() -> list[Route]:
    return [
        Route("illegal", {"==": [CAT, "违章搭建"]}, {"summon": ["urban-mgmt"]}),
        Route(
            "fire",
            {
                "and": [
                    {"in": [CAT, ["消防通道", "违章搭建"]]},
                    {">": [{"var": "data.households"}, 10]},
                ]
            },
            {"summon": ["fire-brigade"], "report_hours": 2},
        ),
        Route("chaohui", {"within": [{"var": "node.path"}, "chaohui"]}, {"summon": ["street"]}),
    ]


def _doc(category: Any = "违章搭建", households: Any = 20, street: str = "chaohui") -> Any:
    return {
        "data": {"category": category, "households": households},
        "node": {"path": ["gongshu", street, "n"]},
    }


def test_collect_takes_every_route_that_fires() -> None:
    decision = Table(_routes()).decide(_doc())
    assert [route.key for route in decision.fired] == ["illegal", "fire", "chaohui"]
    assert not decision.used_default
    assert decision.fired[1].payload["report_hours"] == 2


def test_first_stops_at_the_first_route_that_fires() -> None:
    decision = Table(_routes(), "first").decide(_doc())
    assert [route.key for route in decision.fired] == ["illegal"]
    assert decision.outcomes[1].reason == (
        "not evaluated: route 'illegal' fired (hit policy first)"
    )
    assert not decision.outcomes[1].fired


def test_nothing_fired_uses_default() -> None:
    decision = Table(_routes()).decide(_doc(category="停车秩序", street="xiaohe"))
    assert decision.fired == [] and decision.used_default
    assert all(outcome.error is None for outcome in decision.outcomes)


def test_reasons() -> None:
    decision = Table(_routes()).decide(_doc(category="停车秩序", households=3))
    reasons = {outcome.key: outcome.reason for outcome in decision.outcomes}
    assert reasons["illegal"] == "data.category == '违章搭建' was false (got '停车秩序')"
    assert reasons["fire"] == (
        "data.category in ['消防通道', '违章搭建'] was false (got '停车秩序')"
    )
    assert (
        reasons["chaohui"]
        == "within(node.path, 'chaohui') was true (got ['gongshu', 'chaohui', 'n'])"
    )
    fire = Table(_routes()).decide(_doc(category="消防通道", households=3)).outcomes[1]
    assert fire.reason == "data.households > 10 was false (got 3)"


def test_or_reason_lists_every_failed_branch() -> None:
    table = Table(
        [Route("r", {"or": [{"==": [CAT, "a"]}, {"<": [{"var": "data.households"}, 1]}]})]
    )
    [outcome] = table.decide(_doc()).outcomes
    assert outcome.reason == (
        "none held: data.category == 'a' was false (got '违章搭建'); "
        "data.households < 1 was false (got 20)"
    )


def test_rule_error_falls_back_to_default_with_key_and_path() -> None:
    decision = Table(_routes()).decide(_doc(households="many"))
    assert decision.used_default and decision.fired == []
    failed = [outcome for outcome in decision.outcomes if outcome.error is not None]
    assert [outcome.key for outcome in failed] == ["fire"]
    error = failed[0].error
    assert error is not None and error.path == "/and/1/>/0"
    assert failed[0].reason == "rule failed: /and/1/>/0: cannot order text 'many' against 10"
    # the other routes are still explained
    assert decision.outcomes[0].fired and decision.outcomes[2].fired


def test_first_policy_stops_at_a_failure() -> None:
    routes = [Route("bad", {"+": [{"var": "data.nope"}, 1]}), Route("ok", True)]
    decision = Table(routes, "first").decide({})
    assert decision.used_default and decision.fired == []
    assert decision.outcomes[1].reason == "not evaluated: route 'bad' failed (hit policy first)"


def test_inputs_report_values_seen() -> None:
    decision = Table(_routes()).decide(_doc(category="停车秩序"))
    assert decision.inputs == {
        "data.category": "停车秩序",
        "data.households": 20,
        "node.path": ["gongshu", "chaohui", "n"],
    }


def test_invalid_route_names_the_route() -> None:
    with pytest.raises(rules.RuleError) as caught:
        Table([Route("ok", True), Route("evil", {"method": ["x", "upper"]})])
    assert caught.value.path == "/method" and "route 'evil'" in caught.value.message


def test_bad_table_arguments() -> None:
    with pytest.raises(ValueError, match="hit policy"):
        Table([], "all")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unique"):
        Table([Route("a", True), Route("a", False)])


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"==": [CAT, "违章搭建"]}, "data.category"),
        ({"===": ["违章搭建", CAT]}, "data.category"),
        ({"in": [CAT, ["a", 1, True, None]]}, "data.category"),
        (
            {"and": [{"in": [{"var": ["data.district"]}, ["x"]]}, {"var": "data.urgent"}]},
            "data.district",
        ),
    ],
)
def test_indexable_shapes(rule: Any, path: str) -> None:
    found = index_clause(rule)
    assert found is not None and found.path == path


@pytest.mark.parametrize(
    "rule",
    [
        {"==": [CAT, "12"]},  # numeric text: 12 == "12" would also match
        {"==": [CAT, " "]},  # blank text equals 0 loosely
        {"==": [CAT, 3]},
        {"==": [{"var": ["data.category", "x"]}, "a"]},  # a default changes the value
        {"in": [CAT, [["a"]]]},
        {"and": [{"var": "data.urgent"}, {"==": [CAT, "a"]}]},  # not first: earlier could fail
        {"or": [{"==": [CAT, "a"]}]},
    ],
)
def test_non_indexable_shapes(rule: Any) -> None:
    assert index_clause(rule) is None


def _naive(routes: list[Route], policy: Any, doc: Any) -> tuple[list[str], bool, list[Any]]:
    """Route with the reference evaluator, every route in order, no index."""
    fired: list[str] = []
    errors: list[Any] = []
    for route in routes:
        try:
            hit = rules.truthy(rules.evaluate(route.when, doc))
        except rules.RuleEvalError as error:
            errors.append((route.key, error.path, error.message))
            if policy == "first":
                break
            continue
        if hit:
            fired.append(route.key)
            if policy == "first":
                break
    return ([] if errors else fired), bool(errors) or not fired, errors


def _summary(decision: Decision) -> tuple[list[str], bool, list[Any]]:
    errors = [
        (o.key, o.error.path, o.error.message) for o in decision.outcomes if o.error is not None
    ]
    return [route.key for route in decision.fired], decision.used_default, errors


@pytest.mark.parametrize("policy", ["first", "collect"])
def test_indexed_equals_unindexed_equals_reference(gen: RuleGen, policy: Any) -> None:
    for _ in range(15):
        routes = [Route(f"r{i}", gen.rule()) for i in range(gen.r.randint(5, 40))]
        indexed, plain = Table(routes, policy), Table(routes, policy, index=False)
        for _ in range(40):
            doc = gen.doc()
            decision = indexed.decide(doc)
            assert decision == plain.decide(doc)  # reasons included
            assert _summary(decision) == _naive(routes, policy, doc)

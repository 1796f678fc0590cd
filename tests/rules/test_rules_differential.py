"""compile() agrees with evaluate() (the reference) on random and real rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rules_support import RuleGen, outcome

import rules

RULE_KEYS = {"when", "guard", "x-show-if"}
# `to_if` holds {when, to} branches (found by descending); `set` maps fields to rules.
SEED = Path(__file__).parents[2] / "seed"


def _compiled(rule: Any, doc: Any) -> Any:
    return rules.compile(rule)(doc)


def test_random_routing_rules(gen: RuleGen) -> None:
    docs = [gen.doc() for _ in range(40)]
    kinds: set[str] = set()
    for _ in range(400):
        rule = gen.rule()
        assert rules.validate(rule) == [], rule
        for doc in docs:
            ref = outcome(rules.evaluate, rule, doc)
            assert ref == outcome(_compiled, rule, doc), (rule, doc)
            kinds.add(ref[0])
    assert kinds == {"ok", "eval-error"}  # the generator exercises both


def _rules_in(node: Any, where: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in RULE_KEYS:
                yield f"{where}/{key}", value
            elif key == "set" and isinstance(value, dict):
                for field, rule in value.items():
                    yield f"{where}/set/{field}", rule
            else:
                yield from _rules_in(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _rules_in(item, f"{where}/{i}")


def _seed_rules() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for path in sorted(SEED.glob("**/*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        found.extend(_rules_in(document, str(path.relative_to(SEED))))
    return found


def test_seed_pack_rules(gen: RuleGen) -> None:
    found = _seed_rules()
    if not found:
        pytest.skip("no rules under seed/**/*.json yet")
    docs = [gen.doc() for _ in range(20)]
    for where, rule in found:
        assert rules.validate(rule) == [], where
        for doc in docs:
            assert outcome(rules.evaluate, rule, doc) == outcome(_compiled, rule, doc), (where, doc)


def test_compile_is_cached_by_canonical_json() -> None:
    a = rules.compile({"==": [{"var": "data.x"}, "y"]})
    b = rules.compile(json.loads('{"==" : [ {"var": "data.x"}, "y" ]}'))
    assert a is b


def test_compiled_rule_is_not_affected_by_later_mutation() -> None:
    rule: dict[str, Any] = {"==": [{"var": "data.x"}, "y"]}
    compiled = rules.compile(rule)
    rule["=="][1] = "z"
    assert compiled({"data": {"x": "y"}}) is True

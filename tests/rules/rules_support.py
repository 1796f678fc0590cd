"""Helpers for the rules tests: outcome capture and a seeded generator of rules and documents."""

from __future__ import annotations

import random
from typing import Any

import rules

CATEGORIES = ["违章搭建", "停车秩序", "消防通道", "噪音扰民", "垃圾分类", "电梯故障", "1", ""]
DISTRICTS = ["chaohui", "mishixiang", "xiaohe", "hushu"]
NOW = "2026-11-27T13:00:00+08:00"


def outcome(fn: Any, *args: Any) -> tuple[Any, ...]:
    """Result or error of a call, in a comparable form."""
    try:
        return ("ok", fn(*args))
    except rules.RuleEvalError as error:
        return ("eval-error", error.path, error.message)
    except rules.RuleError as error:
        return ("rule-error", error.path, error.message)


class RuleGen:
    """Random routing-table-shaped rules and documents (deterministic for a seed)."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def value(self, in_rule: bool = False) -> Any:
        r = self.r
        choices = [
            r.choice(CATEGORIES),
            r.randint(-3, 30),
            r.random() * 48,
            None,
            True,
            False,
            str(r.randint(0, 20)),
            "abc",
            [r.choice(CATEGORIES)],
        ]
        # An object inside a rule is an operator, so only documents carry objects.
        return r.choice(choices if in_rule else [*choices, {"k": 1}])

    def doc(self) -> dict[str, Any]:
        r = self.r
        weird = r.random() < 0.15
        hours = r.randint(0, 200)
        data = {
            "category": self.value() if weird else r.choice(CATEGORIES),
            "district": r.choice(DISTRICTS),
            "households": self.value() if weird else r.randint(0, 60),
            "urgent": r.random() < 0.3,
            "tags": r.sample(["fire", "elderly", "night", "repeat"], r.randint(0, 3)),
        }
        if r.random() < 0.1:
            del data["households"]
        return {
            "data": data,
            "item": {
                "priority": r.randint(0, 3),
                "age_hours": hours / 3,
                "raised_at": f"2026-11-2{r.randint(0, 7)}T0{r.randint(0, 9)}:00:00+08:00",
            },
            "node": {"key": "n", "path": ["gongshu", r.choice(DISTRICTS), "n"]},
            "now": NOW,
        }

    def clause(self, depth: int = 0) -> Any:
        r = self.r
        kind = r.randrange(12 if depth < 2 else 8)
        if kind == 0:
            return {"==": [{"var": "data.category"}, r.choice(CATEGORIES)]}
        if kind == 1:
            return {"in": [{"var": "data.category"}, r.sample(CATEGORIES, 3)]}
        if kind == 2:
            return {
                r.choice([">", ">=", "<", "<="]): [{"var": "data.households"}, r.randint(0, 40)]
            }
        if kind == 3:
            return {"<=": [1, {"var": "item.priority"}, r.randint(1, 3)]}
        if kind == 4:
            return {"within": [{"var": "node.path"}, r.choice(DISTRICTS)]}
        if kind == 5:
            return {
                ">": [
                    {"hours_between": [{"var": "item.raised_at"}, {"var": "now"}]},
                    r.randint(0, 100),
                ]
            }
        if kind == 6:
            return {
                r.choice(["!=", "===", "!=="]): [
                    {"var": r.choice(["data.category", "item.priority"])},
                    self.value(in_rule=True),
                ]
            }
        if kind == 7:
            return {"in": [r.choice(["fire", "night"]), {"var": "data.tags"}]}
        if kind == 8:
            return {"!": self.clause(depth + 1)}
        if kind == 9:
            return {"or": [self.clause(depth + 1) for _ in range(r.randint(1, 3))]}
        if kind == 10:
            return {"==": [{"%": [{"var": "data.households"}, r.choice([2, 3, 0])]}, 0]}
        return {"some": [{"var": "data.tags"}, {"==": [{"var": ""}, "fire"]}]}

    def rule(self) -> Any:
        r = self.r
        if r.random() < 0.3:
            return self.clause()
        first = r.choice(
            [
                {"==": [{"var": "data.category"}, r.choice(CATEGORIES)]},
                {"in": [{"var": "data.district"}, r.sample(DISTRICTS, 2)]},
                self.clause(),
            ]
        )
        return {"and": [first] + [self.clause() for _ in range(r.randint(0, 3))]}

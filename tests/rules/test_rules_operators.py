"""Every registered operator has its own cases here and a line in docs/rules.md."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import rules

NOW = "2026-11-27T13:00:00+08:00"
DOC: dict[str, Any] = {
    "data": {
        "category": "违章搭建",
        "households": 12,
        "phone": "",
        "rooms": [{"area": 30, "illegal": False}, {"area": 80, "illegal": True}],
    },
    "item": {"priority": 2, "age_hours": 5.5, "raised_at": "2026-11-27T08:00:00+08:00"},
    "node": {
        "key": "lvzhouhuayuan",
        "path": ["gongshu", "chaohui", "shijiahuayuan", "lvzhouhuayuan"],
    },
    "now": NOW,
}

# operator -> [(rule, expected)], evaluated against DOC.
CASES: dict[str, list[tuple[Any, Any]]] = {
    "var": [
        ({"var": "data.category"}, "违章搭建"),
        ({"var": ["data.nothing", 7]}, 7),
        ({"var": "data.rooms.1.area"}, 80),
        ({"var": "node.path.0"}, "gongshu"),
    ],
    "missing": [({"missing": ["data.phone", "data.category", "data.x"]}, ["data.phone", "data.x"])],
    "missing_some": [
        ({"missing_some": [1, ["data.phone", "data.category"]]}, []),
        ({"missing_some": [2, ["data.phone", "data.category"]]}, ["data.phone"]),
    ],
    "if": [
        (
            {
                "if": [
                    {"var": "data.phone"},
                    "has phone",
                    {">": [{"var": "item.priority"}, 1]},
                    "urgent",
                    "normal",
                ]
            },
            "urgent",
        )
    ],
    "?:": [({"?:": [{"var": "data.phone"}, 1, 2]}, 2)],
    "and": [({"and": [1, "a", {"var": "item.priority"}]}, 2), ({"and": [1, 0, 2]}, 0)],
    "or": [({"or": [0, "", {"var": "data.category"}]}, "违章搭建"), ({"or": [0, []]}, [])],
    "==": [
        ({"==": [{"var": "data.category"}, "违章搭建"]}, True),
        ({"==": ["12", 12]}, True),
        ({"==": [0, ""]}, True),
        ({"==": [None, 0]}, False),
        ({"==": [True, 2]}, False),
    ],
    "===": [({"===": [{"var": "item.priority"}, 2.0]}, True), ({"===": ["2", 2]}, False)],
    "!=": [({"!=": [{"var": "data.category"}, "停车秩序"]}, True), ({"!=": [1, "1"]}, False)],
    "!==": [({"!==": [1, "1"]}, True), ({"!==": [None, None]}, False)],
    "!": [({"!": [{"var": "data.phone"}]}, True), ({"!": {"var": "data.rooms"}}, False)],
    "!!": [({"!!": [[]]}, False), ({"!!": ["0"]}, True), ({"!!": {"var": "data"}}, True)],
    ">": [({">": [{"var": "item.age_hours"}, 5]}, True), ({">": ["10", "9"]}, False)],
    ">=": [({">=": [{"var": "data.households"}, "12"]}, True)],
    "<": [
        ({"<": [0, {"var": "item.age_hours"}, 24]}, True),
        ({"<": [1, 1]}, False),
        ({"<": ["a", "b"]}, True),
    ],
    "<=": [({"<=": [1, {"var": "item.priority"}, 2]}, True), ({"<=": [True, 1]}, True)],
    "max": [({"max": [1, "7", {"var": "data.households"}]}, 12)],
    "min": [({"min": [3.5, "-1", 2]}, -1)],
    "+": [({"+": [1, "2.5"]}, 3.5), ({"+": "4"}, 4), ({"+": []}, 0)],
    "-": [({"-": [10, {"var": "data.households"}]}, -2), ({"-": "3"}, -3)],
    "*": [({"*": [{"var": "data.households"}, 0.5]}, 6)],
    "/": [({"/": [{"var": "data.households"}, 8]}, 1.5), ({"/": [9, 3]}, 3)],
    "%": [({"%": [7, 3]}, 1), ({"%": [-7, 3]}, -1), ({"%": [7.5, 2]}, 1.5)],
    "map": [
        ({"map": [{"var": "data.rooms"}, {"var": "area"}]}, [30, 80]),
        ({"map": [{"var": "data.nothing"}, 1]}, []),
    ],
    "filter": [
        ({"filter": [[0, 1, 2], {"==": [{"var": ""}, 0]}]}, [0]),
        ({"filter": [{"var": "data.rooms"}, {"var": "illegal"}]}, [{"area": 80, "illegal": True}]),
    ],
    "reduce": [
        (
            {
                "reduce": [
                    {"var": "data.rooms"},
                    {"+": [{"var": "current.area"}, {"var": "accumulator"}]},
                    0,
                ]
            },
            110,
        ),
        ({"reduce": [{"var": "data.nothing"}, 1, 5]}, 5),
    ],
    "all": [
        ({"all": [{"var": "data.rooms"}, {">": [{"var": "area"}, 10]}]}, True),
        ({"all": [[], True]}, False),
    ],
    "none": [({"none": [{"var": "data.rooms"}, {">": [{"var": "area"}, 100]}]}, True)],
    "some": [({"some": [{"var": "data.rooms"}, {"var": "illegal"}]}, True)],
    "merge": [({"merge": [[1], 2, [[3]]]}, [1, 2, [3]])],
    "in": [
        ({"in": [{"var": "data.category"}, ["违章搭建", "消防"]]}, True),
        ({"in": ["搭建", {"var": "data.category"}]}, True),
        ({"in": [1, [True, "1"]]}, False),
        ({"in": [1, "a1"]}, True),
    ],
    "cat": [
        ({"cat": ["#", {"var": "item.priority"}, "-", True, None, [1, None, 2]]}, "#2-true1,,2"),
        ({"cat": [{"/": [4, 2]}, 0.5]}, "20.5"),
    ],
    "substr": [({"substr": ["13812345678", -4]}, "5678"), ({"substr": [12345, 1, 2]}, "23")],
    "hours_between": [
        ({"hours_between": [{"var": "item.raised_at"}, {"var": "now"}]}, 5),
        ({"hours_between": ["2026-11-27T13:00:00+08:00", "2026-11-27T05:30:00Z"]}, 0.5),
    ],
    "days_between": [
        ({"days_between": ["2026-11-25", {"var": "now"}]}, 2),
        ({"days_between": ["2026-11-27T23:30:00+08:00", "2026-11-27T16:00:00Z"]}, 0),
    ],
    "add_hours": [
        ({"add_hours": [{"var": "now"}, 48]}, "2026-11-29T13:00:00+08:00"),
        ({"add_hours": ["2026-11-27T13:00:00+08:00", -0.5]}, "2026-11-27T12:30:00+08:00"),
    ],
    "date": [
        ({"date": " 2026-11-27 "}, "2026-11-27"),
        ({"date": "2026-11-27T05:00Z"}, "2026-11-27T05:00:00+00:00"),
    ],
    "weekday": [({"weekday": {"var": "now"}}, 5), ({"weekday": "2026-11-29T23:00:00-05:00"}, 7)],
    "within": [
        ({"within": [{"var": "node.path"}, "chaohui"]}, True),
        ({"within": [{"var": "node.path"}, "xiaohe"]}, False),
    ],
    "share_at_least": [
        ({"share_at_least": ["200.02", "300.03", 2, 3]}, True),  # exactly 2/3: 以上 counts it
        ({"share_at_least": ["200.01", "300.03", 2, 3]}, False),
        ({"share_at_least": [2, 3, 0.6666666666666666, 1]}, True),
        ({"share_at_least": [0, 0, 2, 3]}, False),
    ],
    "share_above": [
        ({"share_above": [5, 10, 1, 2]}, False),  # exactly half: 过半数 does not count it
        ({"share_above": ["50.01", "100", 1, 2]}, True),
        ({"share_above": [1, 0, 1, 2]}, False),
    ],
}


def test_every_operator_has_a_case() -> None:
    without = sorted(set(rules.operators()) - set(CASES))
    assert without == [], f"operators without a test case: {without}"
    assert sorted(set(CASES) - set(rules.operators())) == []


@pytest.mark.parametrize(
    ("op", "rule", "expected"),
    [(op, rule, expected) for op, cases in CASES.items() for rule, expected in cases],
)
def test_operator(op: str, rule: Any, expected: Any) -> None:
    assert op in str(rule)
    assert rules.evaluate(rule, DOC) == expected
    assert rules.compile(rule)(DOC) == expected


def _documented() -> dict[str, str]:
    text = (Path(__file__).parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([^`]+)` \|(.*)$", text, flags=re.MULTILINE)
    return {op.replace("\\|", "|"): rest for op, rest in rows}


def test_every_operator_is_documented() -> None:
    documented = _documented()
    missing = sorted(set(rules.operators()) - set(documented))
    assert missing == [], f"operators without a line in docs/rules.md: {missing}"
    assert sorted(set(documented) - set(rules.operators())) == []


def test_registry_shape() -> None:
    for name, info in rules.operators().items():
        assert info.name == name and info.doc and info.example
        assert info.max_args is None or info.max_args >= info.min_args
    assert {"method", "log"}.isdisjoint(rules.operators())
    custom = {name for name, info in rules.operators().items() if info.custom}
    assert custom == {
        "hours_between",
        "days_between",
        "add_hours",
        "date",
        "weekday",
        "within",
        "share_at_least",
        "share_above",
    }


def test_registry_is_read_only() -> None:
    with pytest.raises(TypeError):
        rules.operators()["method"] = rules.operators()["var"]  # type: ignore[index]


@pytest.mark.parametrize("value", [0, 0.0, "", [], None, False])
def test_falsy(value: Any) -> None:
    assert rules.truthy(value) is False


@pytest.mark.parametrize("value", ["0", " ", [0], {}, {"a": 1}, -1, 0.1, True])
def test_truthy(value: Any) -> None:
    assert rules.truthy(value) is True

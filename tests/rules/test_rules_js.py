"""Our evaluators against json-logic-js itself, run in node (docs/rules.md, "Divergences").

One node process evaluates the whole corpus (tests/rules/js/run.js, JSON in and out):
the documented divergences with JavaScript's answer as the docs state it, the
official suite, number-like texts through every operator that reads numbers, and
generated rules. Wherever we answer, we answer as json-logic-js does, except for the
numbered divergences, each of which has a case here. Skipped only where node is absent;
`make js` (a dependency of `make test`) installs the pinned package.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from rules_support import RuleGen, outcome

import rules

JS_DIR = Path(__file__).parent / "js"
DOCS = Path(__file__).parents[2] / "docs" / "rules.md"
SUITE = Path(__file__).parents[1] / "data" / "jsonlogic" / "tests.json"
ERROR = rules.RuleEvalError
NAN = {"$number": "NaN"}
INF = {"$number": "Infinity"}

# (divergence number in docs/rules.md, rule, data, json-logic-js's answer, ours).
# ERROR: we raise RuleEvalError (our error policy) where JavaScript answers.
DIVERGENCES: list[tuple[int, Any, Any, Any, Any]] = [
    (1, {"+": ["12abc", 1]}, {}, 13, ERROR),
    (1, {"+": ["0x10", 1]}, {}, 1, ERROR),
    (1, {"-": ["0x10", 1]}, {}, 15, ERROR),
    (1, {"-": ["", 1]}, {}, -1, ERROR),
    (1, {"*": ["1_000", 2]}, {}, 2, ERROR),
    (1, {"+": ["１２", 1]}, {}, NAN, ERROR),
    (2, {"+": [True, 1]}, {}, NAN, ERROR),
    (2, {"min": [None, 1]}, {}, 0, ERROR),
    (2, {"max": [[5], 1]}, {}, 5, ERROR),
    (3, {"/": [1, 0]}, {}, INF, ERROR),
    (3, {"%": [1, 0]}, {}, NAN, ERROR),
    (3, {"*": [1e300, 1e300]}, {}, INF, ERROR),
    (4, {"<": [None, 1]}, {}, True, ERROR),
    (4, {"<": ["", 1]}, {}, True, ERROR),
    (4, {"<": ["abc", 1]}, {}, False, ERROR),
    (4, {">": [[2], 1]}, {}, True, ERROR),
    (5, {"<": [3, 2, None]}, {}, False, ERROR),
    (6, {"==": [[1], 1]}, {}, True, ERROR),
    (6, {"==": [{"var": "a"}, {"var": "a"}]}, {"a": [1]}, True, ERROR),
    (6, {"!=": [{"var": "o"}, "[object Object]"]}, {"o": {}}, False, ERROR),
    (7, {"in": ["x", None]}, {}, False, ERROR),
    (7, {"in": ["x", 5]}, {}, False, ERROR),
    (7, {"in": [[1], "a1"]}, {}, True, ERROR),
    (8, {"cat": ["x", {"var": "o"}]}, {"o": {}}, "x[object Object]", ERROR),
    (8, {"substr": [{"var": "o"}, 1]}, {"o": {}}, "object Object]", ERROR),
    (9, {"substr": ["abc", 1.5]}, {}, "bc", ERROR),
    (
        10,
        {"reduce": [list(range(21)), {"cat": [{"var": "accumulator"}] * 2}, "x"]},
        {},
        "x" * 2**21,
        ERROR,
    ),
    (11, {"===": [{"var": "a"}, {"var": "a"}]}, {"a": [1]}, True, False),
    (11, {"in": [{"var": "a.0"}, {"var": "a"}]}, {"a": [[1]]}, True, False),
    (12, {"*": ["1"]}, {}, "1", 1),
    (13, {"var": "l.length"}, {"l": [1, 2, 3]}, 3, None),
    (13, {"var": ["s.length", 0]}, {"s": "abc"}, 3, 0),
    (14, {"substr": ["😀abc", 1]}, {}, "\ude00abc", "abc"),
    (14, {"<": ["\uffff", "😀"]}, {}, False, True),
    (15, {"==": ["0" * 100 + "1", 1]}, {}, True, False),
    (16, {"==": [9007199254740993, 9007199254740992]}, {}, True, False),
]

# Agreements worth stating (several were documented wrongly before): ours == JavaScript's.
AGREEMENTS: list[tuple[Any, Any, Any]] = [
    ({"cat": ["【", {"var": "c"}, "】"]}, {}, "【】"),
    ({"cat": [True, None, False, [1, None, [2, [None, 3]]]]}, {}, "truefalse1,,2,,3"),
    (
        {"cat": [1.5, 1e21, 1e-7, 0.000001, 123456789012345680000, -0.0, 0.1]},
        {},
        ("1.51e+211e-70.00000112345678901234568000000.1"),
    ),
    ({"cat": [{"+": [0.1, 0.2]}]}, {}, "0.30000000000000004"),
    ({"substr": [None, 0]}, {}, "null"),
    ({"substr": [[1, None, 2], 1]}, {}, ",,2"),
    ({"substr": ["abcdef", 1, -2]}, {}, "bcd"),
    ({"substr": ["abcdef", -10, 2]}, {}, "ab"),
    ({"substr": ["abc", "1"]}, {}, "bc"),
    ({"in": [1, "a1"]}, {}, True),
    ({"in": [1, [True]]}, {}, False),
    ({"===": [{"var": "a"}, {"var": "b"}]}, {"a": [1], "b": [1]}, False),
    ({"==": [True, 2]}, {}, False),
    ({"==": [None, "None"]}, {}, False),
    ({"==": [0, ""]}, {}, True),
    ({"==": ["1.0", 1]}, {}, True),
    ({"==": ["１２", 12]}, {}, False),
    ({"==": ["\u00a012\u3000", 12]}, {}, True),
    ({"==": ["\ufeff12", 12]}, {}, True),
    ({"==": ["\x1c12", 12]}, {}, False),
    ({"==": ["\x8512", 12]}, {}, False),
    ({"==": ["0x10", 16]}, {}, True),
    ({"==": ["-0x10", -16]}, {}, False),
    ({"<": ["0x10", 17]}, {}, True),
    ({"<": ["Infinity", 1]}, {}, False),
    ({"<": [" 12 ", 13]}, {}, True),
    ({"+": [" 12\n", 1]}, {}, 13),
    ({"*": ["2", "3"]}, {}, 6),
    ({"%": [-7, 3]}, {}, -1),
    ({"!!": {"var": "x"}}, {"x": {}}, True),
    ({"var": "l.²"}, {"l": [1, 2, 3]}, None),
    ({"var": "l.01"}, {"l": [1, 2, 3]}, None),
    ({"var": "s.1"}, {"s": "abc"}, "b"),
    ({"var": 1.5}, {"1": {"5": "x"}}, "x"),
    ({"var": ["a", 5]}, {"a": None}, None),
    ({"filter": [[0, 1, 2], {"==": [{"var": ""}, 0]}]}, {}, [0]),
    ({"some": [[1, None], {">": [{"var": ""}, 0]}]}, {}, True),
    ({"none": [[1, None], {">": [{"var": ""}, 0]}]}, {}, False),
    ({"all": [[0, None], {">": [{"var": ""}, 0]}]}, {}, False),
    ({"+": [9007199254740993, 0]}, {}, 9007199254740992),
]

# Number-like texts, each through every operator that reads numbers from text.
TEXTS = [
    "12",
    " 12 ",
    "\t12\n",
    "\u300012",
    "\u00a012",
    "\ufeff12",
    "\u200b12",
    "\u180e12",
    "\x1c12",
    "\x8512",
    "１２",
    "١٢",
    "²",
    "12²",
    "1_000",
    "+5",
    "-5",
    "++5",
    "5.",
    ".5",
    ".",
    "1e3",
    "1E-2",
    "1e",
    "e3",
    "0x1F",
    "0X1f",
    "-0x10",
    "0o17",
    "0b101",
    "0b2",
    "0x",
    "Infinity",
    "-Infinity",
    "infinity",
    "nan",
    "NaN",
    "",
    "  ",
    "0",
    "-0",
    "00012",
    "12abc",
    "1" * 30,
    "9" * 400,
    "1" * 5000 + "x",
    "1.5",
    "-1.5e3",
    "0.1",
]
TEMPLATES: list[Any] = [
    {"==": [{"var": "t"}, 12]},
    {"==": [{"var": "t"}, 0]},
    {"==": [{"var": "t"}, True]},
    {"!=": [{"var": "t"}, 5]},
    {"==": [{"var": "t"}, 31]},
    {"==": [{"var": "t"}, -16]},
    {"<": [{"var": "t"}, 13]},
    {">=": [{"var": "t"}, 0]},
    {"<": [0, {"var": "t"}, 1e9]},
    {"+": [{"var": "t"}, 1]},
    {"-": [{"var": "t"}, 1]},
    {"*": [{"var": "t"}, 2]},
    {"/": [{"var": "t"}, 2]},
    {"%": [{"var": "t"}, 7]},
    {"max": [{"var": "t"}, -100]},
    {"-": {"var": "t"}},
    {"var": {"cat": ["l.", {"var": "t"}]}},
    {"in": [{"var": "t"}, "x12y"]},
    {"cat": [{"var": "t"}, 1]},
    {"substr": ["abcdefghijklmnop", {"var": "t"}, 2]},
]
# The operators that never fail on scalars: here ours must equal JavaScript's every time.
TOTAL_OPS = {"==", "!=", "in", "cat", "var"}

_OPS = [
    "==",
    "===",
    "!=",
    "!==",
    "<",
    "<=",
    ">",
    ">=",
    "!",
    "!!",
    "and",
    "or",
    "if",
    "?:",
    "+",
    "-",
    "*",
    "/",
    "%",
    "min",
    "max",
    "cat",
    "substr",
    "in",
    "merge",
    "missing",
    "missing_some",
    "map",
    "filter",
    "all",
    "none",
    "some",
    "var",
]
_SCALARS = [
    0,
    1,
    -1,
    2,
    2.5,
    12,
    -0.5,
    1e21,
    "",
    "0",
    "1",
    "12",
    " 3 ",
    "abc",
    "a1",
    "b",
    "0x10",
    "1e2",
    "１",
    "true",
    True,
    False,
    None,
]
_DATA = {
    "n": 3,
    "z": 0,
    "f": 1.5,
    "s": "12",
    "e": "",
    "w": "word",
    "b": True,
    "nul": None,
    "l": [1, 2, 3],
    "t": ["a", "b"],
    "m": [0, "", None, 2],
}


def _random_rule(r: random.Random, depth: int = 0) -> Any:
    """A rule over scalars, literal lists of scalars and var reads of scalars, so that
    no list or object can be compared with itself (divergence 11)."""
    if depth >= 3 or r.random() < 0.3:
        pick = r.random()
        if pick < 0.15:
            return (
                {
                    "var": r.choice(
                        [
                            "n",
                            "z",
                            "f",
                            "s",
                            "e",
                            "w",
                            "b",
                            "nul",
                            "missing",
                            "l.1",
                            "t.0",
                            "m.3",
                            "s.1",
                            "w.9",
                            "",
                        ]
                    )
                }
                if depth
                else {"var": "n"}
            )
        if pick < 0.25:
            return [r.choice(_SCALARS) for _ in range(r.randint(0, 3))]
        return r.choice(_SCALARS)
    op = r.choice(_OPS)
    if op in ("map", "filter", "all", "none", "some"):
        items = r.choice(
            [{"var": "l"}, {"var": "t"}, {"var": "m"}, [1, "2", None, "x"], {"var": "n"}]
        )
        return {op: [items, _scoped_logic(r)]}
    if op == "var":
        return {"var": [r.choice(["n", "s", "l.0", "t.1", "nope"]), r.choice(_SCALARS)]}
    if op == "missing_some":
        return {op: [r.randint(0, 2), r.sample(["n", "e", "nul", "nope", "w"], 3)]}
    if op == "missing":
        return {op: r.sample(["n", "e", "nul", "nope", "w"], 2)}
    low, high = {
        "!": (1, 1),
        "!!": (1, 1),
        "-": (1, 2),
        "/": (2, 2),
        "%": (2, 2),
        "substr": (2, 3),
        "in": (2, 2),
        "?:": (3, 3),
        ">": (2, 2),
        ">=": (2, 2),
        "<": (2, 3),
        "<=": (2, 3),
        "*": (2, 3),
    }.get(
        op,
        (
            1 if op not in ("==", "===", "!=", "!==") else 2,
            2 if op in ("==", "===", "!=", "!==") else 3,
        ),
    )
    return {op: [_random_rule(r, depth + 1) for _ in range(r.randint(low, high))]}


def _scoped_logic(r: random.Random) -> Any:
    element = {"var": ""}
    return r.choice(
        [
            element,
            {"==": [element, r.choice(_SCALARS)]},
            {">": [element, r.choice([0, 1, "1"])]},
            {"+": [element, 1]},
            {"cat": ["<", element, ">"]},
            {"!": element},
            {"in": [element, [1, "b"]]},
        ]
    )


def _generated() -> list[tuple[Any, Any]]:
    r = random.Random(20261203)
    cases = [(_random_rule(r), _DATA) for _ in range(1500)]
    gen = RuleGen(20261127)
    docs = [gen.doc() for _ in range(12)]
    custom = {name for name, info in rules.operators().items() if info.custom}
    for _ in range(300):
        rule = gen.rule()
        if not any(f'"{name}"' in json.dumps(rule) for name in custom):
            cases.extend((rule, doc) for doc in docs[:4])
    return cases


def _suite() -> list[tuple[Any, Any, Any]]:
    entries = json.loads(SUITE.read_text(encoding="utf-8"))
    return [tuple(entry) for entry in entries if isinstance(entry, list)]  # type: ignore[misc]


NUMBER_CASES = [
    (template, {"t": text, "l": list(range(20))}) for template in TEMPLATES for text in TEXTS
]
GENERATED = _generated()
SUITE_CASES = _suite()


@pytest.fixture(scope="module")
def js() -> dict[str, Any]:
    """json-logic-js's answers for every case, from one node process."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not (JS_DIR / "node_modules" / "json-logic-js").is_dir():
        npm = shutil.which("npm")
        assert npm, "npm is missing: cannot install json-logic-js (tests/rules/js)"
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=JS_DIR,
            check=True,
            timeout=300,
        )
    groups = {
        "divergences": [(rule, data) for _, rule, data, _, _ in DIVERGENCES],
        "agreements": [(rule, data) for rule, data, _ in AGREEMENTS],
        "suite": [(rule, {} if data is None else data) for rule, data, _ in SUITE_CASES],
        "numbers": NUMBER_CASES,
        "generated": GENERATED,
    }
    corpus = [pair for pairs in groups.values() for pair in pairs]
    done = subprocess.run(
        [node, str(JS_DIR / "run.js")],
        input=json.dumps(corpus),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    answers = iter(json.loads(done.stdout))
    return {name: [next(answers) for _ in pairs] for name, pairs in groups.items()}


def same(ours: Any, theirs: Any) -> bool:
    """The same JSON value: 2 and 2.0 are the same number, True and 1 are not."""
    if isinstance(ours, bool) or isinstance(theirs, bool):
        return ours is theirs
    if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)):
        return _double(ours) == _double(theirs)  # JSON numbers are doubles in JavaScript
    if isinstance(ours, list) and isinstance(theirs, list):
        return len(ours) == len(theirs) and all(map(same, ours, theirs))
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(same(ours[k], theirs[k]) for k in ours)
    return type(ours) is type(theirs) and bool(ours == theirs)


def _double(number: float) -> float:
    try:
        return float(number)
    except OverflowError:
        return float("inf") if number > 0 else float("-inf")


def ours(rule: Any, data: Any) -> tuple[Any, ...]:
    """The outcome of both evaluators, which must agree."""
    reference = outcome(rules.evaluate, rule, data)
    assert outcome(lambda r, d: rules.compile(r)(d), rule, data) == reference, (rule, data)
    return reference


def _agrees(rule: Any, data: Any, answer: dict[str, Any], *, must_answer: bool) -> None:
    got = ours(rule, data)
    if got[0] == "ok":
        assert "value" in answer and same(got[1], answer["value"]), (rule, data, got, answer)
    else:
        assert not must_answer, (rule, data, got, answer)
        assert got[0] == "eval-error", (rule, data, got)


@pytest.mark.parametrize("index", range(len(DIVERGENCES)))
def test_documented_divergence(js: dict[str, Any], index: int) -> None:
    _, rule, data, theirs, expected = DIVERGENCES[index]
    answer = js["divergences"][index]
    assert "value" in answer and same(answer["value"], theirs), str(answer)[:200]
    got = ours(rule, data)
    if expected is ERROR:
        assert got[0] == "eval-error", got
    else:
        assert got[0] == "ok" and same(got[1], expected), got
        assert not same(got[1], answer["value"])


def test_every_documented_divergence_has_a_case() -> None:
    section = DOCS.read_text(encoding="utf-8").split("## Divergences from json-logic-js")[1]
    section = section.split("\n## ")[0]
    numbered = {int(n) for n in re.findall(r"^(\d+)\. ", section, re.MULTILINE)}
    assert numbered == {number for number, *_ in DIVERGENCES}


@pytest.mark.parametrize("index", range(len(AGREEMENTS)))
def test_agreement(js: dict[str, Any], index: int) -> None:
    rule, data, expected = AGREEMENTS[index]
    answer = js["agreements"][index]
    assert "value" in answer and same(answer["value"], expected), answer
    got = ours(rule, data)
    assert got[0] == "ok" and same(got[1], expected), got


def test_official_suite_is_what_json_logic_js_answers(js: dict[str, Any]) -> None:
    for (rule, data, expected), answer in zip(SUITE_CASES, js["suite"], strict=True):
        assert "value" in answer and same(answer["value"], expected), (rule, answer)
        got = ours(rule, {} if data is None else data)
        assert got[0] == "ok" and same(got[1], expected), (rule, got)


def test_number_texts(js: dict[str, Any]) -> None:
    answered = 0
    for (rule, data), answer in zip(NUMBER_CASES, js["numbers"], strict=True):
        total = next(iter(rule)) in TOTAL_OPS and len(data["t"]) <= 100
        _agrees(rule, data, answer, must_answer=total)
        answered += ours(rule, data)[0] == "ok"
    assert answered > len(NUMBER_CASES) // 2


def test_generated_rules(js: dict[str, Any]) -> None:
    answered = 0
    for (rule, data), answer in zip(GENERATED, js["generated"], strict=True):
        if rules.validate(rule):
            continue  # arity we refuse (docs: validation)
        _agrees(rule, data, answer, must_answer=False)
        answered += ours(rule, data)[0] == "ok"
    assert answered > len(GENERATED) // 2

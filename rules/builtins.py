"""The standard JsonLogic operators, registered with their documentation line.

Arithmetic, `merge` and `substr` call json-logic-qubit's own implementations
once the operands have passed our strict coercion (so the library stays the
reference); equality, ordering, `in`, `cat`, `%` and `var` are our own because
json-logic-qubit departs from the published semantics there (docs/rules.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import json_logic

from rules.access import get_var, missing, missing_some
from rules.budget import MAX_OUTPUT, Budget
from rules.errors import OpError
from rules.registry import OperatorInfo, register
from rules.values import (
    Number,
    describe,
    join_text,
    js_string,
    less,
    loose_equals,
    normalise,
    strict_equals,
    to_number,
    truthy,
)

_QUBIT: Mapping[str, Callable[..., Any]] = json_logic.operations  # read, never written


def _numbers(args: tuple[Any, ...]) -> list[Number]:
    return [to_number(value, i) for i, value in enumerate(args)]


def _qubit_numeric(name: str) -> Callable[..., Number]:
    def apply(*args: Any) -> Number:
        return normalise(_QUBIT[name](*_numbers(args)))

    return apply


def _divide(a: Any, b: Any) -> Number:
    x, y = to_number(a, 0), to_number(b, 1)
    if y == 0:
        raise OpError("division by zero", 1)
    return normalise(_QUBIT["/"](x, y))


def _modulo(a: Any, b: Any) -> Number:
    x, y = to_number(a, 0), to_number(b, 1)
    if y == 0:
        raise OpError("modulo by zero", 1)
    # JavaScript's % keeps the sign of the dividend; Python's (and qubit's) the divisor's.
    result = abs(x) % abs(y)
    return normalise(-result if x < 0 else result)


def contains(needle: Any, haystack: Any) -> bool:
    if isinstance(haystack, str):
        if isinstance(needle, (dict, list, tuple)):
            raise OpError("cannot look for %(value)s in text", 0, {"value": describe(needle)})
        return js_string(needle, MAX_OUTPUT) in haystack
    if isinstance(haystack, (list, tuple)):
        return any(strict_equals(needle, item) for item in haystack)
    raise OpError("'in' needs a list or text, got %(value)s", 1, {"value": describe(haystack)})


def _cat(budget: Budget, *args: Any) -> str:
    # JavaScript's Array.join, as json-logic-js: null is "", a list is joined by ",".
    parts = []
    size = 0
    for value in args:
        parts.append(join_text(value, budget.room() - size))
        size += len(parts[-1])
    budget.build(size)
    return "".join(parts)


def _integer(value: Any, arg: int) -> int:
    number = to_number(value, arg)
    if not isinstance(number, int):
        raise OpError("%(value)s is not a whole number", arg, {"value": describe(value)})
    return number


def _substr(budget: Budget, source: Any, start: Any, length: Any = None) -> str:
    text = js_string(source, budget.room())
    if not isinstance(source, str):
        budget.build(len(text))
    begin = _integer(start, 1)
    size = None if length is None else _integer(length, 2)
    result = str(_QUBIT["substr"](text, begin, size))
    budget.build(len(result))
    return result


def _merge(budget: Budget, *args: Any) -> list[Any]:
    budget.build(sum(len(arg) if isinstance(arg, (list, tuple)) else 1 for arg in args))
    return list(_QUBIT["merge"](*args))


def _lt(*args: Any) -> bool:
    return _between(True, args)


def _le(*args: Any) -> bool:
    return _between(False, args)


def _between(strict: bool, args: tuple[Any, ...]) -> bool:
    # Three arguments mean "b is between a and c"; both pairs are checked so that a
    # type error surfaces whatever the data (JavaScript would short-circuit).
    results = [less(args[i], args[i + 1], strict, i) for i in range(len(args) - 1)]
    return all(results)


def _plain(
    name: str,
    arity: tuple[int, int | None],
    doc: str,
    example: str,
    fn: Any,
    *,
    metered: bool = False,
) -> None:
    register(OperatorInfo(name, "plain", arity[0], arity[1], doc, example, fn, metered=metered))


def _special(name: str, kind: Any, arity: tuple[int, int | None], doc: str, example: str) -> None:
    register(OperatorInfo(name, kind, arity[0], arity[1], doc, example))


register(
    OperatorInfo(
        "var",
        "data",
        0,
        2,
        "value at a dotted path in the data (default if absent)",
        '{"var": ["data.households", 0]}',
        get_var,
    )
)
register(
    OperatorInfo(
        "missing",
        "data",
        0,
        None,
        "the listed paths that are null or empty text",
        '{"missing": ["data.phone", "data.address"]}',
        missing,
    )
)
register(
    OperatorInfo(
        "missing_some",
        "data",
        2,
        2,
        "the missing paths, or [] if at least N of them are present",
        '{"missing_some": [1, ["data.phone", "data.email"]]}',
        missing_some,
    )
)
_special(
    "if",
    "lazy",
    (0, None),
    "if/then/else-if chain; odd trailing argument is the else",
    '{"if": [{"var": "data.urgent"}, "high", "normal"]}',
)
_special("?:", "lazy", (3, 3), "ternary: if a then b else c", '{"?:": [true, "yes", "no"]}')
_special(
    "and",
    "lazy",
    (1, None),
    "first falsy argument, else the last (short-circuit)",
    '{"and": [{"var": "data.a"}, {"var": "data.b"}]}',
)
_special(
    "or",
    "lazy",
    (1, None),
    "first truthy argument, else the last (short-circuit)",
    '{"or": [{"var": "data.a"}, {"var": "data.b"}]}',
)
_plain(
    "==",
    (2, 2),
    'loose equality (1 == "1")',
    '{"==": [{"var": "data.category"}, "违章搭建"]}',
    loose_equals,
)
_plain(
    "===",
    (2, 2),
    "strict equality (type and value)",
    '{"===": [{"var": "item.priority"}, 2]}',
    strict_equals,
)
_plain(
    "!=",
    (2, 2),
    "loose inequality",
    '{"!=": [{"var": "item.state"}, "closed"]}',
    lambda a, b: not loose_equals(a, b),
)
_plain(
    "!==",
    (2, 2),
    "strict inequality",
    '{"!==": [{"var": "item.priority"}, 0]}',
    lambda a, b: not strict_equals(a, b),
)
_plain(
    "!",
    (1, 1),
    "not (JsonLogic truthiness)",
    '{"!": {"var": "data.resolved"}}',
    lambda a: not truthy(a),
)
_plain(
    "!!", (1, 1), "cast to boolean (JsonLogic truthiness)", '{"!!": {"var": "data.photos"}}', truthy
)
_plain(
    ">",
    (2, 2),
    "greater than",
    '{">": [{"var": "item.age_hours"}, 24]}',
    lambda a, b: _gt(a, b, True),
)
_plain(
    ">=",
    (2, 2),
    "greater than or equal",
    '{">=": [{"var": "data.households"}, 10]}',
    lambda a, b: _gt(a, b, False),
)
_plain(
    "<",
    (2, 3),
    "less than; with 3 arguments: strictly between",
    '{"<": [0, {"var": "item.age_hours"}, 24]}',
    _lt,
)
_plain(
    "<=",
    (2, 3),
    "less or equal; with 3 arguments: between, inclusive",
    '{"<=": [1, {"var": "item.priority"}, 3]}',
    _le,
)
_plain("max", (1, None), "largest number", '{"max": [{"var": "data.a"}, 3]}', _qubit_numeric("max"))
_plain(
    "min", (1, None), "smallest number", '{"min": [{"var": "data.a"}, 3]}', _qubit_numeric("min")
)
_plain(
    "+",
    (0, None),
    "sum; with one argument: cast text to number",
    '{"+": [1, "2"]}',
    _qubit_numeric("+"),
)
_plain(
    "-", (1, 2), "difference; with one argument: negation", '{"-": [10, 3]}', _qubit_numeric("-")
)
_plain("*", (1, None), "product", '{"*": [{"var": "data.area"}, 0.5]}', _qubit_numeric("*"))
_plain(
    "/", (2, 2), "quotient (division by zero is an error)", '{"/": [{"var": "data.a"}, 2]}', _divide
)
_plain(
    "%",
    (2, 2),
    "remainder, sign of the dividend (modulo by zero is an error)",
    '{"%": [7, 3]}',
    _modulo,
)
_special(
    "map",
    "scoped",
    (2, 2),
    "apply a rule to each element (element in scope)",
    '{"map": [{"var": "data.rooms"}, {"var": "area"}]}',
)
_special(
    "filter",
    "scoped",
    (2, 2),
    "keep the elements for which the rule is truthy",
    '{"filter": [{"var": "data.rooms"}, {">": [{"var": "area"}, 50]}]}',
)
_special(
    "reduce",
    "scoped",
    (2, 3),
    "fold; rule sees {current, accumulator}",
    '{"reduce": [{"var": "data.rooms"}, {"+": [{"var": "current.area"}, '
    '{"var": "accumulator"}]}, 0]}',
)
_special(
    "all",
    "scoped",
    (2, 2),
    "rule truthy for every element (false for an empty list)",
    '{"all": [{"var": "data.rooms"}, {">": [{"var": "area"}, 0]}]}',
)
_special(
    "none",
    "scoped",
    (2, 2),
    "rule truthy for no element",
    '{"none": [{"var": "data.rooms"}, {"var": "illegal"}]}',
)
_special(
    "some",
    "scoped",
    (2, 2),
    "rule truthy for at least one element",
    '{"some": [{"var": "data.rooms"}, {"var": "illegal"}]}',
)
_plain(
    "merge",
    (0, None),
    "flatten arguments one level into a list",
    '{"merge": [[1], 2]}',
    _merge,
    metered=True,
)
_plain(
    "in",
    (2, 2),
    "element of a list (strict equality) or substring of text",
    '{"in": [{"var": "data.category"}, ["违章搭建", "消防"]]}',
    contains,
)
_plain(
    "cat",
    (0, None),
    "concatenate as text (null as empty text)",
    '{"cat": ["#", {"var": "item.id"}]}',
    _cat,
    metered=True,
)
_plain(
    "substr",
    (2, 3),
    "substring from start (negative: from the end), optional length",
    '{"substr": [{"var": "data.phone"}, -4]}',
    _substr,
    metered=True,
)


def _gt(a: Any, b: Any, strict: bool) -> bool:
    # a > b is b < a; keep argument indexes pointing at the original positions.
    try:
        return less(b, a, strict)
    except OpError as error:
        raise error.moved(None if error.arg is None else 1 - error.arg) from None

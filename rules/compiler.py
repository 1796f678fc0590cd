"""The fast evaluator: a rule compiled once into nested Python closures.

Same semantics and same errors (message and path) as rules.reference, which a
differential test checks; the common routing shapes (var, ==, in, comparisons
against constants, and/or) get specialised closures that skip the generic
dispatch.

Every closure takes (data, budget). A rule that uses a metered operator
(map/filter/reduce/all/none/some, cat, substr, merge) or may return a list is
wrapped so that each call gets a fresh rules.budget.Budget and its result is
checked; the others (most routing rules) run with the shared UNMETERED budget,
which they never charge, and pay nothing for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from rules.access import get_var
from rules.budget import UNMETERED, Budget, check_result
from rules.builtins import contains
from rules.errors import OpError, RuleEvalError, pointer_token
from rules.registry import OperatorInfo, lookup
from rules.shape import may_return_container, metered
from rules.validate import arg_path, arguments, canonical, check, size
from rules.values import (
    excerpt,
    is_container,
    js_to_number,
    less,
    loose_equals,
    scalar_key,
    strict_equals,
    truthy,
)

Fn = Callable[..., Any]
"""A compiled node: f(data, budget=UNMETERED) -> value."""
_MISSING = object()


def compile(rule: Any) -> Callable[[Mapping[str, Any]], Any]:
    """Compile a rule into a function of the document (cached by canonical JSON).

    :param rule: a JsonLogic rule.
    :raises RuleError: if the rule is invalid.
    :returns: f(doc) -> value, raising RuleEvalError (with the rule path) on failure.
    """
    check(rule)
    text = canonical(rule)
    if text is None:  # pragma: no cover - check() refuses non-JSON rules
        return _top(rule)
    return _compile_text(text)


@lru_cache(maxsize=4096)
def _compile_text(text: str) -> Fn:
    return _top(json.loads(text))


def _top(rule: Any) -> Fn:
    fn = _node(rule, "")
    if not metered(rule) and not may_return_container(rule):
        return fn

    def run(doc: Mapping[str, Any]) -> Any:
        result = fn(doc, Budget())
        if type(result) is list or type(result) is dict:
            check_result(result)
        return result

    return run


def _const(value: Any) -> Fn:
    return lambda data, budget=UNMETERED: value


def _node(node: Any, path: str) -> Fn:
    if isinstance(node, (list, tuple)):
        items = [_node(item, f"{path}/{i}") for i, item in enumerate(node)]
        return lambda data, budget=UNMETERED: [item(data, budget) for item in items]
    if not isinstance(node, dict):
        return _const(node)
    op, value = next(iter(node.items()))
    info = lookup(op)
    if info is None:  # unreachable after check()
        raise RuleEvalError(
            f"{path}/{pointer_token(op)}", "unknown operator %(op)s", {"op": repr(op)}
        )
    args = arguments(value)
    paths = [arg_path(path, op, value, i) for i in range(len(args))]
    special = _SPECIAL.get(op)
    if special is not None:
        fast = special(args, paths, f"{path}/{pointer_token(op)}")
        if fast is not None:
            return fast
    if info.kind == "lazy":
        return _lazy(op, [_node(arg, p) for arg, p in zip(args, paths)])
    if info.kind == "scoped":
        return _scoped(
            op,
            [_node(arg, p) for arg, p in zip(args, paths)],
            size(args[1]),
            f"{path}/{pointer_token(op)}",
        )
    return _generic(
        info, [_node(arg, p) for arg, p in zip(args, paths)], paths, f"{path}/{pointer_token(op)}"
    )


def _generic(info: OperatorInfo, parts: list[Fn], paths: list[str], here: str) -> Fn:
    fn = info.fn
    assert fn is not None
    op = info.name
    first = {"data": 0, "plain": 2 if info.metered else 1}[info.kind]

    def call(data: Any, budget: Budget = UNMETERED) -> Any:
        values = [part(data, budget) for part in parts]
        try:
            if first == 1:
                return fn(*values)
            return fn(data if first == 0 else budget, *values)
        except OpError as error:
            where = here if error.arg is None else paths[error.arg]
            raise RuleEvalError(where, error.template, error.params) from None
        except (TypeError, ValueError, ArithmeticError) as error:
            raise RuleEvalError(
                here,
                "cannot evaluate %(op)s: %(error)s",
                {"op": repr(op), "error": excerpt(str(error))},
            ) from None

    return call


def _guard(fn: Callable[..., Any], here: str, paths: list[str]) -> Callable[..., Any]:
    """Wrap a slow-path helper so an OpError becomes RuleEvalError at the right path."""

    def call(*values: Any) -> Any:
        try:
            return fn(*values)
        except OpError as error:
            where = here if error.arg is None else paths[error.arg]
            raise RuleEvalError(where, error.template, error.params) from None

    return call


def _lazy(op: str, parts: list[Fn]) -> Fn:
    if op == "and":

        def all_of(data: Any, budget: Budget = UNMETERED) -> Any:
            current: Any = None
            for part in parts:
                current = part(data, budget)
                if not truthy(current):
                    return current
            return current

        return all_of
    if op == "or":

        def any_of(data: Any, budget: Budget = UNMETERED) -> Any:
            current: Any = None
            for part in parts:
                current = part(data, budget)
                if truthy(current):
                    return current
            return current

        return any_of
    pairs = [(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
    otherwise = parts[-1] if len(parts) % 2 else None

    def choose(data: Any, budget: Budget = UNMETERED) -> Any:
        for condition, then in pairs:
            if truthy(condition(data, budget)):
                return then(data, budget)
        return otherwise(data, budget) if otherwise is not None else None

    return choose


def _scoped(op: str, parts: list[Fn], cost: int, here: str) -> Fn:
    """map/filter/reduce/all/none/some; each element visited costs `cost` steps."""
    items_of, logic = parts[0], parts[1]
    if op == "reduce":
        initial_of = parts[2] if len(parts) > 2 else _const(None)

        def fold(data: Any, budget: Budget = UNMETERED) -> Any:
            items = items_of(data, budget)
            accumulator = initial_of(data, budget)
            if not isinstance(items, (list, tuple)):
                return accumulator
            for item in items:
                budget.step(cost, here)
                accumulator = logic({"current": item, "accumulator": accumulator}, budget)
            return accumulator

        return fold

    def apply(item: Any, budget: Budget) -> Any:
        budget.step(cost, here)
        return logic(item, budget)

    def scoped(data: Any, budget: Budget = UNMETERED) -> Any:
        items = items_of(data, budget)
        if not isinstance(items, (list, tuple)):
            return [] if op in ("map", "filter") else op == "none"
        if op == "map":
            return [apply(item, budget) for item in items]
        if op == "all":
            return bool(items) and all(truthy(apply(item, budget)) for item in items)
        if op == "filter":
            return [item for item in items if truthy(apply(item, budget))]
        found = any(truthy(apply(item, budget)) for item in items)
        return not found if op == "none" else found

    return scoped


def _var(args: list[Any], paths: list[str], here: str) -> Fn | None:
    if len(args) != 1 or not isinstance(args[0], str) or args[0] == "":
        return None
    parts = args[0].split(".")
    rests = [".".join(parts[i:]) for i in range(len(parts))]

    def read(data: Any, budget: Budget = UNMETERED) -> Any:
        current = data
        for i, part in enumerate(parts):
            if type(current) is not dict:  # lists, text, other mappings: the general reader
                return get_var(current, rests[i])
            current = current.get(part, _MISSING)
            if current is _MISSING:
                return None
        return current

    return read


def _constant_operand(args: list[Any]) -> tuple[int, Any] | None:
    """(index of the non-constant side, the constant) for a binary op on one constant."""
    if len(args) != 2:
        return None
    left_const = not isinstance(args[0], (dict, list, tuple))
    right_const = not isinstance(args[1], (dict, list, tuple))
    if right_const and not left_const:
        return 0, args[1]
    if left_const and not right_const:
        return 1, args[0]
    return None


def _equality(negate: bool, strict: bool) -> Callable[[list[Any], list[str], str], Fn | None]:
    compare = strict_equals if strict else loose_equals

    def build(args: list[Any], paths: list[str], here: str) -> Fn | None:
        side = _constant_operand(args)
        parts = [_node(arg, p) for arg, p in zip(args, paths)]
        slow = _guard(compare, here, paths)
        if side is not None and isinstance(side[1], str) and js_to_number(side[1]) is None:
            # Against non-numeric text, only the same text is equal (loose or strict).
            other, text, first = parts[side[0]], side[1], side[0] == 0

            def text_equal(data: Any, budget: Budget = UNMETERED) -> bool:
                value = other(data, budget)
                if type(value) is str:
                    return (value == text) != negate
                if strict or not is_container(value):
                    return negate
                # lists are incomparable: let the slow path raise the same error
                return bool(slow(value, text) if first else slow(text, value)) != negate

            return text_equal
        left, right = parts

        def equal(data: Any, budget: Budget = UNMETERED) -> bool:
            return bool(slow(left(data, budget), right(data, budget))) != negate

        return equal

    return build


def _in(args: list[Any], paths: list[str], here: str) -> Fn | None:
    if len(args) == 2 and isinstance(args[0], str) and isinstance(args[1], dict):
        return _text_in(args[0], _node(args[1], paths[1]), _guard(contains, here, paths))
    if len(args) != 2 or not isinstance(args[1], list) or isinstance(args[0], (list, tuple)):
        return None
    keys = [scalar_key(item) for item in args[1]]
    needle = _node(args[0], paths[0])
    if any(key is None for key in keys):
        return None
    members = frozenset(keys)

    def member(data: Any, budget: Budget = UNMETERED) -> bool:
        key = scalar_key(needle(data, budget))
        return key is not None and key in members

    return member


def _text_in(needle: str, haystack_of: Fn, slow: Callable[..., Any]) -> Fn:
    # A text is strictly equal only to the same text, so Python's `in` is exact for both a
    # list haystack and a text haystack (substring).
    def member(data: Any, budget: Budget = UNMETERED) -> bool:
        haystack = haystack_of(data, budget)
        if type(haystack) is list or type(haystack) is str:
            return needle in haystack
        return bool(slow(needle, haystack))

    return member


def _order(strict: bool, flip: bool) -> Callable[[list[Any], list[str], str], Fn | None]:
    def build(args: list[Any], paths: list[str], here: str) -> Fn | None:
        if len(args) != 2:
            return None
        parts = [_node(arg, p) for arg, p in zip(args, paths)]
        if flip:  # a > b is b < a, with the argument indexes of the original positions
            slow = _guard(lambda a, b: _flipped(a, b, strict), here, paths)
        else:
            slow = _guard(lambda a, b: less(a, b, strict), here, paths)
        left, right = parts

        def ordered(data: Any, budget: Budget = UNMETERED) -> bool:
            a, b = left(data, budget), right(data, budget)
            ta, tb = type(a), type(b)
            if (ta is int or ta is float) and (tb is int or tb is float):
                if flip:
                    return bool(a > b if strict else a >= b)
                return bool(a < b if strict else a <= b)
            return bool(slow(a, b))

        return ordered

    return build


def _flipped(a: Any, b: Any, strict: bool) -> bool:
    try:
        return less(b, a, strict)
    except OpError as error:
        raise error.moved(None if error.arg is None else 1 - error.arg) from None


def _not(negate: bool) -> Callable[[list[Any], list[str], str], Fn | None]:
    def build(args: list[Any], paths: list[str], here: str) -> Fn | None:
        if len(args) != 1:
            return None
        part = _node(args[0], paths[0])
        if negate:
            return lambda data, budget=UNMETERED: not truthy(part(data, budget))
        return lambda data, budget=UNMETERED: truthy(part(data, budget))

    return build


_SPECIAL: dict[str, Callable[[list[Any], list[str], str], Fn | None]] = {
    "var": _var,
    "==": _equality(False, False),
    "!=": _equality(True, False),
    "===": _equality(False, True),
    "!==": _equality(True, True),
    "in": _in,
    "<": _order(True, False),
    "<=": _order(False, False),
    ">": _order(True, True),
    ">=": _order(False, True),
    "!": _not(True),
    "!!": _not(False),
}

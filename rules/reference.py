"""The reference evaluator: a plain tree walk over json-logic-qubit's semantics (with fixes).

json-logic-qubit's `jsonLogic` recurses into itself, so it cannot tell us where
in a rule a failure happened, replaces falsy data by {} inside map/filter, and
has a global operator table we must not change. We therefore walk the rule
ourselves, do the control flow (if/and/or, map/filter/…) here and call the
operator implementations from the registry, which in turn call qubit's own
functions wherever qubit agrees with the published semantics.

Every evaluation spends from a rules.budget.Budget, at the same points and by
the same amounts as the compiled evaluator, so both fail alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rules.budget import Budget, check_result
from rules.errors import OpError, RuleEvalError, pointer_token
from rules.registry import lookup
from rules.validate import arg_path, arguments, check, size
from rules.values import excerpt, truthy


def evaluate(rule: Any, doc: Mapping[str, Any]) -> Any:
    """Evaluate a rule against one document, the slow and obvious way.

    :param rule: a JsonLogic rule (validated first; the result is cached).
    :param doc: the document the rule sees (docs/pack-format.md, "What a rule sees").
    :raises RuleError: if the rule is invalid.
    :raises RuleEvalError: if evaluation fails or exceeds its budget; its path points
        into the rule.
    """
    check(rule)
    result = _eval(rule, doc, "", Budget())
    check_result(result)
    return result


def _eval(node: Any, data: Any, path: str, budget: Budget) -> Any:
    if isinstance(node, (list, tuple)):
        return [_eval(item, data, f"{path}/{i}", budget) for i, item in enumerate(node)]
    if not isinstance(node, dict):
        return node
    op, value = next(iter(node.items()))
    info = lookup(op)
    if info is None:  # unreachable after check(); kept so a bypass cannot call anything
        raise RuleEvalError(
            f"{path}/{pointer_token(op)}", "unknown operator %(op)s", {"op": repr(op)}
        )
    args = arguments(value)
    here = f"{path}/{pointer_token(op)}"
    if info.kind == "lazy":
        return _lazy(op, args, value, data, path, budget)
    if info.kind == "scoped":
        return _scoped(op, args, value, data, path, budget)
    values = [_eval(arg, data, arg_path(path, op, value, i), budget) for i, arg in enumerate(args)]
    assert info.fn is not None
    try:
        if info.kind == "data":
            return info.fn(data, *values)
        if info.metered:
            return info.fn(budget, *values)
        return info.fn(*values)
    except OpError as error:
        where = here if error.arg is None else arg_path(path, op, value, error.arg)
        raise RuleEvalError(where, error.template, error.params) from None
    except (TypeError, ValueError, ArithmeticError) as error:  # a gap in our checks
        raise RuleEvalError(
            here,
            "cannot evaluate %(op)s: %(error)s",
            {"op": repr(op), "error": excerpt(str(error))},
        ) from None


def _lazy(op: str, args: list[Any], value: Any, data: Any, path: str, budget: Budget) -> Any:
    def at(i: int) -> Any:
        return _eval(args[i], data, arg_path(path, op, value, i), budget)

    if op in ("if", "?:"):
        i = 0
        while i < len(args) - 1:
            if truthy(at(i)):
                return at(i + 1)
            i += 2
        return at(i) if i == len(args) - 1 else None
    current: Any = None
    for i in range(len(args)):
        current = at(i)
        if truthy(current) == (op == "or"):
            return current
    return current


def _scoped(op: str, args: list[Any], value: Any, data: Any, path: str, budget: Budget) -> Any:
    here = f"{path}/{pointer_token(op)}"
    items = _eval(args[0], data, arg_path(path, op, value, 0), budget)
    logic, logic_path = args[1], arg_path(path, op, value, 1)
    cost = size(logic)

    def apply(scope: Any) -> Any:
        budget.step(cost, here)
        return _eval(logic, scope, logic_path, budget)

    if op == "reduce":
        initial = (
            _eval(args[2], data, arg_path(path, op, value, 2), budget) if len(args) > 2 else None
        )
        if not isinstance(items, (list, tuple)):
            return initial
        accumulator = initial
        for item in items:
            accumulator = apply({"current": item, "accumulator": accumulator})
        return accumulator
    if not isinstance(items, (list, tuple)):
        return {"map": [], "filter": [], "all": False, "none": True, "some": False}[op]
    if op == "map":
        return [apply(item) for item in items]
    if op == "all":
        if not items:
            return False
        return all(truthy(apply(item)) for item in items)
    if op == "filter":
        return [item for item in items if truthy(apply(item))]
    # some/none stop at the first truthy element, as json-logic-js does
    found = any(truthy(apply(item)) for item in items)
    return not found if op == "none" else found

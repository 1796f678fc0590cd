"""Static checks of a rule: allow-listed operators, arity, size and depth caps."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from rules.errors import Problem, RuleError, pointer_token
from rules.registry import REFUSED, OperatorInfo, lookup
from rules.values import excerpt, js_string

MAX_DEPTH = 32
MAX_NODES = 2000

SCOPED_ARGS = {
    "map": (0,),
    "filter": (0,),
    "all": (0,),
    "none": (0,),
    "some": (0,),
    "reduce": (0, 2),
}
"""For scoped operators, the arguments evaluated against the outer data (the others see
one element at a time)."""


class _TooBig(Exception):
    pass


Gettext = Callable[[str], str]


def _identity(text: str) -> str:
    return text


def _quoted(key: Any, gettext: Gettext = _identity) -> str:
    """A key or operator name for a message: quoted, at most a short excerpt."""
    if isinstance(key, str) and "'" not in key:
        return gettext("'%(key)s'") % {"key": excerpt(key)}
    return repr(excerpt(key)) if isinstance(key, str) else excerpt(repr(key))


def arguments(value: Any) -> list[Any]:
    """The argument list of an operator ({"!": x} is shorthand for {"!": [x]})."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def arg_path(path: str, op: str, value: Any, index: int) -> str:
    """JSON Pointer of argument `index` of the operator `op` found at `path`."""
    base = f"{path}/{pointer_token(op)}"
    return f"{base}/{index}" if isinstance(value, (list, tuple)) else base


class _Validator:
    def __init__(self, max_depth: int, max_nodes: int, gettext: Gettext = _identity) -> None:
        self._ = gettext
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.nodes = 0
        self.problems: list[Problem] = []

    def walk(self, node: Any, path: str, depth: int) -> None:
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise _TooBig
        if depth > self.max_depth:
            self.problems.append(Problem(path, too_deep(self.max_depth, self._)))
            return
        if isinstance(node, dict):
            self.rule(node, path, depth)
        elif isinstance(node, (list, tuple)):
            for i, item in enumerate(node):
                self.walk(item, f"{path}/{i}", depth + 1)
        elif isinstance(node, float) and not math.isfinite(node):
            self.problems.append(Problem(path, self._("NaN and Infinity are not JSON numbers")))
        elif node is not None and not isinstance(node, (str, int, float)):
            self.problems.append(
                Problem(
                    path, self._("%(type)s is not a JSON value") % {"type": type(node).__name__}
                )
            )

    def rule(self, node: dict[Any, Any], path: str, depth: int) -> None:
        if len(node) != 1:
            keys = self._(", ").join(_quoted(key, self._) for key in list(node)[:4])
            keys = keys or self._("none")
            keys += self._(", ") + "…" if len(node) > 4 else ""
            self.problems.append(
                Problem(
                    path,
                    self._("a rule object has exactly one operator (got %(keys)s)")
                    % {"keys": keys},
                )
            )
            return
        op, value = next(iter(node.items()))
        if not isinstance(op, str):
            self.problems.append(
                Problem(path, self._("operator %(op)s is not text") % {"op": _quoted(op, self._)})
            )
            return
        here = f"{path}/{pointer_token(op)}"
        info = lookup(op)
        if info is None:
            refused = REFUSED.get(op)
            self.problems.append(
                Problem(
                    here,
                    self._(refused)
                    if refused
                    else self._("unknown operator %(op)s") % {"op": _quoted(op, self._)},
                )
            )
            return
        args = arguments(value)
        if len(args) < info.min_args or (info.max_args is not None and len(args) > info.max_args):
            self.problems.append(
                Problem(
                    here,
                    self._("%(op)s takes %(arity)s argument(s), got %(n)s")
                    % {"op": _quoted(op, self._), "arity": self._arity(info), "n": len(args)},
                )
            )
        if op == "var" and args:
            name = args[0]
            if isinstance(name, bool) or not isinstance(name, (str, int, float, dict, type(None))):
                self.problems.append(
                    Problem(
                        arg_path(path, op, value, 0), self._("a var name must be text or a number")
                    )
                )
        if isinstance(value, (list, tuple)):
            self.nodes += 1  # the argument list itself
            if self.nodes > self.max_nodes:
                raise _TooBig
            for i, arg in enumerate(value):
                self.walk(arg, f"{here}/{i}", depth + 1)
        else:
            self.walk(value, here, depth + 1)

    def _arity(self, info: OperatorInfo) -> str:
        if info.max_args is None:
            return self._("%(n)s or more") % {"n": info.min_args}
        return info.arity_text()


def too_deep(levels: int, gettext: Gettext = _identity) -> str:
    return gettext("rule nested deeper than %(n)s levels") % {"n": levels}


def size(rule: Any) -> int:
    """Number of JSON values in a rule (each object, list and scalar counts one)."""
    if isinstance(rule, dict):
        return 1 + sum(size(value) for value in rule.values())
    if isinstance(rule, (list, tuple)):
        return 1 + sum(size(item) for item in rule)
    return 1


def validate(
    rule: Any,
    *,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
    gettext: Gettext = _identity,
) -> list[Problem]:
    """List everything wrong with a rule (empty list: the rule is valid).

    :param rule: a JSON value (a rule object, a literal or a list of those).
    :param max_depth: deepest nesting allowed (each operator and each literal list is a level).
    :param max_nodes: most JSON values allowed in the rule.
    :param gettext: translation function for the messages (English msgids, named placeholders).
    """
    validator = _Validator(max_depth, max_nodes, gettext)
    try:
        validator.walk(rule, "", 1)
    except _TooBig:
        return [Problem("", gettext("rule has more than %(n)s nodes") % {"n": max_nodes})]
    except RecursionError:
        return [Problem("", too_deep(max_depth, gettext))]
    return validator.problems


def canonical(rule: Any) -> str | None:
    """Canonical JSON text of a rule (cache key), or None if it is not JSON."""
    try:
        return json.dumps(
            rule, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )
    except (TypeError, ValueError, RecursionError):
        return None


@lru_cache(maxsize=4096)
def _cached_problems(text: str) -> tuple[Problem, ...]:
    return tuple(validate(json.loads(text)))


def check(rule: Any) -> None:
    """Raise for the first problem of a rule (validation is cached by canonical JSON).

    :param rule: the rule to check.
    :raises RuleError: if the rule is invalid.
    """
    text = canonical(rule)
    problems = validate(rule) if text is None else _cached_problems(text)
    if problems:
        raise RuleError(problems[0].path, problems[0].message)


def vars_used(rule: Any) -> set[str]:
    """The var paths a rule reads from the document ("data.category").

    Paths read inside map/filter/… refer to list elements and are not included;
    neither are computed var names. `missing`/`missing_some` names are included.

    :param rule: a rule (need not be valid).
    """
    found: set[str] = set()
    _collect(rule, found, 0)
    return found


def _collect(node: Any, found: set[str], depth: int) -> None:
    if depth > MAX_DEPTH * 4:
        return
    if isinstance(node, (list, tuple)):
        for item in node:
            _collect(item, found, depth + 1)
        return
    if not isinstance(node, dict) or len(node) != 1:
        return
    op, value = next(iter(node.items()))
    args = arguments(value)
    if op == "var":
        name = args[0] if args else None
        if isinstance(name, (str, int, float)) and not isinstance(name, bool) and name != "":
            found.add(js_string(name, MAX_NODES))
        elif isinstance(name, dict):
            _collect(name, found, depth + 1)
        return
    if op in ("missing", "missing_some"):
        names = args[1] if op == "missing_some" and len(args) > 1 else args
        if op == "missing" and len(args) == 1 and isinstance(args[0], (list, tuple)):
            names = args[0]
        for name in arguments(names):
            if isinstance(name, str) and name:
                found.add(name)
            else:
                _collect(name, found, depth + 1)
        return
    outer = SCOPED_ARGS.get(op)
    for i, arg in enumerate(args):
        if outer is None or i in outer:
            _collect(arg, found, depth + 1)

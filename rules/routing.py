"""Routing tables (分派规则): ordered `when` rules deciding which units to summon.

A Table is compiled once per definition version and reused for many items.
Rules that test one field against constants are indexed by that field, so
for a new item only the candidate rules are evaluated.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from rules.access import get_var
from rules.compiler import compile
from rules.errors import RuleError, RuleEvalError
from rules.explain import Explainer, render, shown
from rules.validate import arguments, vars_used
from rules.values import is_container, js_to_number, scalar_key, truthy

HitPolicy = Literal["first", "collect"]


@dataclass(frozen=True)
class Route:
    """One routing row: a `when` rule and the rest of the row (summon, report_hours, …)."""

    key: str
    when: Any
    payload: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


class Outcome:
    """What one route did for one document, with a short English reason.

    The reason is written only when somebody reads it: routing a new item does not
    pay for the sentences of two hundred routes it will store once at most.
    """

    __slots__ = ("_reason", "error", "fired", "key")

    def __init__(
        self, key: str, fired: bool, error: RuleEvalError | None, reason: str | Callable[[], str]
    ) -> None:
        self.key = key
        self.fired = fired
        self.error = error
        self._reason = reason

    @property
    def reason(self) -> str:
        if callable(self._reason):
            self._reason = self._reason()
        return self._reason

    def _astuple(self) -> tuple[str, bool, RuleEvalError | None, str]:
        return (self.key, self.fired, self.error, self.reason)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Outcome) and self._astuple() == other._astuple()

    def __hash__(self) -> int:
        return hash((self.key, self.fired))

    def __repr__(self) -> str:
        return f"Outcome(key={self.key!r}, fired={self.fired!r}, error={self.error!r}, reason={self.reason!r})"


_outcome = Outcome


@dataclass(frozen=True)
class Decision:
    """The routes that fired, every route's outcome and the inputs the table read.

    used_default is True when a rule failed (then `fired` is empty) or none fired:
    the caller falls back to the table's default units.
    """

    fired: list[Route]
    outcomes: list[Outcome]
    used_default: bool
    inputs: dict[str, Any]


@dataclass(frozen=True)
class _Index:
    """The clause a route is indexed by: var path, member keys, and == vs in."""

    path: str
    keys: frozenset[tuple[str, Any]]
    loose: bool
    clause: Any


def _var_path(node: Any) -> str | None:
    if isinstance(node, dict) and len(node) == 1 and "var" in node:
        args = arguments(node["var"])
        if len(args) == 1 and isinstance(args[0], str) and args[0]:
            return args[0]
    return None


def index_clause(rule: Any) -> _Index | None:
    """The clause a route can be looked up by, or None.

    {"==": [{"var": P}, text]} where the text is not numeric (so `==` can only match
    the same text), {"in": [{"var": P}, [scalars]]} (strict membership), or an `and`
    whose first condition is one of those (if that condition is false, `and` stops
    there, so no later condition can fail).
    """
    if not isinstance(rule, dict) or len(rule) != 1:
        return None
    op, value = next(iter(rule.items()))
    args = arguments(value)
    if op == "and" and args:
        return index_clause(args[0])
    if op in ("==", "===") and len(args) == 2:
        for var_side, const in ((args[0], args[1]), (args[1], args[0])):
            path = _var_path(var_side)
            if path and isinstance(const, str) and js_to_number(const) is None:
                return _Index(path, frozenset({("str", const)}), op == "==", rule)
    if op == "in" and len(args) == 2 and isinstance(args[1], list):
        path = _var_path(args[0])
        keys = [scalar_key(item) for item in args[1]]
        if path and all(key is not None for key in keys):
            return _Index(path, frozenset(k for k in keys if k is not None), False, rule)
    return None


class Table:
    """A compiled routing table (one per definition version), reused for many documents."""

    def __init__(
        self, routes: Sequence[Route], hit_policy: HitPolicy = "collect", *, index: bool = True
    ) -> None:
        """Compile every route's rule and build the field index.

        :param routes: the rows, in order (order matters for hit_policy "first").
        :param hit_policy: "first" stops at the first route that fires; "collect" takes all.
        :param index: look candidate routes up by field (False: evaluate every route).
        :raises RuleError: if a route's rule is invalid (the message names the route).
        :raises ValueError: for an unknown hit policy or duplicate route keys.
        """
        if hit_policy not in ("first", "collect"):
            raise ValueError(f"unknown hit policy {hit_policy!r}")
        keys = [route.key for route in routes]
        if len(set(keys)) != len(keys):
            raise ValueError("route keys must be unique")
        self.routes = list(routes)
        self.hit_policy = hit_policy
        self._rules = []
        for route in self.routes:
            try:
                self._rules.append(compile(route.when))
            except RuleError as error:
                raise RuleError(error.path, f"route {route.key!r}: {error.message}") from None
        self._explainers = [Explainer(route.when) for route in self.routes]
        self._indexes: list[_Index | None] = [
            index_clause(route.when) if index else None for route in self.routes
        ]
        self._skipped = [render(found.clause) if found else "" for found in self._indexes]
        self._index_paths = [found.path if found else "" for found in self._indexes]
        self._always = [i for i, found in enumerate(self._indexes) if found is None]
        self._buckets: dict[str, dict[tuple[str, Any], list[int]]] = {}
        self._loose: dict[str, list[int]] = {}
        for i, found in enumerate(self._indexes):
            if found is None:
                continue
            buckets = self._buckets.setdefault(found.path, {})
            for key in found.keys:
                buckets.setdefault(key, []).append(i)
            if found.loose:
                self._loose.setdefault(found.path, []).append(i)
        self.inputs = sorted(set().union(*(vars_used(route.when) for route in self.routes)))

    def _candidates(self, doc: Mapping[str, Any], seen: dict[str, Any]) -> list[int]:
        chosen = list(self._always)
        for path, buckets in self._buckets.items():
            value = seen[path] = get_var(doc, path)
            key = scalar_key(value)
            if key is not None:
                chosen.extend(buckets.get(key, ()))
            elif is_container(value):  # `==` against a list fails: evaluate to raise it
                chosen.extend(self._loose.get(path, ()))
        chosen.sort()
        return chosen

    def _skip_reason(self, i: int, seen: Mapping[str, Any]) -> Callable[[], str]:
        path = self._index_paths[i]
        return lambda: f"{self._skipped[i]} was false (got {shown(seen[path])})"

    def decide(self, doc: Mapping[str, Any]) -> Decision:
        """Route one document.

        If any evaluated rule fails, the decision fires nothing and used_default is
        True; the outcomes record the error with the failing rule's path.

        :param doc: the document a rule sees (docs/pack-format.md).
        """
        seen: dict[str, Any] = {}
        candidates = set(self._candidates(doc, seen))

        outcomes: list[Outcome] = []
        fired: list[Route] = []
        failed = False
        stopped: str | None = None
        for i, route in enumerate(self.routes):
            if stopped is not None:
                outcomes.append(_outcome(route.key, False, None, stopped))
                continue
            if i not in candidates:
                outcomes.append(_outcome(route.key, False, None, self._skip_reason(i, seen)))
                continue
            try:
                hit = truthy(self._rules[i](doc))
            except RuleEvalError as error:
                failed = True
                outcomes.append(_outcome(route.key, False, error, f"rule failed: {error}"))
                if self.hit_policy == "first":
                    stopped = f"not evaluated: route {route.key!r} failed (hit policy first)"
                continue
            explain = self._explainers[i].true if hit else self._explainers[i].false
            outcomes.append(_outcome(route.key, hit, None, functools.partial(explain, doc)))
            if hit:
                fired.append(route)
                if self.hit_policy == "first":
                    stopped = f"not evaluated: route {route.key!r} fired (hit policy first)"
        if failed:
            fired = []
        inputs = {path: seen[path] if path in seen else get_var(doc, path) for path in self.inputs}
        return Decision(fired, outcomes, failed or not fired, inputs)

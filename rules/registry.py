"""The one registry of allowed operators, built-in and custom alike."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

Kind = Literal["plain", "data", "lazy", "scoped"]

# Operators json-logic-qubit knows that a rule may never use, with the reason.
REFUSED: Mapping[str, str] = MappingProxyType(
    {
        "method": "operator 'method' is not allowed (rules may not call methods)",
        "log": "operator 'log' is not allowed (it has a side effect)",
        "count": "operator 'count' is not allowed (not standard JsonLogic)",
    }
)


@dataclass(frozen=True)
class OperatorInfo:
    """An allowed operator: its arity, its documentation line and its implementation.

    kind: "plain" takes evaluated arguments; "data" also receives the data in
    scope first; "lazy" (if/and/or) and "scoped" (map/filter/…) are evaluated
    by the evaluators themselves, so `fn` is None. `metered` operators build
    text or lists: `fn` receives the evaluation's rules.budget.Budget first.
    """

    name: str
    kind: Kind
    min_args: int
    max_args: int | None
    doc: str
    example: str
    fn: Callable[..., Any] | None = None
    custom: bool = False
    metered: bool = False

    def arity_text(self) -> str:
        """Render the arity for docs and messages ("2", "1–3", "1 or more")."""
        if self.max_args is None:
            return f"{self.min_args} or more"
        if self.max_args == self.min_args:
            return str(self.min_args)
        return f"{self.min_args}–{self.max_args}"


_REGISTRY: dict[str, OperatorInfo] = {}
_VIEW: Mapping[str, OperatorInfo] = MappingProxyType(_REGISTRY)


def register(info: OperatorInfo) -> OperatorInfo:
    """Add an operator to the registry.

    :param info: the operator; its name must be new and not refused.
    :raises ValueError: if the name is taken or refused.
    """
    if info.name in _REGISTRY or info.name in REFUSED:
        raise ValueError(f"operator {info.name!r} is already registered or refused")
    if (info.kind in ("plain", "data")) != (info.fn is not None):
        raise ValueError(f"operator {info.name!r}: plain and data operators need fn")
    if info.metered and info.kind != "plain":
        raise ValueError(f"operator {info.name!r}: only plain operators are metered")
    _REGISTRY[info.name] = info
    return info


def operators() -> Mapping[str, OperatorInfo]:
    """Return the registry: every allowed operator, read-only."""
    return _VIEW


def lookup(name: str) -> OperatorInfo | None:
    """Return the operator called `name`, or None if it is not allowed."""
    return _REGISTRY.get(name)

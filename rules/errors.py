"""Problems and errors raised for invalid or failing rules."""

from __future__ import annotations

from typing import NamedTuple


class Problem(NamedTuple):
    """One thing wrong with a rule, located by a JSON Pointer inside it ("" = the root)."""

    path: str
    message: str


class RuleError(ValueError):
    """A rule is invalid (unknown operator, `method`, too big or too deep, wrong arity…)."""

    def __init__(self, path: str, message: str) -> None:
        """Build the error.

        :param path: JSON Pointer inside the rule ("" = the root).
        :param message: short English explanation.
        """
        super().__init__(f"{path or '/'}: {message}")
        self.path = path
        self.message = message

    def __eq__(self, other: object) -> bool:
        return (
            type(self) is type(other)
            and isinstance(other, RuleError)
            and (self.path, self.message) == (other.path, other.message)
        )

    def __hash__(self) -> int:
        return hash((type(self), self.path, self.message))

    def __reduce__(self) -> tuple[type[RuleError], tuple[str, str]]:
        return (type(self), (self.path, self.message))


class RuleEvalError(RuleError):
    """A valid rule failed while evaluating (NaN, division by zero, incomparable values…)."""


class OpError(Exception):
    """Raised by an operator implementation; the evaluator turns it into RuleEvalError.

    `arg` is the index of the offending argument, so the error path can point at it.
    """

    def __init__(self, message: str, arg: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.arg = arg


def pointer_token(token: str | int) -> str:
    """Escape one JSON Pointer reference token (RFC 6901)."""
    return str(token).replace("~", "~0").replace("/", "~1")

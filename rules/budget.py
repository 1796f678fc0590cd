"""What one evaluation may spend, so that no valid rule can hurt the server.

A rule is small (rules.validate caps its size and depth), but `map`, `filter`,
`reduce`, `all`, `none` and `some` repeat a rule for every element of a list,
and `cat`, `merge` and `substr` build new values: a 228-byte `reduce` that
doubles a text forty times would need a terabyte. Each evaluation therefore
gets a Budget; exceeding it is a RuleEvalError at the operator that did.
"""

from __future__ import annotations

from typing import Any

from rules.errors import OpError, RuleEvalError

MAX_STEPS = 100_000
"""Steps one evaluation may take: each element visited by map/filter/reduce/all/none/some
costs the number of JSON values in the rule applied to it."""
MAX_OUTPUT = 1_000_000
"""Characters and list elements that cat, substr and merge may build in one evaluation."""
MAX_RESULT_DEPTH = 100
"""Deepest nesting of lists and objects in the value a rule returns."""

STEPS_MESSAGE = (
    f"the evaluation takes more than {MAX_STEPS:,} steps "
    "(elements visited × size of the rule applied to them)"
)
OUTPUT_MESSAGE = f"the evaluation builds more than {MAX_OUTPUT:,} characters and list elements"
RESULT_SIZE_MESSAGE = f"the result has more than {MAX_OUTPUT:,} values and characters"
RESULT_DEPTH_MESSAGE = f"the result is nested deeper than {MAX_RESULT_DEPTH} levels"


class Budget:
    """What is left of one evaluation's steps and output."""

    __slots__ = ("output", "steps")

    def __init__(self) -> None:
        self.steps = MAX_STEPS
        self.output = MAX_OUTPUT

    def step(self, cost: int, path: str) -> None:
        """Spend steps for one element visited by a scoped operator.

        :param path: JSON Pointer of that operator, for the error.
        :raises RuleEvalError: when no steps are left.
        """
        self.steps -= cost
        if self.steps < 0:
            raise RuleEvalError(path, STEPS_MESSAGE)

    def room(self) -> int:
        """Characters or list elements that may still be built."""
        return self.output

    def build(self, size: int) -> None:
        """Spend output on a text or list of `size` about to be built.

        :raises OpError: when that is more than is left (the caller adds the path).
        """
        if size > self.output:
            raise OpError(OUTPUT_MESSAGE)
        self.output -= size


class Unmetered(Budget):
    """The budget handed to rules that use no metered operator (it is never charged)."""

    __slots__ = ()

    def step(self, cost: int, path: str) -> None:  # pragma: no cover - never called
        pass

    def build(self, size: int) -> None:  # pragma: no cover - never called
        pass


UNMETERED = Unmetered()


def check_result(value: Any) -> None:
    """Refuse a result its caller could not store or show: too big, or nested too deep.

    Lists built in a loop may hold the same list many times, so a small structure in
    memory can stand for an exponentially long JSON text; this measures the JSON text
    (values plus characters of text), visiting each distinct list or object once.

    :raises RuleEvalError: at the root ("").
    """
    if not isinstance(value, (list, tuple, dict)):
        return
    measured: dict[int, tuple[int, int]] = {}  # id -> (size, depth)
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in measured:
            continue
        items = node.values() if isinstance(node, dict) else node
        if not ready:
            stack.append((node, True))
            stack.extend(
                (item, False)
                for item in items
                if isinstance(item, (list, tuple, dict)) and id(item) not in measured
            )
            continue
        size, depth = len(node), 1
        if isinstance(node, dict):
            size += sum(len(str(key)) for key in node)
        for item in items:
            if isinstance(item, (list, tuple, dict)):
                inner, below = measured[id(item)]
                size += inner
                depth = max(depth, below + 1)
            elif isinstance(item, str):
                size += len(item)
        if depth > MAX_RESULT_DEPTH:
            raise RuleEvalError("", RESULT_DEPTH_MESSAGE)
        if size > MAX_OUTPUT:
            raise RuleEvalError("", RESULT_SIZE_MESSAGE)
        measured[id(node)] = (size, depth)

"""Rules: JSON Logic validated, evaluated and compiled; routing tables on top.

Pure: no Flask, no peewee, no clock. See docs/rules.md.
"""

from rules import builtins as _builtins  # noqa: F401 - registers the standard operators
from rules import custom as _custom  # noqa: F401 - registers our domain operators
from rules import ratios as _ratios  # noqa: F401 - exact share comparisons (votes)
from rules.compiler import compile
from rules.errors import (
    Problem,
    RuleError,
    RuleEvalError,
    Shown,
    params_from_json,
    render,
    shown_words,
)
from rules.reference import evaluate
from rules.registry import OperatorInfo, operators
from rules.rename import mentions, rename_value
from rules.validate import MAX_DEPTH, MAX_NODES, check, validate, vars_used
from rules.values import describe, truthy

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "OperatorInfo",
    "Problem",
    "RuleError",
    "RuleEvalError",
    "Shown",
    "check",
    "compile",
    "describe",
    "evaluate",
    "mentions",
    "operators",
    "params_from_json",
    "rename_value",
    "render",
    "shown_words",
    "truthy",
    "validate",
    "vars_used",
]

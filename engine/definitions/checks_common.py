"""What every definition check needs: rule problems at a path, unique keys, known roles."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import rules
from engine.core.errors import FieldProblem

# Checks a form (a JSON Schema) of a definition at a path: checks.form_problems.
FormCheck = Callable[[Any, str], list[FieldProblem]]


def role_problems(roles: Any, at: str, known: set[str]) -> list[FieldProblem]:
    """A problem at ``<at>/<i>`` of every role of ``roles`` the pack does not declare."""
    return [
        FieldProblem(f"{at}/{i}", f"unknown role {role!r}")
        for i, role in enumerate(roles or [])
        if role not in known
    ]


def rule_problems(rule: Any, path: str) -> list[FieldProblem]:
    """Every problem of a JSON Logic rule, at its JSON Pointer under ``path``."""
    return [FieldProblem(path + p.path, p.message) for p in rules.validate(rule)]


def duplicate_keys(entries: Iterable[tuple[str, str]], what: str) -> list[FieldProblem]:
    """A problem at ``<path>/key`` of every entry whose key an earlier entry already has.

    :param entries: (path of the entry, its key), in the definition's order.
    """
    seen: set[str] = set()
    problems = []
    for path, key in entries:
        if key in seen:
            problems.append(FieldProblem(f"{path}/key", f"duplicate {what} key {key!r}"))
        seen.add(key)
    return problems

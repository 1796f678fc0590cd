"""The score of an evaluation (履职评价): a rule of the pack over each row's metrics."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import rules
from engine.core.i18n import gettext as _
from engine.definitions.definitions import current_versions


class Scored(Protocol):
    score: float | None
    grade: str | None

    def metrics(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Evaluation:
    """A published evaluation definition: its score rule and grade thresholds."""

    key: str
    name: str
    number: int
    body: Mapping[str, Any]

    def grade(self, score: float) -> str | None:
        for grade in sorted(self.body.get("grades", []), key=lambda g: -g["min"]):
            if score >= grade["min"]:
                return str(grade["label"])
        return None


def evaluations(subject: str = "department") -> list[Evaluation]:
    """Published evaluation definitions for ``subject``, in pack order."""
    found = []
    for version in current_versions("evaluation"):
        definition = version.definition
        if version.body.get("subject", "department") == subject:
            found.append(Evaluation(definition.key, definition.name, version.number, version.body))
    return found


def score_rows(
    evaluation: Evaluation | None, rows: Iterable[Scored], *, skip: Any = None
) -> str | None:
    """Set ``score`` and ``grade`` on each row from the evaluation's score rule.

    A rule that fails leaves the scores empty and returns a message naming the
    definition, its version and the rule path; it never raises.

    :param skip: rows for which no score is computed (e.g. nothing summoned).
    """
    if evaluation is None:
        return None
    try:
        compiled = rules.compile(evaluation.body["score"])
    except rules.RuleError as exc:
        return _where(evaluation, exc.path, exc.message)
    problem = None
    for row in rows:
        row.score = row.grade = None
        if skip is not None and skip(row):
            continue
        try:
            value = compiled(row.metrics())
        except rules.RuleError as exc:
            problem = problem or _where(evaluation, exc.path, exc.message)
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            problem = problem or _where(
                evaluation, "", _("the score is not a number: %(value)r") % {"value": value}
            )
            continue
        row.score = round(float(value), 1)
        row.grade = evaluation.grade(row.score)
    return problem


def _where(evaluation: Evaluation, path: str, message: str) -> str:
    return _("Score rule of %(name)s (%(key)s v%(number)s) at /score%(path)s: %(message)s") % {
        "name": evaluation.name,
        "key": evaluation.key,
        "number": evaluation.number,
        "path": path,
        "message": message,
    }

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
    definition by name and version and the problem in words (the rule path is for the
    designer's checks); it never raises.

    :param skip: rows for which no score is computed (e.g. nothing summoned).
    """
    if evaluation is None:
        return None
    try:
        compiled = rules.compile(evaluation.body["score"])
    except rules.RuleError as exc:
        return _where(evaluation, exc.text(_))
    problem = None
    for row in rows:
        row.score = row.grade = None
        if skip is not None and skip(row):
            continue
        try:
            value = _scored(compiled, row.metrics())
        except rules.RuleError as exc:
            problem = problem or _where(evaluation, exc.text(_))
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            words = rules.shown_words(rules.describe(value), _)
            problem = problem or _where(
                evaluation, _("the score is not a number: %(value)s") % {"value": words}
            )
            continue
        row.score = round(float(value), 1)
        row.grade = evaluation.grade(row.score)
    return problem


# Scores worked out before, by compiled rule and the metrics it was given: a rule is a pure
# function of its document (the row's numbers), so the same rule on the same numbers gives
# the same score (a page shown again, a past period: 30 µs a row in the rule evaluator).
# Failures are not kept (they raise again). At most SCORES_KEPT.
_SCORES: dict[tuple[Any, tuple[tuple[str, type, Any], ...]], Any] = {}
SCORES_KEPT = 4096


def _scored(compiled: Any, metrics: dict[str, Any]) -> Any:
    """``compiled(metrics)``, kept by the compiled rule and the metrics."""
    # Types too: 50 and 50.0 (and True and 1) are equal keys but may score differently.
    key = (compiled, tuple(sorted((k, type(v), v) for k, v in metrics.items())))
    if key in _SCORES:
        return _SCORES[key]
    value = compiled(metrics)
    if isinstance(value, (list, dict)):  # mutable: not shared, evaluated each time
        return value
    if len(_SCORES) >= SCORES_KEPT:
        _SCORES.clear()
    _SCORES[key] = value
    return value


def _where(evaluation: Evaluation, message: str) -> str:
    """The page's message (the rule's path is for the designer: the admin's rule checks)."""
    return _("The score rule of %(name)s (version %(number)s) failed: %(message)s") % {
        "name": evaluation.name,
        "number": evaluation.number,
        "message": message,
    }

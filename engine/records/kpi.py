"""KPI checklists (the district's 22-row task list): each measurable row's value and status.

A row with a ``measure`` (a rule over a node's facts) and a ``goal`` (``op``,
``value``) is 达标 (``met``) when the measured value satisfies the goal, else 逾期
(``overdue``) once its deadline has passed and 未达标 (``unmet``) before. A row
without a measure is reported by its responsible unit (``reported``); the
reporting itself comes with the checklist rows of the next round.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import rules
from engine.core import clock
from engine.definitions.definitions import current_versions
from engine.store.models import DefinitionVersion

OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}
STATUSES = ("met", "unmet", "overdue", "no_data", "reported")


@dataclass(frozen=True)
class RowStatus:
    """One row of a KPI list measured at one node."""

    row: Mapping[str, Any]
    value: float | None
    status: str
    error: str | None = None


def kpi_lists() -> list[DefinitionVersion]:
    """The current version of every KPI checklist."""
    return [
        v for v in current_versions("checklist", by_key=True) if v.body.get("list_kind") == "kpi"
    ]


def _past(deadline: str, now: dt.datetime) -> bool:
    local = clock.local(now)
    assert local is not None
    return local.date() > dt.date.fromisoformat(deadline)


def measure_row(
    row: Mapping[str, Any], facts: Mapping[str, Any] | None, *, now: dt.datetime
) -> RowStatus:
    """Measure one row against a node's facts.

    :param facts: the node's facts document; None when never computed.
    :param now: decides whether an unmet row is overdue (its deadline is a local date).
    """
    if "measure" not in row:
        return RowStatus(row, None, "reported")
    if facts is None:
        return RowStatus(row, None, "no_data")
    try:
        value = rules.compile(row["measure"])(facts)
    except rules.RuleError as exc:
        return RowStatus(row, None, "no_data", str(exc))
    if isinstance(value, bool) or not isinstance(value, int | float):
        return RowStatus(row, None, "no_data")
    goal = row["goal"]
    if OPS[goal["op"]](value, goal["value"]):
        return RowStatus(row, float(value), "met")
    return RowStatus(row, float(value), "overdue" if _past(row["deadline"], now) else "unmet")


def measure_list(
    body: Mapping[str, Any], facts: Mapping[str, Any] | None, *, now: dt.datetime
) -> list[RowStatus]:
    """Every row of a KPI list measured against one node's facts, in row order."""
    return [measure_row(row, facts, now=now) for row in sorted(body["rows"], key=lambda r: r["no"])]


def progress(statuses: list[RowStatus]) -> dict[str, int]:
    """How many rows are in each status, and how many are measurable."""
    counts = {status: 0 for status in STATUSES}
    for s in statuses:
        counts[s.status] += 1
    counts["measurable"] = len(statuses) - counts["reported"]
    return counts

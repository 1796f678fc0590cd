"""KPI checklists (the district's 22-row task list): each measurable row's value and status.

A list may declare its ``period`` (a calendar year, or a start and an end date); its
deadlines are judged within it. A row measures one or more targets: ``measure``, ``goal``
and ``unit`` on the row, or a list of them in ``measures``. Each target is a rule over a
node's facts and a goal (``op``, ``value``). While the period runs, a row is 达标 (``met``)
when every target is met, else 逾期 (``overdue``) once its deadline has passed and 未达标
(``unmet``) before. Once the period is over the list shows its final state: 达成
(``achieved``) or 未达成 (``missed``), never overdue. A row without a measure is reported by
its responsible unit (``reported``); the reporting itself comes with the checklist rows of
the next round. Once the period is over the figures stay those of its end: the facts the
measures read are frozen per district and street (``frozen``, engine/metrics/kpi_close.py).
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
STATUSES = ("met", "unmet", "overdue", "no_data", "reported", "achieved", "missed")
FINAL = {"met": "achieved", "unmet": "missed", "overdue": "missed"}


@dataclass(frozen=True)
class Period:
    """The dates a KPI list is in force (local dates, both included)."""

    start: dt.date
    end: dt.date
    year: int | None = None


@dataclass(frozen=True)
class Part:
    """One measured target of a row."""

    label: str
    value: float | None
    unit: str
    goal: Mapping[str, Any]
    status: str  # met, unmet or no_data


@dataclass(frozen=True)
class RowStatus:
    """One row of a KPI list measured at one node."""

    row: Mapping[str, Any]
    value: float | None
    status: str
    error: str | None = None
    parts: tuple[Part, ...] = ()


def period_of(body: Mapping[str, Any]) -> Period | None:
    """The list's period, or None when it declares none (always in force)."""
    spec = body.get("period")
    if not spec:
        return None
    if "year" in spec:
        year = int(spec["year"])
        return Period(dt.date(year, 1, 1), dt.date(year, 12, 31), year)
    return Period(dt.date.fromisoformat(spec["start"]), dt.date.fromisoformat(spec["end"]))


def _today(now: dt.datetime) -> dt.date:
    local = clock.local(now)
    assert local is not None
    return local.date()


def is_over(body: Mapping[str, Any], now: dt.datetime) -> bool:
    """Whether the list's period has ended at ``now``."""
    period = period_of(body)
    return period is not None and _today(now) > period.end


def in_force(body: Mapping[str, Any], now: dt.datetime) -> bool:
    """Whether ``now`` falls within the list's period (a list without one always is)."""
    period = period_of(body)
    return period is None or period.start <= _today(now) <= period.end


def targets(row: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The row's measured targets: ``measures``, or the row's own ``measure`` and ``goal``."""
    if "measures" in row:
        return list(row["measures"])
    if "measure" in row:
        return [
            {
                "label": row.get("target", ""),
                "measure": row["measure"],
                "goal": row["goal"],
                "unit": row.get("unit", ""),
            }
        ]
    return []


def reads(body: Mapping[str, Any]) -> list[str]:
    """The fact paths the list's measures read (``by_type.bell.solved_rate``), sorted."""
    found: set[str] = set()
    for row in body.get("rows", []):
        for spec in targets(row):
            found |= rules.vars_used(spec["measure"])
    return sorted(found)


def frozen(body: Mapping[str, Any], facts: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a node's facts document the list's measures read, in the document's
    shape: measured against it, every row gives what it gave against the whole document.
    (A measure that computes the name of what it reads finds nothing there.)"""
    kept: dict[str, Any] = {}
    for path in reads(body):
        source: Any = facts
        target = kept
        parts = path.split(".")
        for i, part in enumerate(parts):
            if not isinstance(source, Mapping) or part not in source:
                break
            source = source[part]
            if i == len(parts) - 1 or not isinstance(source, Mapping):
                target[part] = source
                break
            target = target.setdefault(part, {})
    return kept


def measurable(row: Mapping[str, Any]) -> bool:
    """Whether the row is measured from facts (else a responsible unit reports on it)."""
    return "measure" in row or "measures" in row


def kpi_lists(now: dt.datetime | None = None) -> list[DefinitionVersion]:
    """The current version of every KPI checklist; with ``now``, those in force first,
    then the others newest period first."""
    found = [
        v for v in current_versions("checklist", by_key=True) if v.body.get("list_kind") == "kpi"
    ]
    if now is None:
        return found

    def order(v: DefinitionVersion) -> tuple[int, int]:
        period = period_of(v.body)
        return (0 if in_force(v.body, now) else 1, -(period.end.toordinal() if period else 0))

    return sorted(found, key=order)


def _measure_one(
    spec: Mapping[str, Any], facts: Mapping[str, Any], measure: Any = None
) -> tuple[Part, str | None]:
    label, unit, goal = spec.get("label", ""), spec.get("unit", ""), spec["goal"]
    try:
        if isinstance(measure, rules.RuleError):
            raise measure
        value = (measure or rules.compile(spec["measure"]))(facts)
    except rules.RuleError as exc:
        return Part(label, None, unit, goal, "no_data"), str(exc)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return Part(label, None, unit, goal, "no_data"), None
    met = OPS[goal["op"]](value, goal["value"])
    return Part(label, float(value), unit, goal, "met" if met else "unmet"), None


def measure_row(
    row: Mapping[str, Any],
    facts: Mapping[str, Any] | None,
    *,
    now: dt.datetime,
    period: Period | None = None,
    measures: list[tuple[Mapping[str, Any], Any]] | None = None,
    today: dt.date | None = None,
) -> RowStatus:
    """Measure one row against a node's facts.

    :param facts: the node's facts document; None when never computed.
    :param now: decides whether an unmet row is overdue (its deadline is a local date).
    :param period: the list's period; once it is over, the row shows its final state.
    :param measures: the row's targets with their compiled measures (``measure_version``).
    :param today: ``now``'s local date, when the caller worked it out for several rows.
    """
    found = measures if measures is not None else [(spec, None) for spec in targets(row)]
    if not found:
        return RowStatus(row, None, "reported")
    if facts is None:
        return RowStatus(row, None, "no_data")
    measured = [_measure_one(spec, facts, measure) for spec, measure in found]
    parts = tuple(part for part, _ in measured)
    error = next((e for _, e in measured if e), None)
    states = {p.status for p in parts}
    if "unmet" in states:
        today = today or _today(now)
        status = "overdue" if today > dt.date.fromisoformat(row["deadline"]) else "unmet"
    elif "no_data" in states:
        return RowStatus(row, None, "no_data", error, parts)
    else:
        status = "met"
    if period is not None and (today or _today(now)) > period.end:
        status = FINAL[status]
    return RowStatus(row, parts[0].value, status, error, parts)


def measure_list(
    body: Mapping[str, Any], facts: Mapping[str, Any] | None, *, now: dt.datetime
) -> list[RowStatus]:
    """Every row of a KPI list measured against one node's facts, in row order."""
    period = period_of(body)
    return [
        measure_row(row, facts, now=now, period=period)
        for row in sorted(body["rows"], key=lambda r: r["no"])
    ]


# Per published version (immutable: id and digest), its rows in order with their targets'
# compiled measures (or the error compiling gave): compiling checks the rule and writes it
# as canonical JSON on every call, a dashboard measures some thirty targets.
_COMPILED: dict[tuple[int, str], list[tuple[Mapping[str, Any], list[tuple[Any, Any]]]]] = {}


def _compiled_rows(
    version: DefinitionVersion,
) -> list[tuple[Mapping[str, Any], list[tuple[Any, Any]]]]:
    key = (version.id, version.digest)
    kept = _COMPILED.get(key)
    if kept is None:
        kept = []
        for row in sorted(version.body["rows"], key=lambda r: r["no"]):
            compiled: list[tuple[Any, Any]] = []
            for spec in targets(row):
                try:
                    compiled.append((spec, rules.compile(spec["measure"])))
                except rules.RuleError as exc:
                    compiled.append((spec, exc))
            kept.append((row, compiled))
        if len(_COMPILED) > 256:
            _COMPILED.clear()  # bounded; only a shortcut
        _COMPILED[key] = kept
    return kept


# The statuses of a version measured against one facts document on one day, by version
# (id, digest), the document's id and the day; the document itself is kept with them and
# compared, so a document parsed anew (a refresh) is measured anew. Bounded.
_MEASURED: dict[tuple[int, str, int, dt.date], tuple[Any, tuple[RowStatus, ...]]] = {}


def measure_version(
    version: DefinitionVersion, facts: Mapping[str, Any] | None, *, now: dt.datetime
) -> list[RowStatus]:
    """``measure_list(version.body, facts, now=now)``, the version's measures compiled
    once per process (a published version never changes); the statuses are kept while
    the same facts document (the very object: ``facts.cached`` keeps one per text) is
    measured on the same day. The statuses are frozen; the list is the caller's."""
    today = _today(now)
    key = (version.id, version.digest, id(facts), today)
    kept = _MEASURED.get(key)
    if kept is not None and kept[0] is facts:
        return list(kept[1])
    period = period_of(version.body)
    found = [
        measure_row(row, facts, now=now, period=period, measures=compiled, today=today)
        for row, compiled in _compiled_rows(version)
    ]
    if len(_MEASURED) > 256:
        _MEASURED.clear()
    _MEASURED[key] = (facts, tuple(found))
    return found


def progress(statuses: list[RowStatus]) -> dict[str, int]:
    """How many rows are in each status, and how many are measurable."""
    counts = {status: 0 for status in STATUSES}
    for s in statuses:
        counts[s.status] += 1
    counts["measurable"] = len(statuses) - counts["reported"]
    counts["done"] = counts["met"] + counts["achieved"]
    return counts

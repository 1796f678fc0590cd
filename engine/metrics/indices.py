"""Indices (三方强基指数): compound scores from cached facts, roll-ups, snapshots.

An index definition names dimensions of indicators; each indicator is a JSON Logic
formula over a compound's facts (docs/facts.md), normalised to 0–100 between
``normalise.min`` and ``.max`` (reversed when ``higher_is_better`` is false). A
compound's score is the weighted mean of its indicators that have data; a
community, street or district scores the mean of its compounds (``rollup: mean``)
or the mean weighted by a fact of each compound (``rollup: {"mean_by": "profile.households"}``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import rules
from engine.core import clock
from engine.definitions.definitions import current_versions
from engine.metrics import facts
from engine.store.db import database
from engine.store.models import DefinitionVersion, IndexSnapshot, OrgNode
from engine.store.prepared import prepared

AREA_KINDS = ("district", "street", "community", "compound")


@dataclass
class Score:
    """A node's score under one index version; ``indicators`` only for compounds."""

    score: float | None
    dimensions: dict[str, float | None]
    indicators: dict[str, dict[str, Any]] = field(default_factory=dict)
    weight: float = 1.0  # how much the compound counts in a weighted roll-up


_COMPILED: dict[str, list[tuple[str, Mapping[str, Any], Any]]] = {}


def _compiled(version: DefinitionVersion) -> list[tuple[str, Mapping[str, Any], Any]]:
    # Keyed by the body's digest: the same body always compiles to the same formulas.
    if version.digest not in _COMPILED:
        _COMPILED[version.digest] = [
            (dim["key"], ind, rules.compile(ind["formula"]))
            for dim in version.body["dimensions"]
            for ind in dim["indicators"]
        ]
    return _COMPILED[version.digest]


def normalised(indicator: Mapping[str, Any], value: float) -> float:
    """``value`` on the indicator's 0..1 scale, clamped; 1 is best."""
    low, high = indicator["normalise"]["min"], indicator["normalise"]["max"]
    share = min(1.0, max(0.0, (value - low) / (high - low)))
    return share if indicator.get("higher_is_better", True) else 1.0 - share


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return 100.0 if value else 0.0
    return float(value) if isinstance(value, int | float) else None


def score_compound(version: DefinitionVersion, facts: Mapping[str, Any]) -> Score:
    """Score one compound's facts under an index version.

    An indicator whose formula fails or gives no number has no data: it is left out
    of the weighted means (and so neither lifts nor lowers the score).
    """
    compiled = _compiled(version)
    total_weight = sum(ind["weight"] for _, ind, _ in compiled) or 1.0
    per_dim: dict[str, list[tuple[float, float]]] = {}
    indicators: dict[str, dict[str, Any]] = {}
    for dim, ind, formula in compiled:
        try:
            value = _number(formula(facts))
        except rules.RuleError:
            value = None
        row: dict[str, Any] = {
            "dimension": dim,
            "value": value,
            "score": None,
            "gap": 0.0,
            "target": ind["target"],
            "weight": ind["weight"],
        }
        if value is not None:
            n = normalised(ind, value)
            row["score"] = round(100 * n, 2)
            row["gap"] = round(
                100 * ind["weight"] / total_weight * max(0.0, normalised(ind, ind["target"]) - n), 2
            )
            per_dim.setdefault(dim, []).append((ind["weight"], 100 * n))
        else:
            per_dim.setdefault(dim, [])
        indicators[ind["key"]] = row
    dims = {k: _weighted(v) for k, v in per_dim.items()}
    overall = _weighted(
        [
            (ind["weight"], indicators[ind["key"]]["score"])
            for _, ind, _ in compiled
            if indicators[ind["key"]]["score"] is not None
        ]
    )
    return Score(overall, dims, indicators, _rollup_weight(version.body, facts))


def _rollup_weight(body: Mapping[str, Any], facts: Mapping[str, Any]) -> float:
    rollup = body.get("rollup")
    if not isinstance(rollup, Mapping):
        return 1.0
    value: Any = facts
    for part in str(rollup["mean_by"]).split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _weighted(pairs: list[tuple[float, float]]) -> float | None:
    # fsum: the exact sum, whatever order the rows came in (a float sum's last bit depends
    # on it, and the rounding to 0.01 can follow that bit)
    weight = math.fsum(w for w, _ in pairs)
    return round(math.fsum(w * s for w, s in pairs) / weight, 2) if weight else None


def index_versions() -> list[DefinitionVersion]:
    """The current version of every published index definition."""
    return current_versions("index", by_key=True)


# Scores by index body digest, with the stamp of the facts cache they were computed from.
_SCORES: dict[str, tuple[tuple[Any, ...], dict[int, Score]]] = {}


def scores(version: DefinitionVersion) -> dict[int, Score]:
    """Every area node's score by node id, from the cached facts (no recompute of facts).

    Scores depend only on the index body and the cached facts, so they are kept per
    process until the facts cache changes (:func:`engine.metrics.facts.stamp`); a dashboard
    then costs one small query instead of scoring every compound. The result is shared:
    read it, do not change it.
    """
    stamp = facts.stamp()
    kept = _SCORES.get(version.digest)
    if kept is not None and kept[0] == stamp:
        return kept[1]
    result = _scores(version)
    _SCORES[version.digest] = (stamp, result)
    return result


def _scores(version: DefinitionVersion) -> dict[int, Score]:
    nodes = list(
        OrgNode.select(OrgNode.id, OrgNode.kind, OrgNode.path)
        .where(OrgNode.kind.in_(AREA_KINDS))
        .tuples()
    )
    compounds = [(node_id, path) for node_id, kind, path in nodes if kind == "compound"]
    docs = facts.cached_many([node_id for node_id, _ in compounds])
    result = {
        node_id: score_compound(version, docs[node_id])
        for node_id, _ in compounds
        if node_id in docs
    }
    areas = {node_id for node_id, kind, _ in nodes if kind != "compound"}
    inside: dict[int, list[Score]] = {node_id: [] for node_id in areas}
    for node_id, path in compounds:  # each compound counts in every area above it (its path's ids)
        if node_id in result:
            for above in {int(p) for p in path.strip("/").split("/") if p} & areas:
                inside[above].append(result[node_id])
    weighted = isinstance(version.body.get("rollup"), Mapping)
    keys = [d["key"] for d in version.body["dimensions"]]
    for area in areas:
        result[area] = _rollup(inside[area], keys, weighted)
    return result


def _rollup(inside: list[Score], keys: list[str], weighted: bool) -> Score:
    def mean(values: list[tuple[float, float | None]]) -> float | None:
        pairs = [(w, v) for w, v in values if v is not None]
        return (
            _weighted(pairs)
            if weighted
            else (round(math.fsum(v for _, v in pairs) / len(pairs), 2) if pairs else None)
        )

    return Score(
        mean([(s.weight, s.score) for s in inside]),
        {k: mean([(s.weight, s.dimensions.get(k)) for s in inside]) for k in keys},
        weight=math.fsum(s.weight for s in inside),
    )


def ranking(all_scores: Mapping[int, Score], node_ids: list[int]) -> list[tuple[int, Score, int]]:
    """``node_ids`` by score, best first, with their rank (1-based; no score ranks last)."""
    ordered = sorted(
        node_ids,
        key=lambda i: (
            -(all_scores[i].score if i in all_scores and all_scores[i].score is not None else -1)
        ),
    )
    return [
        (node_id, all_scores.get(node_id, Score(None, {})), rank)
        for rank, node_id in enumerate(ordered, 1)
    ]


def pulls_down(version: DefinitionVersion, score: Score, limit: int = 5) -> list[dict[str, Any]]:
    """The indicators with the largest weighted gap to target, with what lies behind each."""
    specs = {ind["key"]: (dim, ind) for dim, ind, _ in _compiled(version)}
    rows = [
        {
            **row,
            "key": key,
            "name": specs[key][1]["name"],
            "unit": specs[key][1].get("unit", ""),
            "evidence": specs[key][1].get("evidence", {}),
        }
        for key, row in score.indicators.items()
        if row["gap"] > 0
    ]
    return sorted(rows, key=lambda r: -r["gap"])[:limit]


def snapshot_all(keys: list[str] | None, *, now: dt.datetime) -> int:
    """Record every area node's score under each index's current version; returns the count."""
    taken = 0
    for version in index_versions():
        if keys and version.body["key"] not in keys:
            continue
        taken += insert_snapshots(_rows(version, now, None))
    return taken


def period_of(schedule: str, at: dt.datetime) -> str:
    """The snapshot period (Asia/Shanghai) that the naive-UTC time ``at`` falls in:
    ``"2026-12"`` for a monthly schedule, ``"2026-W49"`` (ISO week) for a weekly one."""
    local = clock.local(at)
    assert local is not None
    if schedule == "weekly":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    if schedule == "monthly":
        return f"{local.year}-{local.month:02d}"
    raise ValueError(schedule)


def _rows(version: DefinitionVersion, now: dt.datetime, period: str | None) -> list[dict[str, Any]]:
    return [
        {
            "definition": version.body["key"],
            "version": version.number,
            "node": node_id,
            "score": s.score,
            "dimensions": s.dimensions,
            "values": {
                k: {"value": v["value"], "score": v["score"]} for k, v in s.indicators.items()
            },
            "taken_at": now,
            "period": period,
        }
        for node_id, s in scores(version).items()
    ]


def insert_snapshots(rows: list[dict[str, Any]]) -> int:
    """Insert snapshot rows in one transaction; a row of a period already taken for its index
    and node is skipped (the unique key decides, so concurrent sweeps take it once)."""
    with database.atomic():
        for start in range(0, len(rows), 500):
            IndexSnapshot.insert_many(rows[start : start + 500]).on_conflict_ignore().execute()
    return len(rows)


def snapshot_due(*, now: dt.datetime) -> int:
    """Take the scheduled snapshots (an index's ``snapshot``: weekly or monthly) whose period
    has none yet; returns how many rows were offered. Called by every sweep: once the
    period's snapshot exists this costs one query per scheduled index."""
    offered = 0
    for version in index_versions():
        schedule = version.body.get("snapshot")
        if not schedule:
            continue
        period = period_of(schedule, now)
        key = version.body["key"]
        taken = IndexSnapshot.select(IndexSnapshot.id).where(
            (IndexSnapshot.definition == key) & (IndexSnapshot.period == period)
        )
        if taken.exists():
            continue
        offered += insert_snapshots(_rows(version, now, period))
    return offered


@dataclass(frozen=True)
class TrendPoint:
    """One snapshot as a dashboard's trend shows it."""

    taken_at: dt.datetime
    version: int
    score: float | None


def trend_points(key: str, node: OrgNode, limit: int = 24) -> list[TrendPoint]:
    """:func:`trend` with only what a dashboard shows, as tuples (no snapshot's dimensions
    and values parsed)."""
    rows = prepared(  # built once; the times converted as peewee does
        "indices.trend_points",
        lambda index, node, most: (
            IndexSnapshot.select(IndexSnapshot.taken_at, IndexSnapshot.version, IndexSnapshot.score)
            .where((IndexSnapshot.definition == index) & (IndexSnapshot.node == node))
            .order_by(IndexSnapshot.taken_at.desc())
            .limit(most)
            .tuples()
        ),
        index=key,
        node=node.id,
        most=limit,
    )
    return [TrendPoint(*row) for row in reversed(list(rows))]


def trend(key: str, node: OrgNode, limit: int = 24) -> list[IndexSnapshot]:
    """The node's snapshots of index ``key``, oldest first, each with the version it was taken under."""
    rows = (
        IndexSnapshot.select()
        .where((IndexSnapshot.definition == key) & (IndexSnapshot.node == node))
        .order_by(IndexSnapshot.taken_at.desc())
        .limit(limit)
    )
    return list(reversed(list(rows)))

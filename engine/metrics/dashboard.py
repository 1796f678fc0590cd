"""What a dashboard shows for one org node, from cached facts, index scores and KPI lists.

Nothing here recomputes facts: a dashboard reads the cache and reports its age.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from engine.definitions.definitions import preload_current_versions
from engine.metrics import facts, indices
from engine.org.actors import Actor
from engine.org.scope import reviewable_children_and_siblings
from engine.records import kpi, kpi_reports
from engine.store.models import DefinitionVersion, OrgNode


@dataclass
class ChildRow:
    node: OrgNode
    facts: dict[str, Any]
    score: float | None
    rank: int


@dataclass
class Dashboard:
    """Everything the dashboard of ``node`` shows."""

    node: OrgNode
    facts: dict[str, Any] | None
    computed_at: dt.datetime | None
    children: list[ChildRow] = field(default_factory=list)
    index: DefinitionVersion | None = None
    score: indices.Score | None = None
    rank: tuple[int, int] | None = None  # rank among its siblings, of how many
    pulls_down: list[dict[str, Any]] = field(default_factory=list)
    trend: list[Any] = field(default_factory=list)
    kpi: list[tuple[DefinitionVersion, list[kpi.RowStatus], dict[str, int]]] = field(
        default_factory=list
    )
    # per KPI list, the newest report on each unmeasurable row by a unit of this subtree
    kpi_reports: dict[str, dict[str, kpi_reports.ReportStatus]] = field(default_factory=dict)

    @property
    def age_hours(self) -> float | None:
        return None if self.computed_at is None else self._age

    _age: float | None = None


def build(actor: Actor, node: OrgNode, *, now: dt.datetime) -> Dashboard:
    """The dashboard of ``node`` for ``actor`` (who must be allowed to review it).

    :param now: for the facts' age and the KPI deadlines.
    """
    preload_current_versions(
        "index", "checklist", "profile", "item_type"
    )  # the page reads all four
    children, siblings = reviewable_children_and_siblings(actor, node)
    cached = facts.cached_with_times([node.id] + [c.id for c in children])
    doc, computed_at = cached.get(node.id, (None, None))
    board = Dashboard(node, doc, computed_at)
    if computed_at is not None:
        board._age = round((now - computed_at).total_seconds() / 3600, 1)
    versions = indices.index_versions()
    all_scores = indices.scores(versions[0]) if versions else {}
    if versions:
        board.index = versions[0]
        board.score = all_scores.get(node.id)
        board.trend = indices.trend(versions[0].body["key"], node)
        if board.score is not None and node.kind == "compound":
            board.pulls_down = indices.pulls_down(versions[0], board.score)
        if node.parent_id is not None:
            ranked = {node_id: rank for node_id, _, rank in indices.ranking(all_scores, siblings)}
            board.rank = (ranked[node.id], len(siblings))
    docs = {node_id: found[0] for node_id, found in cached.items()}
    ranks = {
        node_id: rank for node_id, _, rank in indices.ranking(all_scores, [c.id for c in children])
    }
    board.children = [
        ChildRow(
            c,
            docs.get(c.id, {}),
            all_scores[c.id].score if c.id in all_scores else None,
            ranks.get(c.id, 0),
        )
        for c in children
    ]
    if node.kind in ("district", "street"):
        for version in kpi.kpi_lists():
            statuses = kpi.measure_list(version.body, doc, now=now)
            board.kpi.append((version, statuses, kpi.progress(statuses)))
            board.kpi_reports[version.body["key"]] = kpi_reports.statuses_within(
                version.body["key"], node
            )
    return board


def dimension_names(version: DefinitionVersion) -> list[tuple[str, str]]:
    return [(d["key"], d["name"]) for d in version.body["dimensions"]]


def indicator_specs(version: DefinitionVersion) -> list[dict[str, Any]]:
    return [
        {**ind, "dimension": d["name"]}
        for d in version.body["dimensions"]
        for ind in d["indicators"]
    ]

"""What a dashboard shows for one org node, from cached facts, index scores and KPI lists.

Nothing here recomputes facts: a dashboard reads the cache and reports its age.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.core import memo
from engine.definitions.definitions import preload_current_versions
from engine.definitions.runtimes import runtime
from engine.metrics import facts, indices
from engine.org.actors import Actor
from engine.org.shown import reviewable_children_and_siblings
from engine.records import kpi, kpi_reports
from engine.store.models import DefinitionVersion, OrgNode
from engine.workflow import queues

RESIDENT = "resident"  # the role residents hold (engine/org/permissions.py)


@dataclass
class ChildRow:
    node: OrgNode
    facts: dict[str, Any]
    score: float | None
    rank: int


@dataclass(frozen=True)
class Usage:
    """How residents use one resident channel (an item type they raise, e.g. 协商铃)."""

    type_key: str
    name: str
    raised: int
    resolved: int
    resolution_rate: float | None


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
    # every KPI list (in_force, over or upcoming; the one in force first) with its progress:
    # the list shown in ``kpi``
    # is the one asked for, else the one in force; the others are its history
    kpi_lists: list[tuple[DefinitionVersion, str, dict[str, int]]] = field(default_factory=list)
    # an ended list measured against its frozen facts: when those facts were computed (ISO)
    kpi_frozen_at: dict[str, str] = field(default_factory=dict)
    usage: list[Usage] = field(default_factory=list)

    @property
    def age_hours(self) -> float | None:
        return None if self.computed_at is None else self._age

    _age: float | None = None


def build(
    actor: Actor, node: OrgNode, *, now: dt.datetime, kpi_key: str | None = None
) -> Dashboard:
    """The dashboard of ``node`` for ``actor`` (who must be allowed to review it).

    :param now: for the facts' age and the KPI deadlines.
    :param kpi_key: the KPI list to show; by default the one in force.
    """
    preload_current_versions(  # one statement; the page reads all five kinds
        "index", "checklist", "profile", "item_type", "directory"
    )
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
        board.trend = indices.trend_points(versions[0].body["key"], node)
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
    board.usage = usage(doc)
    if node.kind in ("district", "street"):
        measured = []
        finals = (doc or {}).get("kpi_final") or {}
        for version in kpi.kpi_lists(now):
            state = (
                "in_force"
                if kpi.in_force(version.body, now)
                else "over"
                if kpi.is_over(version.body, now)
                else "upcoming"
            )
            final = finals.get(version.body["key"]) if state == "over" else None
            if final is not None:  # an ended list's figures as its period ended
                board.kpi_frozen_at[version.body["key"]] = final["at"]
            source = final["facts"] if final is not None else doc
            statuses = kpi.measure_version(version, source, now=now)
            measured.append((version, statuses, kpi.progress(statuses)))
            board.kpi_lists.append((version, state, measured[-1][2]))
        shown = next((m for m in measured if m[0].body["key"] == kpi_key), None)
        if shown is None and measured:
            shown = measured[0]
        if shown is not None:
            board.kpi.append(shown)
            board.kpi_reports[shown[0].body["key"]] = kpi_reports.statuses_within(
                shown[0].body["key"], node
            )
    return board


def resident_channels() -> list[Mapping[str, Any]]:
    """The item types residents raise themselves and are offered (``raise_roles`` holds
    ``resident`` and the type is ``listed``): the channels whose usage a dashboard shows, by
    key. From the item types' versions the request has read already (a dashboard preloads
    them), else from its definition list and the cached runtimes: never a query of its own
    beyond what the page reads anyway."""
    loaded = memo.peek(("current_versions", "item_type", True))
    if loaded is not None:
        bodies = [v.body for v in loaded]
    else:
        bodies = [
            runtime(d.published.id).body
            for d in queues.definitions().values()
            if d.kind == "item_type" and d.published is not None
        ]
    return sorted(
        (b for b in bodies if RESIDENT in b.get("raise_roles", []) and b.get("listed", True)),
        key=lambda b: b["key"],
    )


def usage(doc: dict[str, Any] | None) -> list[Usage]:
    """Each resident channel's items raised, resolved and resolution rate, from the facts."""
    if not doc:
        return []
    found = []
    for body in resident_channels():
        counts = doc.get("by_type", {}).get(body["key"], {})
        found.append(
            Usage(
                body["key"],
                body["name"],
                counts.get("total", 0),
                counts.get("resolved", 0),
                counts.get("resolution_rate"),
            )
        )
    return found


def dimension_names(version: DefinitionVersion) -> list[tuple[str, str]]:
    return [(d["key"], d["name"]) for d in version.body["dimensions"]]


def indicator_specs(version: DefinitionVersion) -> list[dict[str, Any]]:
    return [
        {**ind, "dimension": d["name"]}
        for d in version.body["dimensions"]
        for ind in d["indicators"]
    ]


@dataclass(frozen=True)
class CompoundUsage:
    """A compound's residents' accounts and its channels' usage, as its staff see them."""

    name: str
    users: int | None
    channels: list[Usage]


def compound_usage(node_ids: list[int]) -> list[CompoundUsage]:
    """The usage of each compound of ``node_ids`` from the cached facts (one query; a
    compound whose facts were never computed is left out)."""
    docs = facts.cached_many(list(dict.fromkeys(node_ids)))
    return [
        CompoundUsage(doc["node"]["name"], doc.get("residents", {}).get("users"), usage(doc))
        for node_id in dict.fromkeys(node_ids)
        if (doc := docs.get(node_id))
    ]

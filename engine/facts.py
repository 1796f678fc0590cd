"""Facts: one JSON document per org node, computed with aggregate SQL and cached.

Every rule of a checklist or an index reads only these documents; their keys are
listed with their meaning in docs/facts.md (a test fails when one is not). Items and
summons are counted with GROUP BY over (ancestor, ...) pairs, so one query covers the
compound, its community, its street and the district at once; profile coverage is
summed over the compounds of each node.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from engine.checklists import facts_for as checklist_facts
from engine.db import database, is_postgres
from engine.models import Definition, Grant, NodeFacts, OrgNode
from engine.profile_facts import coverage, profile_facts

EMPTY_LISTS = {"rows": 0, "done": 0, "overdue": 0, "completion_rate": None, "by_list": {}}
AREA_KINDS = ("district", "street", "community", "compound")
PERCENTILES = (50, 90)

# Each non-department node paired with itself and every ancestor of an area kind.
ANCESTORS = """
WITH anc AS (
  SELECT n.id AS node_id, a.id AS anc_id
  FROM org_node n JOIN org_node a ON substr(n.path, 1, length(a.path)) = a.path
  WHERE a.kind IN ('district', 'street', 'community', 'compound') AND n.kind <> 'department'
)
"""

ITEM_GROUPS = ANCESTORS + """
SELECT anc.anc_id, i.definition_id, i.state, COUNT(*),
  SUM(CASE WHEN i.closed THEN 0 ELSE 1 END),
  SUM(CASE WHEN NOT i.closed AND i.due_at < {p} THEN 1 ELSE 0 END),
  SUM(CASE WHEN i.resolved_at IS NOT NULL THEN 1 ELSE 0 END),
  SUM(i.resolution_seconds),
  COUNT(i.satisfaction), SUM(i.satisfaction),
  SUM(CASE WHEN i.satisfaction >= 4 THEN 1 ELSE 0 END),
  SUM(CASE WHEN i.reopen_count > 0 THEN 1 ELSE 0 END)
FROM item i JOIN anc ON anc.node_id = i.node_id
GROUP BY anc.anc_id, i.definition_id, i.state
"""

# Nearest-rank percentiles with window functions: the row whose rank is ceil(p% of n).
RESOLUTION_PERCENTILES = ANCESTORS + """
SELECT anc_id, rn, cnt, secs FROM (
  SELECT anc.anc_id AS anc_id, i.resolution_seconds AS secs,
    ROW_NUMBER() OVER (PARTITION BY anc.anc_id ORDER BY i.resolution_seconds) AS rn,
    COUNT(*) OVER (PARTITION BY anc.anc_id) AS cnt
  FROM item i JOIN anc ON anc.node_id = i.node_id
  WHERE i.resolution_seconds IS NOT NULL
) ranked
WHERE {wanted}
"""

SUMMONS_COLUMNS = """
  COUNT(*),
  SUM(CASE WHEN s.reported_at IS NOT NULL THEN 1 ELSE 0 END),
  SUM(CASE WHEN s.reported_at IS NOT NULL AND (s.report_due_at IS NULL OR s.reported_at <= s.report_due_at)
      THEN 1 ELSE 0 END),
  SUM(CASE WHEN s.done_at IS NOT NULL THEN 1 ELSE 0 END),
  SUM(CASE WHEN s.done_at IS NOT NULL AND (s.handle_due_at IS NULL OR s.done_at <= s.handle_due_at)
      THEN 1 ELSE 0 END),
  SUM(CASE WHEN s.open AND s.next_due_at < {p} THEN 1 ELSE 0 END)
"""

SUMMONS_BY_AREA = ANCESTORS + "SELECT anc.anc_id," + SUMMONS_COLUMNS + """
FROM assignment s JOIN item i ON i.id = s.item_id JOIN anc ON anc.node_id = i.node_id
GROUP BY anc.anc_id
"""

SUMMONS_BY_UNIT = "SELECT s.unit_id," + SUMMONS_COLUMNS + """
FROM assignment s JOIN org_node u ON u.id = s.unit_id WHERE u.kind = 'department'
GROUP BY s.unit_id
"""


def _param(now: dt.datetime) -> Any:
    # SQLite keeps times as text in this form; PostgreSQL takes the datetime.
    return now if is_postgres() else now.isoformat(" ")


def _rate(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def _counts() -> dict[str, Any]:
    return {"total": 0, "open": 0, "overdue": 0, "resolved": 0, "seconds": 0,
            "rated": 0, "rating_sum": 0, "satisfied": 0, "reopened": 0}


def _add(into: dict[str, Any], row: tuple[Any, ...]) -> None:
    for name, value in zip(("total", "open", "overdue", "resolved", "seconds", "rated",
                            "rating_sum", "satisfied", "reopened"), row, strict=True):
        into[name] += int(value or 0)


def _items_doc(counts: dict[str, Any], pct: dict[int, float | None] | None) -> dict[str, Any]:
    total, resolved, rated = counts["total"], counts["resolved"], counts["rated"]
    hours: dict[str, Any] = {"mean": round(counts["seconds"] / resolved / 3600, 2) if resolved else None}
    if pct is not None:
        hours.update({f"p{p}": pct.get(p) for p in PERCENTILES})
    return {
        "total": total, "open": counts["open"], "overdue": counts["overdue"], "resolved": resolved,
        "resolution_rate": _rate(resolved, total),
        "overdue_rate": _rate(counts["overdue"], counts["open"]),
        "reopened": counts["reopened"], "reopen_rate": _rate(counts["reopened"], total),
        "hours_to_resolve": hours,
        "satisfaction": {
            "rated": rated,
            "mean": round(counts["rating_sum"] / rated, 2) if rated else None,
            "satisfied_rate": _rate(counts["satisfied"], rated),
        },
    }


def _summons_doc(row: tuple[Any, ...] | None) -> dict[str, Any]:
    total, reported, reported_on_time, done, done_on_time, overdue = (int(v or 0) for v in (row or (0,) * 6))
    return {
        "total": total, "reported": reported, "reported_on_time": reported_on_time,
        "report_on_time_rate": _rate(reported_on_time, total),
        "done": done, "done_on_time": done_on_time, "done_on_time_rate": _rate(done_on_time, total),
        "overdue": overdue,
    }


def _percentiles() -> dict[int, dict[int, float | None]]:
    wanted = " OR ".join(f"(rn * 100 >= {p} * cnt AND (rn - 1) * 100 < {p} * cnt)" for p in PERCENTILES)
    found: dict[int, dict[int, float | None]] = defaultdict(dict)
    for anc_id, rn, cnt, secs in database.execute_sql(RESOLUTION_PERCENTILES.format(wanted=wanted)):
        for p in PERCENTILES:
            if rn * 100 >= p * cnt and (rn - 1) * 100 < p * cnt:
                found[anc_id][p] = round(secs / 3600, 2)
    return found


def compute_all(*, now: dt.datetime) -> dict[int, dict[str, Any]]:
    """The facts document of every org node (except buildings), by node id.

    :param now: the moment overdue is measured against.
    """
    p = database.param
    nodes = list(OrgNode.select().where(OrgNode.kind != "building").order_by(OrgNode.id))
    types = {d.id: d.key for d in Definition.select(Definition.id, Definition.key)}
    totals: dict[int, dict[str, Any]] = defaultdict(_counts)
    by_type: dict[int, dict[str, dict[str, Any]]] = defaultdict(lambda: defaultdict(_counts))
    states: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for anc_id, def_id, state, *row in database.execute_sql(ITEM_GROUPS.format(p=p), (_param(now),)):
        key = types.get(def_id, str(def_id))
        _add(totals[anc_id], tuple(row))
        _add(by_type[anc_id][key], tuple(row))
        states[anc_id][key][state] = int(row[0])
    pct = _percentiles()
    summons = {r[0]: r[1:] for r in database.execute_sql(SUMMONS_BY_AREA.format(p=p), (_param(now),))}
    unit_summons = {r[0]: r[1:] for r in database.execute_sql(SUMMONS_BY_UNIT.format(p=p), (_param(now),))}
    commissioners = {n for (n,) in Grant.select(Grant.node).where(Grant.role == "commissioner").tuples()}
    profiles = {n.id: profile_facts(n.profile or {}, n.id in commissioners) for n in nodes if n.kind == "compound"}
    compounds_under = _compounds_under(nodes)
    lists = checklist_facts(now)
    out: dict[int, dict[str, Any]] = {}
    for node in nodes:
        doc: dict[str, Any] = {"node": {"key": node.key, "kind": node.kind, "name": node.name}}
        if node.kind == "department":
            doc["summons"] = _summons_doc(unit_summons.get(node.id))
            out[node.id] = doc
            continue
        doc["items"] = _items_doc(totals[node.id], pct.get(node.id, {}))
        doc["by_type"] = {
            key: {**_items_doc(counts, None), "states": dict(states[node.id][key])}
            for key, counts in sorted(by_type[node.id].items())
        }
        doc["summons"] = _summons_doc(summons.get(node.id))
        doc["profile"] = profiles.get(node.id, {})
        doc["coverage"] = coverage([profiles[c] for c in compounds_under.get(node.id, [])])
        doc["checklists"] = lists.get(node.id, EMPTY_LISTS)
        doc["evote"] = {"polls": 0, "used": False}  # no polls yet: the poll kind comes later
        out[node.id] = doc
    return out


def _compounds_under(nodes: list[OrgNode]) -> dict[int, list[int]]:
    by_path = {n.path: n.id for n in nodes}
    under: dict[int, list[int]] = defaultdict(list)
    for node in nodes:
        if node.kind != "compound":
            continue
        parts = node.path.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            ancestor = by_path.get("/" + "/".join(parts[:i]) + "/")
            if ancestor is not None:
                under[ancestor].append(node.id)
    return under


def refresh(*, now: dt.datetime) -> int:
    """Recompute every node's facts and replace the cache in one transaction; returns the count.

    Readers keep seeing the previous documents until the transaction commits.
    """
    docs = compute_all(now=now)
    rows = [{"node": node_id, "facts": doc, "computed_at": now} for node_id, doc in docs.items()]
    with database.atomic():
        NodeFacts.delete().execute()
        for start in range(0, len(rows), 500):
            NodeFacts.insert_many(rows[start:start + 500]).execute()
    return len(rows)


def cached(node: OrgNode) -> tuple[dict[str, Any] | None, dt.datetime | None]:
    """The cached facts of ``node`` and when they were computed (None, None if never)."""
    row = NodeFacts.get_or_none(NodeFacts.node == node)
    return (row.facts, row.computed_at) if row else (None, None)


def cached_many(node_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Cached facts documents by node id (nodes never computed are absent)."""
    rows = NodeFacts.select(NodeFacts.node, NodeFacts.facts).where(NodeFacts.node.in_(node_ids))
    return {row.node_id: row.facts for row in rows}


def paths(doc: Any, prefix: str = "") -> set[str]:
    """Every leaf path of a facts document, dotted (``items.hours_to_resolve.p50``); empty
    objects (no items of any type, no file) have none."""
    if isinstance(doc, dict):
        found: set[str] = set()
        for key, value in doc.items():
            found |= paths(value, f"{prefix}.{key}" if prefix else str(key))
        return found
    return {prefix}

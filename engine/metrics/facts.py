"""Facts: one JSON document per org node, computed with aggregate SQL and cached.

Every rule of a checklist or an index reads only these documents; their keys are
listed with their meaning in docs/facts.md (a test fails when one is not). Items and
summons are scanned once, grouped by the node they were raised at, and the groups are
rolled up in Python to every area node above (compound, community, street, district);
percentiles are exact (nearest rank) over the pooled resolution times of each node;
the compound files' facts are what the pack's profile definition declares
(engine/definitions/profile_facts.py), aggregated over the compounds of each node.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from peewee import JOIN, Select, fn

from engine.core import memo
from engine.decisions import cadence
from engine.decisions import facts as decision_facts
from engine.decisions.polls_facts import EMPTY as EMPTY_POLLS
from engine.decisions.polls_facts import poll_facts
from engine.metrics import kpi_close, yearly
from engine.records import buildings
from engine.records.checklists import facts_for as checklist_facts
from engine.records.profiles import file_facts
from engine.residents.facts import (
    directory_facts,
    disclosure_facts,
    listing_facts,
    resident_facts,
)
from engine.store.db import backend, database, write_transaction
from engine.store.models import Definition, Event, Grant, NodeFacts, OrgNode
from engine.store.prepared import prepared_cursor

EMPTY_LISTS = {"rows": 0, "done": 0, "overdue": 0, "completion_rate": None, "by_list": {}}
AREA_KINDS = ("district", "street", "community", "compound")
PERCENTILES = (50, 90)
CHANGE_MARGIN = dt.timedelta(seconds=10)
_refreshes = 0  # refreshes this process made, for stamp()
# Each node's facts document as last parsed in this process, with the text it was parsed
# from: a dashboard reads a street's or the district's nodes, 100-150 KB of JSON, on every
# request, and the text changes only when the facts are refreshed. Shared between
# requests: read the documents, never change them.
_PARSED: dict[int, tuple[str, dict[str, Any]]] = {}

# One scan of the items, grouped by the node they were raised at; the groups (a few
# per node, type and state) are rolled up to the ancestors in Python, which is far
# cheaper than joining every item to each of its ancestors in SQL.
ITEM_GROUPS = """
SELECT i.node_id, i.definition_id, i.state, COUNT(*),
  SUM(CASE WHEN i.closed THEN 0 ELSE 1 END),
  SUM(CASE WHEN NOT i.closed AND i.due_at < {p} THEN 1 ELSE 0 END),
  SUM(CASE WHEN i.resolved_at IS NOT NULL THEN 1 ELSE 0 END),
  SUM(i.resolution_seconds),
  COUNT(i.satisfaction), SUM(i.satisfaction),
  SUM(CASE WHEN i.satisfaction >= 4 THEN 1 ELSE 0 END),
  SUM(CASE WHEN i.reopen_count > 0 THEN 1 ELSE 0 END)
FROM item i
GROUP BY i.node_id, i.definition_id, i.state
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

SUMMONS_BY_NODE = (
    "SELECT i.node_id,"
    + SUMMONS_COLUMNS
    + """
FROM assignment s JOIN item i ON i.id = s.item_id
GROUP BY i.node_id
"""
)

SUMMONS_BY_UNIT = (
    "SELECT s.unit_id,"
    + SUMMONS_COLUMNS
    + """
FROM assignment s JOIN org_node u ON u.id = s.unit_id WHERE u.kind = 'department'
GROUP BY s.unit_id
"""
)


def _param(now: dt.datetime) -> Any:
    return backend().time_param(now)


def _rate(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def _counts() -> dict[str, Any]:
    return {
        "total": 0,
        "open": 0,
        "overdue": 0,
        "resolved": 0,
        "seconds": 0,
        "rated": 0,
        "rating_sum": 0,
        "satisfied": 0,
        "reopened": 0,
    }


def _add(into: dict[str, Any], row: tuple[Any, ...]) -> None:
    for name, value in zip(
        (
            "total",
            "open",
            "overdue",
            "resolved",
            "seconds",
            "rated",
            "rating_sum",
            "satisfied",
            "reopened",
        ),
        row,
        strict=True,
    ):
        into[name] += int(value or 0)


def _items_doc(counts: dict[str, Any], pct: dict[int, float | None] | None) -> dict[str, Any]:
    total, resolved, rated = counts["total"], counts["resolved"], counts["rated"]
    hours: dict[str, Any] = {
        "mean": round(counts["seconds"] / resolved / 3600, 2) if resolved else None
    }
    if pct is not None:
        hours.update({f"p{p}": pct.get(p) for p in PERCENTILES})
    return {
        "total": total,
        "open": counts["open"],
        "overdue": counts["overdue"],
        "resolved": resolved,
        "resolution_rate": _rate(resolved, total),
        "overdue_rate": _rate(counts["overdue"], counts["open"]),
        "reopened": counts["reopened"],
        "reopen_rate": _rate(counts["reopened"], total),
        "hours_to_resolve": hours,
        "satisfaction": {
            "rated": rated,
            "mean": round(counts["rating_sum"] / rated, 2) if rated else None,
            "satisfied_rate": _rate(counts["satisfied"], rated),
        },
    }


def _summons_doc(row: tuple[Any, ...] | None) -> dict[str, Any]:
    total, reported, reported_on_time, done, done_on_time, overdue = (
        int(v or 0) for v in (row or (0,) * 6)
    )
    return {
        "total": total,
        "reported": reported,
        "reported_on_time": reported_on_time,
        "report_on_time_rate": _rate(reported_on_time, total),
        "done": done,
        "done_on_time": done_on_time,
        "done_on_time_rate": _rate(done_on_time, total),
        "overdue": overdue,
    }


def _area_ancestors(nodes: list[OrgNode]) -> dict[int, list[int]]:
    """For each node but departments: itself (if an area) and every area node above it.

    Paths are ``/id/id/.../``, so the ancestors are the ids of the path; this is the
    node–ancestor pairing the former SQL join made with a path prefix.
    """
    kinds = {n.id: n.kind for n in nodes}
    return {
        n.id: [
            a
            for a in (int(p) for p in n.path.strip("/").split("/") if p)
            if kinds.get(a) in AREA_KINDS
        ]
        for n in nodes
        if n.kind != "department"
    }


def _nearest_rank(ordered: list[int], p: int) -> float:
    # The value whose rank is ceil(p% of n): the smallest rank r with 100 r >= p n.
    return round(ordered[max(1, -(-p * len(ordered) // 100)) - 1] / 3600, 2)


def _percentiles(ancestors: dict[int, list[int]]) -> dict[int, dict[int, float | None]]:
    seconds: dict[int, list[int]] = defaultdict(list)
    for node_id, secs in database.execute_sql(
        "SELECT node_id, resolution_seconds FROM item WHERE resolution_seconds IS NOT NULL"
    ):
        seconds[node_id].append(secs)
    pooled: dict[int, list[int]] = defaultdict(list)
    for node_id, values in seconds.items():
        for anc_id in ancestors.get(node_id, ()):
            pooled[anc_id].extend(values)
    found: dict[int, dict[int, float | None]] = {}
    for anc_id, values in pooled.items():
        values.sort()
        found[anc_id] = {p: _nearest_rank(values, p) for p in PERCENTILES}
    return found


def _item_groups(
    now: dt.datetime, ancestors: dict[int, list[int]], types: dict[int, str]
) -> tuple[
    dict[int, dict[str, Any]],
    dict[int, dict[str, dict[str, Any]]],
    dict[int, dict[str, dict[str, int]]],
]:
    totals: dict[int, dict[str, Any]] = defaultdict(_counts)
    by_type: dict[int, dict[str, dict[str, Any]]] = defaultdict(lambda: defaultdict(_counts))
    states: dict[int, dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    query = ITEM_GROUPS.format(p=database.param)
    for node_id, def_id, state, *row in database.execute_sql(query, (_param(now),)):
        key = types.get(def_id, str(def_id))
        values = tuple(row)
        for anc_id in ancestors.get(node_id, ()):
            _add(totals[anc_id], values)
            _add(by_type[anc_id][key], values)
            states[anc_id][key][state] += int(values[0])
    return totals, by_type, states


def _summons_by_area(now: dt.datetime, ancestors: dict[int, list[int]]) -> dict[int, list[int]]:
    summed: dict[int, list[int]] = defaultdict(lambda: [0] * 6)
    query = SUMMONS_BY_NODE.format(p=database.param)
    for node_id, *row in database.execute_sql(query, (_param(now),)):
        for anc_id in ancestors.get(node_id, ()):
            into = summed[anc_id]
            for i, value in enumerate(row):
                into[i] += int(value or 0)
    return summed


def compute_all(*, now: dt.datetime) -> dict[int, dict[str, Any]]:
    """The facts document of every org node (except buildings), by node id.

    :param now: the moment overdue is measured against.
    """
    every = list(OrgNode.select(OrgNode.id, OrgNode.kind, OrgNode.path))
    ancestors = _area_ancestors(every)
    nodes = list(OrgNode.select().where(OrgNode.kind != "building").order_by(OrgNode.id))
    types = {d.id: d.key for d in Definition.select(Definition.id, Definition.key)}
    totals, by_type, states = _item_groups(now, ancestors, types)
    years = yearly.counts(now, ancestors, types)
    pct = _percentiles(ancestors)
    summons = _summons_by_area(now, ancestors)
    query = SUMMONS_BY_UNIT.format(p=database.param)
    unit_summons = {r[0]: r[1:] for r in database.execute_sql(query, (_param(now),))}
    declared = file_facts()
    profiles: dict[int, dict[str, Any]] = {}
    shares: dict[int, list[float]] = {}
    if declared is not None:
        roles: dict[int, list[str]] = defaultdict(list)
        for node_id, role in (
            Grant.select(Grant.node, Grant.role)
            .distinct()
            .order_by(Grant.node, Grant.role)
            .tuples()
        ):
            roles[node_id].append(role)
        roster = buildings.roster_for("compound")
        files = buildings.building_files() if roster else {}
        for n in nodes:
            if n.kind == "compound":
                # where its buildings name who is in charge, the roster's counts, not the typed ones
                file = (
                    buildings.overlay(n.profile or {}, files[n.id], roster)
                    if roster and files.get(n.id)
                    else n.profile or {}
                )
                profiles[n.id], shares[n.id] = declared.of_compound(file, roles.get(n.id, ()))
    compounds_under = _compounds_under(nodes)
    lists = checklist_facts(now)
    votes = poll_facts(ancestors)
    deliberation = decision_facts.compute(
        [n.id for n in nodes if n.kind != "department"], ancestors, compounds_under
    )
    on_time = cadence.facts(nodes, ancestors, now=now)
    disclosed = disclosure_facts(nodes, now)
    listed = listing_facts(nodes)
    registered = resident_facts(nodes)
    directories = directory_facts(nodes)
    ended_lists = kpi_close.finals()
    out: dict[int, dict[str, Any]] = {}
    for node in nodes:
        doc: dict[str, Any] = {"node": {"key": node.key, "kind": node.kind, "name": node.name}}
        if node.kind == "department":
            doc["summons"] = _summons_doc(unit_summons.get(node.id))
            out[node.id] = doc
            continue
        doc["items"] = _items_doc(totals[node.id], pct.get(node.id, {}))
        doc["by_type"] = {
            key: {
                **_items_doc(counts, None),
                "states": dict(states[node.id][key]),
                **yearly.doc(years[node.id].get(key) if node.id in years else None),
            }
            for key, counts in sorted(by_type[node.id].items())
        }
        doc["summons"] = _summons_doc(tuple(summons[node.id]) if node.id in summons else None)
        doc["profile"] = profiles.get(node.id, {})
        doc["coverage"] = (
            declared.of_contributions([shares[c] for c in compounds_under.get(node.id, [])])
            if declared is not None
            else {}
        )
        doc["checklists"] = lists.get(node.id, EMPTY_LISTS)
        doc["polls"] = votes.get(node.id, EMPTY_POLLS)
        doc.update(deliberation[node.id])
        doc["meetings"].update(on_time[node.id])
        doc["disclosures"] = disclosed[node.id]
        doc["listings"] = listed[node.id]
        doc["residents"] = registered[node.id]
        doc["directories"] = directories[node.id]
        if node.id in ended_lists:
            doc["kpi_final"] = ended_lists[node.id]
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

    Readers keep seeing the previous documents until the transaction commits. Two
    refreshes at once (a sweeper and the CLI) replace the cache one after the other.
    """
    global _refreshes
    kpi_close.close_due(now=now)  # from the documents about to be replaced
    docs = compute_all(now=now)
    rows = [{"node": node_id, "facts": doc, "computed_at": now} for node_id, doc in docs.items()]
    with write_transaction():
        # readers go on; a second refresh waits, then replaces ours
        backend().lock_for_replace(NodeFacts._meta.table_name)
        NodeFacts.delete().execute()
        for start in range(0, len(rows), 500):
            NodeFacts.insert_many(rows[start : start + 500]).execute()
    _refreshes += 1
    memo.clear()  # the stamp this request read
    return len(rows)


def stamp() -> tuple[Any, ...]:
    """What changes whenever the facts cache does: the newest computation time and the
    row count, and this process's own refreshes (which may reuse a fixed ``now``)."""

    def read() -> tuple[str, int]:
        newest, count = Select(columns=_totals()).bind(database).tuples().get()
        return str(NodeFacts.computed_at.python_value(newest)), count

    return (_refreshes, *memo.memoized("facts_stamp", read))


def computed_at() -> dt.datetime | None:
    """When the oldest cached document was computed (None if nothing is cached)."""
    value = NodeFacts.select(fn.MIN(NodeFacts.computed_at)).scalar()
    return _naive(value)


def _naive(value: Any) -> dt.datetime | None:
    # SQLite hands an aggregate of a datetime column back as text.
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def refresh_due(*, now: dt.datetime, interval: float, max_age: float) -> bool:
    """Whether the sweep should refresh the facts at ``now``.

    Never within ``interval`` seconds of the last refresh; after that, when anything
    was audited since (every change to items, summons, files, lists, grants, the org
    tree and definitions is), or when the cache is ``max_age`` seconds old (overdue
    counts move with the clock alone). An event up to ``CHANGE_MARGIN`` older than the
    refresh counts too: its transaction may have committed after the refresh read.

    :param now: naive UTC.
    :param interval: the least number of seconds between two refreshes.
    :param max_age: the most seconds cached facts may age without a refresh.
    """
    last = computed_at()
    if last is None:
        return True
    age = (now - last).total_seconds()
    if age < interval:
        return False
    return age >= max_age or Event.select().where(Event.at > last - CHANGE_MARGIN).exists()


def refresh_if_due(*, now: dt.datetime, interval: float, max_age: float) -> int | None:
    """Refresh every node's facts if :func:`refresh_due`; the count refreshed, or None."""
    return refresh(now=now) if refresh_due(now=now, interval=interval, max_age=max_age) else None


def cached(node: OrgNode) -> tuple[dict[str, Any] | None, dt.datetime | None]:
    """The cached facts of ``node`` and when they were computed (None, None if never)."""
    row = NodeFacts.get_or_none(NodeFacts.node == node)
    return (row.facts, row.computed_at) if row else (None, None)


def cached_with_times(node_ids: list[int]) -> dict[int, tuple[dict[str, Any], dt.datetime]]:
    """Cached facts documents and when they were computed, by node id, in one query
    (nodes never computed are absent); the cache's ``stamp`` is read along for the
    request (scores are kept by it)."""
    ids = list(node_ids)
    query = prepared_cursor(  # built once per number of nodes
        ("facts.cached_with_times", len(ids)),
        _with_times,
        **{f"node{i}": node_id for i, node_id in enumerate(ids)},
    )
    found = {}
    at = NodeFacts.computed_at.python_value
    times: dict[Any, dt.datetime] = {}
    stamp = None
    for newest, count, node_id, doc, computed_at in query:  # one row at least: the totals
        if stamp is None:  # the totals are the same on every row
            # the stamp as ``stamp`` reads it (its own query converts the time the same way)
            stamp = (str(at(newest)), count)
            memo.remember("facts_stamp", stamp)
        if node_id is not None:
            when = times.get(computed_at)
            if when is None:  # one refresh writes every node at the same time
                when = times[computed_at] = at(computed_at)
            found[node_id] = (_parsed(node_id, doc), when)
    return found


def _totals() -> list[Any]:
    """The stamp's newest time and row count, each its own subquery: the newest is then
    one step down the computed_at index (together, every entry of it was read)."""
    every = NodeFacts.alias()
    return [
        every.select(fn.MAX(every.computed_at)).alias("newest"),
        every.select(fn.COUNT(every.id)).alias("count"),
    ]


def _with_times(**nodes: Any) -> Any:
    totals = Select(columns=_totals()).alias("totals")
    return (
        Select(
            [totals],
            [
                totals.c.newest,
                totals.c.count,
                NodeFacts.node,
                NodeFacts.facts,
                NodeFacts.computed_at,
            ],
        )
        .join(NodeFacts, JOIN.LEFT_OUTER, on=NodeFacts.node.in_(list(nodes.values())))
        .bind(database)
    )


def _parsed(node_id: int, text: str) -> dict[str, Any]:
    """The document ``text`` stores, parsed once per process while the text is the same
    (compared whole: a refresh at the same clock reading may still change it)."""
    kept = _PARSED.get(node_id)
    if kept is not None and kept[0] == text:
        return kept[1]
    doc: dict[str, Any] = NodeFacts.facts.python_value(text)
    _PARSED[node_id] = (text, doc)
    return doc


def cached_many(node_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Cached facts documents by node id (nodes never computed are absent); shared between
    requests, read only."""
    if not node_ids:
        return {}
    values = {f"n{i}": node_id for i, node_id in enumerate(node_ids)}
    rows = prepared_cursor(("facts.cached_many", len(node_ids)), _facts_of, **values)
    return {node_id: _parsed(node_id, text) for node_id, text in rows}


def _facts_of(**node_ids: Any) -> Any:
    """The stored text of the facts of ``node_ids`` (slots), by node."""
    return (
        Select([NodeFacts], [NodeFacts.node, NodeFacts.facts])
        .where(NodeFacts.node.in_(list(node_ids.values())))
        .bind(database)
    )


def paths(doc: Any, prefix: str = "") -> set[str]:
    """Every leaf path of a facts document, dotted (``items.hours_to_resolve.p50``); empty
    objects (no items of any type, no file) have none."""
    if isinstance(doc, dict):
        found: set[str] = set()
        for key, value in doc.items():
            found |= paths(value, f"{prefix}.{key}" if prefix else str(key))
        return found
    return {prefix}

"""Facts of the residents' services per area node (docs/facts.md, ``disclosures`` and
``listings``, ``directories``, ``residents``): statements published on time, questions asked
and answered, listings open and done, needs matched with resources and how long matching took,
the entries of directories (名录) and the nodes that reach a directory's target, and the
residents' accounts registered."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from engine.definitions.checks_directories import counted_fields
from engine.definitions.definitions import applies_at, current_versions
from engine.residents.periods import due_at, period_of, start_of
from engine.store.models import Definition, Grant, Item, OrgNode, User
from engine.store.resident_tables import DirectoryEntry, Listing, Statement


def _rate(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def _ancestors(path: str, ids: dict[str, int]) -> list[int]:
    parts = path.strip("/").split("/")
    found = (ids.get("/" + "/".join(parts[: i + 1]) + "/") for i in range(len(parts)))
    return [x for x in found if x is not None]


def _last_due(body: dict[str, Any], now: dt.datetime) -> str | None:
    """The newest period whose deadline has passed at ``now``."""
    period = period_of(body["period"], now, previous=True)
    due = due_at(body, period)
    if due is not None and due > now:
        start = start_of(body["period"], period)
        period = period_of(body["period"], start, previous=True) if start else None
    return period


def disclosure_facts(nodes: Iterable[OrgNode], now: dt.datetime) -> dict[int, dict[str, Any]]:
    """Per area node: compounds whose latest due statement was published on time, and the
    questions asked on statements in its subtree and how many were answered."""
    nodes = list(nodes)
    ids = {n.path: n.id for n in nodes}
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    versions = current_versions("disclosure")
    compounds = [n for n in nodes if n.kind == "compound"]
    for version in versions:
        body = version.body
        period = _last_due(body, now)
        if period is None:
            continue
        deadline = due_at(body, period)
        first = {
            node_id: published
            for node_id, published in Statement.select(Statement.node, Statement.published_at)
            .where(
                (Statement.definition == version.definition_id)
                & (Statement.period == period)
                & (Statement.number == 1)
                & Statement.published_at.is_null(False)
            )
            .tuples()
        }
        for compound in compounds:
            if compound.kind not in body.get("node_kinds", ["compound"]) or not applies_at(
                body, compound.path
            ):
                continue
            published = first.get(compound.id)
            for node_id in _ancestors(compound.path, ids):
                counts[node_id]["due"] += 1
                if published is not None and deadline is not None and published <= deadline:
                    counts[node_id]["on_time"] += 1
    for (path,) in Statement.select(Statement.node_path).where(Statement.number > 1).tuples():
        for node_id in _ancestors(path, ids):
            counts[node_id]["corrected"] += 1
    question_types = sorted({v.body["questions"]["item_type"] for v in versions})
    if question_types:
        rows = (
            Item.select(Item.node_path, Item.resolved_at.is_null(False))
            .join(Definition, on=(Item.definition == Definition.id))
            .where(Definition.key.in_(question_types))
            .tuples()
        )
        for path, answered in rows:
            for node_id in _ancestors(path, ids):
                counts[node_id]["questions"] += 1
                counts[node_id]["answered"] += int(bool(answered))
    out = {}
    for n in nodes:
        c = counts.get(n.id, {})
        out[n.id] = {
            "compounds_due": c.get("due", 0),
            "on_time": c.get("on_time", 0),
            "on_time_rate": _rate(c.get("on_time", 0), c.get("due", 0)),
            "corrected": c.get("corrected", 0),
            "questions": c.get("questions", 0),
            "answered": c.get("answered", 0),
            "answer_rate": _rate(c.get("answered", 0), c.get("questions", 0)),
        }
    return out


def listing_facts(nodes: Iterable[OrgNode]) -> dict[int, dict[str, Any]]:
    """Per area node: help listings open and done, needs open and matched, resources open
    and used, mean hours from posting a need to its match."""
    nodes = list(nodes)
    ids = {n.path: n.id for n in nodes}
    sides: dict[int, tuple[str, str] | None] = {}
    for version in current_versions("listing"):
        matching = version.body.get("matching")
        sides[version.definition_id] = (
            (matching["need"], matching["resource"]) if matching else None
        )
    counts: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    rows = Listing.select(
        Listing.definition,
        Listing.side,
        Listing.state,
        Listing.node_path,
        Listing.posted_at,
        Listing.matched_at,
    ).tuples()
    for definition_id, side, state, path, posted, matched in rows:
        pair = sides.get(definition_id)
        if pair is None:
            keys = [
                "help_"
                + ("done" if state == "done" else "open" if state in ("open", "taken") else "other")
            ]
        elif side == pair[0]:
            keys = [
                "needs_"
                + ("open" if state == "open" else "matched" if state == "matched" else "other")
            ]
        else:
            keys = [
                "resources_"
                + ("open" if state == "open" else "used" if state == "matched" else "other")
            ]
        hours = (
            (matched - posted).total_seconds() / 3600
            if pair and side == pair[0] and matched
            else None
        )
        for node_id in _ancestors(path, ids):
            for key in keys:
                counts[node_id][key] += 1
            if hours is not None:
                counts[node_id]["match_hours"] += hours
    out = {}
    for n in nodes:
        c = counts.get(n.id, {})
        matched = int(c.get("needs_matched", 0))
        out[n.id] = {
            "help_open": int(c.get("help_open", 0)),
            "help_done": int(c.get("help_done", 0)),
            "needs_open": int(c.get("needs_open", 0)),
            "needs_matched": matched,
            "resources_open": int(c.get("resources_open", 0)),
            "resources_used": int(c.get("resources_used", 0)),
            "match_hours_mean": round(c.get("match_hours", 0) / matched, 2) if matched else None,
        }
    return out


RESIDENT_ROLE = "resident"  # the role a resident's account holds (engine/org/permissions.py)


def resident_facts(nodes: Iterable[OrgNode]) -> dict[int, dict[str, Any]]:
    """Per area node: the residents' accounts registered in its subtree (``residents.users``:
    active users holding the resident role at a node of the subtree, each counted once).

    One query: the grants with their node's path.
    """
    nodes = list(nodes)
    ids = {n.path: n.id for n in nodes}
    users: dict[int, set[int]] = defaultdict(set)
    rows = (
        Grant.select(Grant.user, OrgNode.path)
        .join(OrgNode, on=(Grant.node == OrgNode.id))
        .switch(Grant)
        .join(User, on=(Grant.user == User.id))
        .where((Grant.role == RESIDENT_ROLE) & (User.active == True))
        .tuples()
    )
    for user_id, path in rows:
        for node_id in _ancestors(path, ids):
            users[node_id].add(user_id)
    return {n.id: {"users": len(users.get(n.id, ()))} for n in nodes}


def directory_facts(nodes: Iterable[OrgNode]) -> dict[int, dict[str, Any]]:
    """Per area node, per directory (``directories.<key>``): active entries in the subtree,
    sums of their number fields, counts and shares of each option of their choice fields, the
    nodes of the directory's kinds in the subtree, how many have entries, and how many reach
    ``min_per_node``. Retired entries count for nothing. One query (and the versions')."""
    nodes = list(nodes)
    ids = {n.path: n.id for n in nodes}
    versions = current_versions("directory")
    if not versions:
        return {n.id: {} for n in nodes}
    shape = {
        v.definition_id: (v.definition.key, v.body, *counted_fields(v.body["schema"]))
        for v in versions
    }
    at_node: dict[tuple[int, int], int] = defaultdict(int)
    entries: dict[tuple[int, int], int] = defaultdict(int)
    sums: dict[tuple[int, int, str], float] = defaultdict(float)
    picked: dict[tuple[int, int, str, str], int] = defaultdict(int)
    rows = (
        DirectoryEntry.select(
            DirectoryEntry.definition,
            DirectoryEntry.node,
            DirectoryEntry.node_path,
            DirectoryEntry.data,
        )
        .where(DirectoryEntry.retired_at.is_null())
        .tuples()
    )
    for definition_id, node_id, path, data in rows:
        if definition_id not in shape:
            continue
        _key, body, numbers, choices = shape[definition_id]
        if not applies_at(body, path):
            continue
        at_node[definition_id, node_id] += 1
        data = data or {}
        for anc in _ancestors(path, ids):
            entries[definition_id, anc] += 1
            for name in numbers:
                value = data.get(name)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    sums[definition_id, anc, name] += value
            for name in choices:
                if data.get(name) is not None:
                    picked[definition_id, anc, name, str(data[name])] += 1
    kept: dict[tuple[int, int], int] = defaultdict(int)
    with_entries: dict[tuple[int, int], int] = defaultdict(int)
    at_min: dict[tuple[int, int], int] = defaultdict(int)
    for node_id, kind, path in ((n.id, n.kind, n.path) for n in nodes):
        for definition_id, (_key, body, _n, _c) in shape.items():
            if kind not in body["node_kinds"] or not applies_at(body, path):
                continue
            count = at_node.get((definition_id, node_id), 0)
            least = body.get("min_per_node")
            for anc in _ancestors(path, ids):
                kept[definition_id, anc] += 1
                with_entries[definition_id, anc] += count > 0
                at_min[definition_id, anc] += bool(least) and count >= least
    out: dict[int, dict[str, Any]] = {}
    for n in nodes:
        doc = {}
        for definition_id, (key, body, numbers, choices) in shape.items():
            total = entries.get((definition_id, n.id), 0)
            places = kept.get((definition_id, n.id), 0)
            reached = at_min.get((definition_id, n.id), 0)
            least = body.get("min_per_node")
            doc[key] = {
                "entries": total,
                "nodes": places,
                "nodes_with_entries": with_entries.get((definition_id, n.id), 0),
                "nodes_at_min": reached if least else None,
                "at_min_rate": _rate(reached, places) if least else None,
                "sum": {f: _number(sums.get((definition_id, n.id, f), 0)) for f in numbers},
                "by": {
                    f: {o: picked.get((definition_id, n.id, f, o), 0) for o in options}
                    for f, options in choices.items()
                },
                "share": {
                    f: {
                        o: _rate(picked.get((definition_id, n.id, f, o), 0), total) for o in options
                    }
                    for f, options in choices.items()
                },
            }
        out[n.id] = doc
    return out


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 2)

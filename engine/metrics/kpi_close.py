"""A KPI list's figures frozen when its period ends (一年一清单: 2021's 达成/未达成 stays
2021's, whatever the district does in 2026).

The first facts refresh after a list's last day (Asia/Shanghai) keeps, for every district
and street, the part of that node's facts the list's measures read (``kpi.frozen``), as
the cache held them: the facts of the period's end, to within the refresh interval. Each
later facts document carries them under ``kpi_final.<list key>`` (``facts``, and ``at``:
when those facts were computed), and the dashboard measures an ended list against them.
A list closed once stays closed (a unique key per list and node); a list whose period is
moved later by a new version is measured live again until its new end.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from peewee import Select

from engine.records import kpi
from engine.store.db import database, write_transaction
from engine.store.models import NodeFacts, OrgNode
from engine.store.tables import KpiClose

KINDS = ("district", "street")  # the nodes whose dashboards measure the lists


def close_due(*, now: dt.datetime) -> int:
    """Freeze every ended list not yet frozen at a node with cached facts; returns the
    number of (list, node) pairs frozen. One query when nothing is due."""
    ended = [v.body for v in kpi.kpi_lists() if kpi.is_over(v.body, now)]
    if not ended:
        return 0
    done = set(
        KpiClose.select(KpiClose.list_key, KpiClose.node)
        .where(KpiClose.list_key.in_([b["key"] for b in ended]))
        .tuples()
    )
    cached = (
        Select([NodeFacts], [NodeFacts.node, NodeFacts.facts, NodeFacts.computed_at])
        .join(OrgNode, on=(NodeFacts.node == OrgNode.id))
        .where(OrgNode.kind.in_(KINDS))
        .bind(database)
        .tuples()
    )
    rows = []
    for node_id, text, computed_at in cached:
        due = [b for b in ended if (b["key"], node_id) not in done]
        if not due:
            continue
        doc = NodeFacts.facts.python_value(text)
        for body in due:
            rows.append(
                {
                    "list_key": body["key"],
                    "node": node_id,
                    "facts": kpi.frozen(body, doc),
                    "facts_at": NodeFacts.computed_at.python_value(computed_at),
                    "closed_at": now,
                }
            )
    if rows:
        with write_transaction():
            for start in range(0, len(rows), 200):
                KpiClose.insert_many(rows[start : start + 200]).on_conflict_ignore().execute()
    return len(rows)


def finals() -> dict[int, dict[str, Any]]:
    """Every frozen list by node id: ``{list key: {"facts": ..., "at": ISO time}}``."""
    found: dict[int, dict[str, Any]] = defaultdict(dict)
    for key, node_id, facts, facts_at in KpiClose.select(
        KpiClose.list_key, KpiClose.node, KpiClose.facts, KpiClose.facts_at
    ).tuples():
        found[node_id][key] = {"facts": facts, "at": facts_at.isoformat(timespec="seconds")}
    return dict(found)

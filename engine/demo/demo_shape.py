"""The shape of a demo district, measured: how many items are resolved overall and by age,
and what every street holds (items, compound files, checklist rows, KPI reports).

``sanfang demo --shape`` prints it, ``bench/bench_demo.py`` times the demo load and prints
it, and tests/engine/test_engine_demo_shape.py holds the seed pack's demo to it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from engine.store.models import Item, OrgNode
from engine.store.tables import ChecklistRow, KpiReport

AGES = (4, 7, 14)  # days: the age buckets the shape reports resolution for


@dataclass
class Street:
    name: str
    compounds: int = 0
    filed: int = 0  # compounds whose file has answers
    items: int = 0
    resolved: int = 0
    rows: int = 0  # checklist rows (task, coordination, difficulty lists)
    rows_done: int = 0
    reports: int = 0  # KPI reports by the street itself


@dataclass
class Shape:
    items: int = 0
    resolved: int = 0
    by_age: dict[str, list[int]] = field(default_factory=dict)  # "> N days": [resolved, total]
    ratings: Counter[int] = field(default_factory=Counter)
    rows: int = 0
    rows_done: int = 0
    reports: Counter[str] = field(default_factory=Counter)  # by state
    streets: dict[str, Street] = field(default_factory=dict)

    @staticmethod
    def rate(resolved: int, total: int) -> float | None:
        return round(100 * resolved / total, 1) if total else None

    def lines(self) -> list[str]:
        """The shape as lines of text (numbers only, for a terminal)."""
        out = [
            f"items {self.items}, resolved {self.resolved} ({self.rate(self.resolved, self.items)} %)"
        ]
        for label, (resolved, total) in self.by_age.items():
            out.append(
                f"  raised {label}: {resolved}/{total} resolved ({self.rate(resolved, total)} %)"
            )
        rated = sum(self.ratings.values())
        if rated:
            mean = sum(k * v for k, v in self.ratings.items()) / rated
            spread = ", ".join(f"{k}: {self.ratings[k]}" for k in sorted(self.ratings))
            out.append(f"ratings {rated}, mean {mean:.2f} ({spread})")
        out.append(f"checklist rows {self.rows}, done {self.rows_done}")
        out.append("KPI reports " + ", ".join(f"{k} {v}" for k, v in sorted(self.reports.items())))
        out.append("street: compounds/filed, items/resolved, checklist rows/done, KPI reports")
        for key, s in self.streets.items():
            out.append(
                f"  {key} {s.name}: {s.compounds}/{s.filed}, {s.items}/{s.resolved}, "
                f"{s.rows}/{s.rows_done}, {s.reports}"
            )
        return out


def measure(*, now: dt.datetime, ages: tuple[int, ...] = AGES) -> Shape:
    """The district's shape at ``now`` (a handful of queries, whatever its size)."""
    nodes = {n.id: n for n in OrgNode.select(OrgNode.id, OrgNode.key, OrgNode.name, OrgNode.kind)}
    shape = Shape()
    streets = {n.id: n for n in nodes.values() if n.kind == "street"}
    for street in sorted(streets.values(), key=lambda n: n.id):
        shape.streets[street.key] = Street(street.name)

    def street_of(path: str) -> Street | None:
        for part in path.strip("/").split("/"):
            if int(part) in streets:
                return shape.streets[streets[int(part)].key]
        return None

    for path, profile in (
        OrgNode.select(OrgNode.path, OrgNode.profile).where(OrgNode.kind == "compound").tuples()
    ):
        found = street_of(path)
        if found is not None:
            found.compounds += 1
            found.filed += bool(profile)
    shape.by_age = {f"> {days} days": [0, 0] for days in ages}
    shape.by_age[f"<= {min(ages)} days"] = [0, 0]
    query = Item.select(
        Item.node_path, Item.raised_at, Item.resolved_at, Item.satisfaction
    ).tuples()
    for path, raised, resolved_at, rating in query:
        done = resolved_at is not None
        shape.items += 1
        shape.resolved += done
        age = (now - raised).total_seconds() / 86400
        for days in ages:
            if age > days:
                shape.by_age[f"> {days} days"][0] += done
                shape.by_age[f"> {days} days"][1] += 1
        if age <= min(ages):
            shape.by_age[f"<= {min(ages)} days"][0] += done
            shape.by_age[f"<= {min(ages)} days"][1] += 1
        if rating is not None:
            shape.ratings[int(rating)] += 1
        found = street_of(path)
        if found is not None:
            found.items += 1
            found.resolved += done
    for path, row_done in ChecklistRow.select(ChecklistRow.node_path, ChecklistRow.done).tuples():
        shape.rows += 1
        shape.rows_done += row_done
        found = street_of(path)
        if found is not None:
            found.rows += 1
            found.rows_done += row_done
    for unit, state in KpiReport.select(KpiReport.unit, KpiReport.state).tuples():
        shape.reports[state] += 1
        if unit in streets:
            shape.streets[streets[unit].key].reports += 1
    return shape


def summary(shape: Shape) -> dict[str, Any]:
    """The shape as plain numbers (for tests and JSON)."""
    return {
        "items": shape.items,
        "resolved_rate": shape.rate(shape.resolved, shape.items),
        "by_age": {k: shape.rate(*v) for k, v in shape.by_age.items()},
        "rows": shape.rows,
        "reports": dict(shape.reports),
    }

"""The demo's index history: the last twelve scheduled snapshots of each index that has a
``snapshot`` schedule, so the trend line (三方强基指数走势) shows on the first start.

Each node's history climbs towards its score today with a little noise, as a district
that improved over the year would; the current period is left to the sweep.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from engine.core import clock
from engine.metrics import facts, indices
from engine.store.models import NodeFacts

PERIODS = 12


def _earlier(schedule: str, now: dt.datetime, back: int) -> dt.datetime:
    """A naive-UTC moment ``back`` periods before ``now`` (the 1st of the month, or a week earlier)."""
    if schedule == "weekly":
        return now - dt.timedelta(weeks=back)
    local = clock.local(now)
    assert local is not None
    month = local.year * 12 + local.month - 1 - back
    first = local.replace(year=month // 12, month=month % 12 + 1, day=1, hour=10, minute=0)
    return first.astimezone(dt.UTC).replace(tzinfo=None)


def _past(value: float | None, drift: float, back: int, rng: random.Random) -> float | None:
    if value is None:
        return None
    return round(min(100.0, max(0.0, value - drift * back + rng.uniform(-1.5, 1.5))), 2)


def backfill(rng: random.Random, *, now: dt.datetime) -> int:
    """Insert the last :data:`PERIODS` periods' snapshots of every scheduled index (before the
    current one); existing periods are kept. Returns how many rows were offered.

    The facts are computed first if they never were: the history ends at today's scores.
    """
    if not NodeFacts.select().exists():
        facts.refresh(now=now)
    offered = 0
    for version in indices.index_versions():
        schedule = version.body.get("snapshot")
        if not schedule:
            continue
        rows: list[dict[str, Any]] = []
        for node_id, score in sorted(indices.scores(version).items()):
            drift = rng.uniform(0.4, 1.6)  # points a period this node gained over the year
            for back in range(PERIODS, 0, -1):
                at = _earlier(schedule, now, back)
                rows.append(
                    {
                        "definition": version.body["key"],
                        "version": version.number,
                        "node": node_id,
                        "score": _past(score.score, drift, back, rng),
                        "dimensions": {
                            k: _past(v, drift, back, rng) for k, v in score.dimensions.items()
                        },
                        "values": {},
                        "taken_at": at,
                        "period": indices.period_of(schedule, at),
                    }
                )
        offered += indices.insert_snapshots(rows)
    return offered

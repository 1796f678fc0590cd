"""Exact medians of the time departments took to report in and to finish, from the stored
histograms (``summons_duration_tally``, kept by triggers: ``engine.store.duration_sql``).

For a period of whole local months and units whose every summons the reader sees, or
every summons on the items of a few areas (a street's supervisor: the nodes below the
root, ``engine.org.org.area_of``), a median costs two reads whatever the number of
summonses: the histograms of the period's months and those areas, summed by bucket, which
say which buckets hold the middle rank(s), and the times in those buckets alone, on the
indexes led by (unit, seconds). The value is the one sorting every time gives (the mean of
the middle two of an even count), which the evaluation did by reading every summons of the
period (376,000 for the district's quarter at 1,000,000 items). ``recount`` counts the
histograms from the summonses; tests compare.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Iterable
from itertools import groupby
from operator import itemgetter
from typing import Any

from engine.org.org import area_of
from engine.store.db import backend, database, write_transaction
from engine.store.duration_sql import DURATIONS
from engine.supervision.medians import at_ranks, bucket_of, bucket_range

KINDS = tuple(DURATIONS)  # 0: to report in, 1: to finish


def whole_months(first: dt.date, last: dt.date) -> tuple[str, str] | None:
    """The first and last local months (``YYYY-MM``) that the days ``first``..``last``
    (both included) make up, or None when they are not whole months (or fall before 1992,
    when Asia/Shanghai kept other offsets than the stored months' UTC+8)."""
    after = last + dt.timedelta(days=1)
    if first.day != 1 or after.day != 1 or first.year < 1992 or after <= first:
        return None
    return first.strftime("%Y-%m"), last.strftime("%Y-%m")


def medians(
    units: list[int],
    months: tuple[str, str],
    bounds: tuple[dt.datetime, dt.datetime],
    areas: list[tuple[int, str]] | None = None,
    whole: Collection[int] = (),
) -> dict[int, tuple[float | None, float | None]]:
    """Per unit of ``units``, its median seconds to report in and to finish (None without
    any) over the summonses summoned in ``months`` (first and last, which make up
    ``bounds``). A unit whose stored counts and times disagree is left out: the caller
    reads it from the summonses.

    :param areas: only the summonses on the items of these areas (their node ids and
        paths, none below another), but for the units of ``whole``; None: every summons.
    """
    if not units:
        return {}
    parts = _Parts(areas, whole)
    # (unit, kind) -> per middle rank: its bucket, its rank in the bucket, and how many
    # times the histograms count in the bucket
    plan = _middle_buckets(units, months, parts)
    wanted = sorted({(u, k, b) for (u, k), picks in plan.items() for b, _, _ in picks})
    times = _times_in(wanted, bounds, parts)
    found: dict[int, list[float | None]] = {unit: [None, None] for unit in units}
    for (unit, kind), picks in plan.items():
        values = [
            times[unit, kind, bucket][rank]
            for bucket, rank, counted in picks
            if len(times[unit, kind, bucket]) == counted
        ]
        if len(values) < len(picks):  # the counts and the times disagree
            found.pop(unit, None)
        elif unit in found:
            found[unit][kind] = sum(values) / len(values)
    return {unit: (r, h) for unit, (r, h) in found.items()}


class _Parts:
    """Which of a unit's summonses count: all (``areas`` None, or a unit of ``whole``), or
    those on the items of ``areas``."""

    def __init__(self, areas: list[tuple[int, str]] | None, whole: Collection[int]) -> None:
        self.areas, self.whole = areas, set(whole)

    def limited(self, unit: int) -> bool:
        return self.areas is not None and unit not in self.whole

    def histograms(self, units: list[int]) -> str:
        """The condition on ``summons_duration_tally``'s rows of ``units``."""
        limited = [u for u in units if self.limited(u)]
        if not limited:
            return f"unit_id IN ({_ids(units)})"
        areas = _ids(a for a, _ in self.areas or ())
        conds = [f"unit_id IN ({_ids(limited)}) AND area IN ({areas})"]
        if len(limited) < len(units):
            conds.append(f"unit_id IN ({_ids(u for u in units if not self.limited(u))})")
        return "(" + " OR ".join(f"({c})" for c in conds) + ")"


def _ids(ids: Iterable[int]) -> str:
    return ", ".join(str(int(i)) for i in ids) or "NULL"  # none: matches no row


def _middle_buckets(
    units: list[int], months: tuple[str, str], parts: _Parts
) -> dict[tuple[int, int], list[tuple[int, int, int]]]:
    """(unit, kind) → per middle rank of its times in ``months`` (and ``areas``), the
    lower and upper of an even count: the bucket holding it, its rank in the bucket, and
    the times in the bucket (``medians.at_ranks``). The histogram is summed over the
    months and areas in SQL, in bucket order; window sums in SQL sorted the rows twice
    more (2,878 at a million items: 5.4 ms, against 3 read and summed here)."""
    p = backend().database.param
    sql = (
        "SELECT unit_id, kind, bucket, SUM(summonses) FROM summons_duration_tally"
        f" WHERE {parts.histograms(units)} AND month >= {p} AND month <= {p}"
        " GROUP BY unit_id, kind, bucket ORDER BY unit_id, kind, bucket"
    )
    found: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    for (unit, kind), rows in groupby(database.execute_sql(sql, list(months)), _UNIT_KIND):
        histogram = [(int(bucket), int(n)) for _, _, bucket, n in rows]
        total = sum(n for _, n in histogram)
        if total:
            found[unit, kind] = at_ranks(histogram, sorted({(total - 1) // 2, total // 2}))
    return found


_UNIT_KIND = itemgetter(0, 1)


def _times_in(
    buckets: list[tuple[int, int, int]],
    bounds: tuple[dt.datetime, dt.datetime],
    parts: _Parts,
) -> dict[tuple[int, int, int], list[float]]:
    """(unit, kind, bucket) → the sorted times of that unit's summonses of ``bounds`` that
    count (``parts``) in that bucket: one statement, an arm per bucket on its kind's (unit,
    seconds) index (the range a second wider each side; the bucket tested here as the
    histograms count it), each row's item looked up for its path when limited to areas."""
    if not buckets:
        return {}
    db = backend()
    p = db.database.param
    start, end = (db.time_param(b) for b in bounds)
    # the summons time tested on each row of the bucket's range: on its own index SQLite
    # read every summons of the unit's period (200 ms for the district at 1,000,000 items)
    at = db.unindexed_text("summoned_at")
    in_areas = ""
    area_params: list[Any] = []
    if parts.areas is not None:
        paths = " OR ".join(f"i.node_path {db.path_operator} {p}" for _ in parts.areas)
        in_areas = f" AND EXISTS (SELECT 1 FROM item i WHERE i.id = item_id AND ({paths}))"
        area_params = [db.prefix_pattern(path) for _, path in parts.areas]
    arms: list[str] = []
    params: list[Any] = []
    for i, (unit, kind, bucket) in enumerate(buckets):
        seconds = db.duration_seconds("", kind)
        low, high = bucket_range(bucket)
        limited = parts.limited(unit)
        arms.append(
            f"SELECT {i}, {seconds} FROM assignment WHERE unit_id = {int(unit)}"
            f" AND {db.duration_counted('', kind)} AND {seconds} >= {p} AND {seconds} < {p}"
            f" AND {at} >= {p} AND {at} < {p}{in_areas if limited else ''}"
        )
        params += [low - 1, high + 1, start, end, *(area_params if limited else ())]
    found: dict[tuple[int, int, int], list[float]] = {key: [] for key in buckets}
    for i, seconds in database.execute_sql(" UNION ALL ".join(arms), params):
        key = buckets[i]
        # the bucket of the value as read (PostgreSQL's numeric truncated exactly), the
        # value as the evaluation's median takes it
        if bucket_of(int(seconds)) == key[2]:
            found[key].append(float(seconds))
    for values in found.values():
        values.sort()
    return found


def stored() -> dict[tuple[int, int, int, str, int], int]:
    """(unit, area, kind, month, bucket) → summonses, zero rows left out."""
    rows = database.execute_sql(
        "SELECT unit_id, area, kind, month, bucket, summonses FROM summons_duration_tally"
    )
    return {(u, a, k, m, b): n for u, a, k, m, b, n in rows if n}


def recount() -> dict[tuple[int, int, int, str, int], int]:
    """What ``stored`` should hold, counted from the summonses (their seconds and month
    read by the same SQL, bucketed here; their area from their item's path here)."""
    db = backend()
    found: Counter[tuple[int, int, int, str, int]] = Counter()
    for kind in KINDS:
        sql = (
            f"SELECT a.unit_id, i.node_path, {db.duration_seconds('a', kind)},"
            f" {db.local_month('a.summoned_at')} FROM assignment a"
            f" JOIN item i ON i.id = a.item_id WHERE {db.duration_counted('a', kind)}"
        )
        for unit, path, seconds, month in database.execute_sql(sql):
            found[unit, area_of(path), kind, month, bucket_of(int(seconds))] += 1
    return dict(found)


def rebuild() -> None:
    """Replace the stored histograms by a recount of every summons (one transaction)."""
    with write_transaction():
        backend().rebuild_duration_tally()

"""Exact medians of the time departments took to report in and to finish, from the stored
histograms (``summons_duration_tally``, kept by triggers: ``engine.store.duration_sql``).

For a period of whole local months and units whose every summons the reader sees, a
median costs two reads whatever the number of summonses: the buckets holding the middle
rank(s), found in the histograms of the period's months (window sums in SQL), and the
times in those buckets alone, on the indexes led by (unit, seconds). The value is the
one sorting every time gives (the mean of the middle two of an even count), which the
evaluation did by reading every summons of the period (376,000 for the district's quarter
at 1,000,000 items). ``recount`` counts the histograms from the summonses; tests compare.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from engine.store.db import backend, database, write_transaction
from engine.store.duration_sql import DURATIONS
from engine.supervision.medians import bucket_of, bucket_range

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
    units: list[int], months: tuple[str, str], bounds: tuple[dt.datetime, dt.datetime]
) -> dict[int, tuple[float | None, float | None]]:
    """Per unit of ``units``, its median seconds to report in and to finish (None without
    any) over the summonses summoned in ``months`` (first and last, which make up
    ``bounds``). A unit whose stored counts and times disagree is left out: the caller
    reads it from the summonses."""
    if not units:
        return {}
    # (unit, kind) -> per middle rank: its bucket (None: in none), its rank in the bucket,
    # and how many times the histograms count in the bucket
    plan: dict[tuple[int, int], list[tuple[int | None, int, int]]] = {}
    for (unit, kind), (total, buckets) in _middle_buckets(units, months).items():
        plan[unit, kind] = [
            next(
                ((b, rank - before, n) for b, before, n in buckets if before <= rank < before + n),
                (None, rank, 0),
            )
            for rank in sorted({(total - 1) // 2, total // 2})
        ]
    wanted = sorted(
        {(u, k, b) for (u, k), picks in plan.items() for b, _, _ in picks if b is not None}
    )
    times = _times_in(wanted, bounds)
    found: dict[int, list[float | None]] = {unit: [None, None] for unit in units}
    for (unit, kind), picks in plan.items():
        values = [
            times[unit, kind, bucket][rank]
            for bucket, rank, counted in picks
            if bucket is not None and len(times[unit, kind, bucket]) == counted
        ]
        if len(values) < len(picks):  # the counts and the times disagree
            found.pop(unit, None)
        elif unit in found:
            found[unit][kind] = sum(values) / len(values)
    return {unit: (r, h) for unit, (r, h) in found.items()}


def _middle_buckets(
    units: list[int], months: tuple[str, str]
) -> dict[tuple[int, int], tuple[int, list[tuple[int, int, int]]]]:
    """(unit, kind) → the count of its times in ``months`` and the buckets that may hold
    its middle rank(s): (bucket, times before it, times in it). Window sums in SQL hand over
    a few rows per (unit, kind), not its whole histogram (thousands at a million items)."""
    p = backend().database.param
    units_sql = ", ".join(str(int(u)) for u in units)
    sql = (
        "WITH h AS (SELECT unit_id, kind, bucket, SUM(summonses) AS n"
        f" FROM summons_duration_tally WHERE unit_id IN ({units_sql})"
        f" AND month >= {p} AND month <= {p} GROUP BY unit_id, kind, bucket),"
        " c AS (SELECT unit_id, kind, bucket, n, SUM(n) OVER (PARTITION BY unit_id, kind"
        " ORDER BY bucket ROWS UNBOUNDED PRECEDING) AS upto,"
        " SUM(n) OVER (PARTITION BY unit_id, kind) AS total FROM h)"
        " SELECT unit_id, kind, bucket, upto - n, n, total FROM c"
        " WHERE n > 0 AND (upto - n) * 2 <= total AND upto * 2 > total - 2"
        " ORDER BY unit_id, kind, bucket"
    )
    found: dict[tuple[int, int], tuple[int, list[tuple[int, int, int]]]] = {}
    for unit, kind, bucket, before, n, total in database.execute_sql(sql, list(months)):
        entry = found.setdefault((unit, kind), (int(total), []))
        entry[1].append((int(bucket), int(before), int(n)))
    return found


def _times_in(
    buckets: list[tuple[int, int, int]], bounds: tuple[dt.datetime, dt.datetime]
) -> dict[tuple[int, int, int], list[float]]:
    """(unit, kind, bucket) → the sorted times of that unit's summonses of ``bounds`` in
    that bucket: one statement, an arm per bucket on its kind's (unit, seconds) index (the
    range a second wider each side; the bucket tested here as the histograms count it)."""
    if not buckets:
        return {}
    db = backend()
    p = db.database.param
    start, end = (db.time_param(b) for b in bounds)
    # the summons time tested on each row of the bucket's range: on its own index SQLite
    # read every summons of the unit's period (200 ms for the district at 1,000,000 items)
    at = db.unindexed_text("summoned_at")
    arms: list[str] = []
    params: list[Any] = []
    for i, (unit, kind, bucket) in enumerate(buckets):
        seconds = db.duration_seconds("", kind)
        low, high = bucket_range(bucket)
        arms.append(
            f"SELECT {i}, {seconds} FROM assignment WHERE unit_id = {int(unit)}"
            f" AND {db.duration_counted('', kind)} AND {seconds} >= {p} AND {seconds} < {p}"
            f" AND {at} >= {p} AND {at} < {p}"
        )
        params += [low - 1, high + 1, start, end]
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


def stored() -> dict[tuple[int, int, str, int], int]:
    """(unit, kind, month, bucket) → summonses, zero rows left out."""
    rows = database.execute_sql(
        "SELECT unit_id, kind, month, bucket, summonses FROM summons_duration_tally"
    )
    return {(u, k, m, b): n for u, k, m, b, n in rows if n}


def recount() -> dict[tuple[int, int, str, int], int]:
    """What ``stored`` should hold, counted from the summonses (their seconds and month
    read by the same SQL, bucketed here)."""
    db = backend()
    found: Counter[tuple[int, int, str, int]] = Counter()
    for kind in KINDS:
        sql = (
            f"SELECT unit_id, {db.duration_seconds('a', kind)},"
            f" {db.local_month('a.summoned_at')} FROM assignment a"
            f" WHERE {db.duration_counted('a', kind)}"
        )
        for unit, seconds, month in database.execute_sql(sql):
            found[unit, kind, month, bucket_of(int(seconds))] += 1
    return dict(found)


def rebuild() -> None:
    """Replace the stored histograms by a recount of every summons (one transaction)."""
    with write_transaction():
        backend().rebuild_duration_tally()

"""The evaluation's counts per department from the stored day counts (``summons_day_tally``,
or ``summons_unit_day_tally`` for a reader that sees its units whole).

The whole UTC days of a period are sums of stored rows; the rest is read from the summons
themselves, few of them: the hours at the period's two ends (a local day starts at 16:00
UTC) and the whole days' summons still inside a deadline that falls today (whether they
count as decided depends on ``now``), on the two partial indexes of undecided summons.
One statement (UNION ALL), written as SQL text: built with peewee, its five parts cost
more to render than the demo's evaluation cost to count.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.org.actors import Actor
from engine.org.scope import role_sees
from engine.store.db import backend, database
from engine.supervision.tallies import day_start

# summoned, report decided and on time, handle decided and on time, urged
Numbers = tuple[int, int, int, int, int, int]


class _Params:
    """Placeholders and their values, in order."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.mark = backend().database.param

    def __call__(self, value: Any) -> str:
        self.values.append(backend().time_param(value) if isinstance(value, dt.datetime) else value)
        return self.mark

    def each(self, values: list[Any]) -> str:
        return ", ".join(self(v) for v in values)


def _scope(actor: Actor, p: _Params, item_path: str, unit_path: str, *, ids: bool = False) -> str:
    """``summons_in_view``'s condition on an item path and a unit path column; with
    ``ids``, on a node id and a unit id column (a stored count's), matched to the nodes
    under each grant (found on the paths' index: a stored count's node or unit joined for
    its path made SQLite read every row of the units, 7 ms for a street at 1,000,000
    items, where its nodes' rows cost 0.8)."""
    db = backend()
    conds = []
    for grant in actor.grants:
        sees = role_sees(grant.role)
        column = item_path if sees == "subtree" else unit_path if sees == "summoned" else None
        if column:
            pattern = db.prefix_pattern(grant.node_path)
            text = db.pattern_literal(pattern)  # a plan kept for a literal pattern
            matched = f"{db.path_operator} {p(pattern) if text is None else text}"
            if ids:
                conds.append(f"{column} IN (SELECT id FROM org_node WHERE path {matched})")
            else:
                conds.append(f"{column} {matched}")
    return "(" + " OR ".join(conds) + ")" if conds else "1 = 0"


def counts(
    actor: Actor,
    bounds: tuple[dt.datetime, dt.datetime],
    units: list[int],
    now: dt.datetime,
    *,
    everything: bool,
) -> dict[int, Numbers]:
    """Per unit of ``units``: summoned, report decided and on time, handle decided and on
    time, urged — of the summons summoned within ``bounds`` in the actor's view.

    :param everything: the actor sees the whole tree (no scope condition, no join).
    """
    if not units:
        return {}
    db, p = backend(), _Params()
    start, end = bounds
    first = day_start(start)
    first = first if first == start else first + dt.timedelta(days=1)
    last = max(day_start(end), first)
    today = day_start(now).strftime("%Y-%m-%d")

    def clocked(due: str) -> str:  # undecided summons whose deadline day is before today
        return f"SUM(CASE WHEN t.{due} <> '' AND t.{due} < {p(today)} THEN t.summoned ELSE 0 END)"

    # A reader that sees its units whole (no grant sees a subtree of items) sums the rows
    # kept per unit: the district's departments have 2,279 a quarter at 1,000,000 items
    # where the rows per node are 17,933.
    by_node = not everything and any(role_sees(g.role) == "subtree" for g in actor.grants)
    stored = (
        "SELECT t.unit_id, SUM(t.summoned),"
        f" SUM(t.report_fixed) + {clocked('report_due')}, SUM(t.report_on_time),"
        f" SUM(t.handle_fixed) + {clocked('handle_due')}, SUM(t.handle_on_time), SUM(t.urged)"
        f" FROM {'summons_day_tally' if by_node else 'summons_unit_day_tally'} t"
    )
    if everything:
        stored += " WHERE"
    else:
        stored += f" WHERE {_scope(actor, p, 't.node_id', 't.unit_id', ids=True)} AND"
    stored += (
        f" t.unit_id IN ({p.each(units)}) AND t.day >= {p(first.strftime('%Y-%m-%d'))}"
        f" AND t.day < {p(last.strftime('%Y-%m-%d'))} GROUP BY t.unit_id"
    )

    # The summons read below are matched to the scope by their item row, the summons
    # driving the join (CROSS JOIN: SQLite keeps the left table outside). Placeholders are
    # numbered in the order they are made: each part is written left to right.
    def source() -> str:
        if everything:
            return "FROM assignment a WHERE"
        scope = _scope(actor, p, "i.node_path", "a.unit_path")
        return f"FROM assignment a CROSS JOIN item i WHERE a.item_id = i.id AND {scope} AND"

    values = db.day_values("a")[3:]

    def decided(fixed: str, which: str, due: str) -> str:
        late = f"{db.pending('a', which)} AND a.{due} < {p(now)}"
        return f"SUM({fixed}) + SUM(CASE WHEN {late} THEN 1 ELSE 0 END)"

    parts = [stored]
    for lo, hi in ((start, first), (last, end)):
        part = f"SELECT a.unit_id, COUNT(*), {decided(values[1], 'report', 'report_due_at')},"
        part += f" SUM({values[2]}), {decided(values[3], 'handle', 'handle_due_at')},"
        part += f" SUM({values[4]}), SUM({values[5]}) {source()}"
        part += f" a.unit_id IN ({p.each(units)}) AND a.summoned_at >= {p(lo)}"
        parts.append(part + f" AND a.summoned_at < {p(hi)} GROUP BY a.unit_id")
    # Today's deadlines of the whole days' undecided summons, on the partial indexes
    # (unit_id + 0: an index on the unit would visit every summons of the period).
    for which, due in (("report", "report_due_at"), ("handle", "handle_due_at")):
        in_days = f"a.summoned_at >= {p(first)} AND a.summoned_at < {p(last)}"
        counted = f"SUM(CASE WHEN {in_days} THEN 1 ELSE 0 END)"
        columns = f"0, {counted}, 0, 0, 0, 0" if which == "report" else f"0, 0, 0, {counted}, 0, 0"
        part = f"SELECT a.unit_id + 0, {columns} {source()} {db.pending('a', which)}"
        part += f" AND a.{due} >= {p(day_start(now))} AND a.{due} < {p(now)}"
        parts.append(part + f" AND a.unit_id + 0 IN ({p.each(units)}) GROUP BY a.unit_id + 0")
    found: dict[int, list[int]] = {}
    for unit, *numbers in database.execute_sql(" UNION ALL ".join(parts), p.values):
        total = found.setdefault(unit, [0] * 6)
        for i, n in enumerate(numbers):
            total[i] += int(n or 0)
    return {u: (v[0], v[1], v[2], v[3], v[4], v[5]) for u, v in found.items() if any(v)}


# items touched, rated, sum of ratings, reopened
ItemNumbers = tuple[int, int, int, int]


def local_days(bounds: tuple[dt.datetime, dt.datetime]) -> tuple[str, str] | None:
    """The first and last local dates of the stored items touched (``summons_item_tally``,
    keyed at UTC+8) that make up ``bounds``, or None when the bounds are not whole such
    days (Asia/Shanghai kept other offsets before 1992): then the summons are read."""
    start, end = bounds
    shift = dt.timedelta(minutes=backend().LOCAL_MINUTES)
    first, after = start + shift, end + shift
    midnight = dt.time()
    if first.year < 1992 or first.time() != midnight or after.time() != midnight:
        return None
    return first.strftime("%Y-%m-%d"), (after - dt.timedelta(days=1)).strftime("%Y-%m-%d")


def items_touched(
    actor: Actor, days: tuple[str, str], units: list[int], *, everything: bool
) -> dict[int, ItemNumbers]:
    """Per unit of ``units``: the distinct items its summonses of the local ``days`` (first
    and last, both included) in the actor's view touched, how many of them are rated, the
    sum of their ratings, how many were reopened — from the stored entries: each pair of
    (unit, item) counts once, by its first entry in the days (its previous day before
    them). One statement."""
    if not units:
        return {}
    p = _Params()
    first, last = days
    sql = (
        "SELECT t.unit_id, SUM(t.touched), SUM(t.rated), SUM(t.rating_sum), SUM(t.reopened)"
        " FROM summons_item_tally t"
    )
    if everything:
        sql += " WHERE"
    else:
        sql += f" WHERE {_scope(actor, p, 't.node_id', 't.unit_id', ids=True)} AND"
    sql += (
        f" t.unit_id IN ({p.each(units)}) AND t.day >= {p(first)} AND t.day <= {p(last)}"
        f" AND t.prev_day < {p(first)} GROUP BY t.unit_id"
    )
    return {
        unit: (int(a or 0), int(b or 0), int(c or 0), int(d or 0))
        for unit, a, b, c, d in database.execute_sql(sql, p.values)
    }

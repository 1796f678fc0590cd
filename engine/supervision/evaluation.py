"""Department evaluation (履职评价): what each summoned department did in a period.

The counts (summoned, decided, on time, urged) come from the stored day counts and the
items touched (distinct items, rated, their mean rating, reopened) from the stored entries
of each (unit, item) pair's local days (``engine.supervision.day_counts``). The medians
are not sums: for whole local months and the units whose every summons the reader sees
(many of them) they come from the stored histograms of the summonses' durations
(``engine.supervision.durations``); otherwise from aggregate SQL over the scoped summons
(``scope.summons_unjoined_slotted``, or no scope condition for who sees the whole tree;
the statement built once per shape): in SQL where the backend has a median; elsewhere
(SQLite) one narrow pass hands two durations per summons to Python (a window function's
sort per median cost more than all the rest at a million items).
``evaluate(..., stored=False)`` counts everything from the summons (tests compare both).
The score is a rule of the pack (``engine.supervision.scoring``), not code.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Hashable
from dataclasses import dataclass, field, replace
from functools import reduce
from typing import Any, NamedTuple

from peewee import SQL, Case, Select, fn

from engine.core import clock
from engine.core.memo import KeptAWhile
from engine.definitions.checks import EVALUATION_METRICS
from engine.org.actors import Actor
from engine.org.org import is_area
from engine.org.scope import (
    ids_in,
    path_like,
    role_sees,
    sees_everything,
    summons_in_view,
    summons_in_view_unjoined,
    summons_unjoined_shape,
    summons_unjoined_slotted,
)
from engine.store.as_of import AsOf
from engine.store.db import backend, count_up_to, database
from engine.store.models import Assignment, Item, OrgNode
from engine.store.prepared import Slot, bind, prepared
from engine.supervision import day_counts, durations
from engine.workflow.listed import NODE_FIELDS, nodes_read

METRICS = EVALUATION_METRICS  # the names the pack's score rule may read
# Drill-downs: the summons behind each number (see ``conditions``).
DRILLS = (
    "summoned",
    "report_decided",
    "report_on_time",
    "report_late",
    "reported",
    "handle_decided",
    "handle_on_time",
    "handle_late",
    "handled",
    "rated",
    "reopened",
    "urged",
)

ITEM_DRILLS = ("rated", "reopened")


@dataclass(frozen=True)
class Period:
    """Whole local (Asia/Shanghai) days from ``start`` to ``end``, both included.

    Pages keep both between :data:`EARLIEST` and :data:`LATEST`: at the calendar's
    ends :meth:`bounds` would overflow.
    """

    start: dt.date
    end: dt.date

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """Naive-UTC [from, to) of the period."""

        def utc(day: dt.date) -> dt.datetime:
            local = dt.datetime.combine(day, dt.time(), tzinfo=clock.LOCAL)
            return local.astimezone(dt.UTC).replace(tzinfo=None)

        return utc(self.start), utc(self.end + dt.timedelta(days=1))


EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2999, 12, 31)


def quarter_of(now: dt.datetime) -> Period:
    """The local calendar quarter ``now`` (naive UTC) falls in."""
    today = (clock.local(now) or now).date()
    first_month = 3 * ((today.month - 1) // 3) + 1
    start = dt.date(today.year, first_month, 1)
    after = dt.date(
        today.year + (first_month == 10), 1 if first_month == 10 else first_month + 3, 1
    )
    return Period(start, after - dt.timedelta(days=1))


@dataclass
class DepartmentRow:
    """One department's numbers; percentages and medians are None without data."""

    node: OrgNode
    summoned: int = 0
    report_decided: int = 0
    report_on_time: int = 0
    report_median_hours: float | None = None
    handle_decided: int = 0
    handle_on_time: int = 0
    handle_median_hours: float | None = None
    items: int = 0
    rated: int = 0
    satisfaction: float | None = None
    reopened: int = 0
    urged: int = 0
    score: float | None = None
    grade: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def _pct(part: int, whole: int) -> float | None:
        return round(100 * part / whole, 1) if whole else None

    @property
    def report_on_time_pct(self) -> float | None:
        return self._pct(self.report_on_time, self.report_decided)

    @property
    def handle_on_time_pct(self) -> float | None:
        return self._pct(self.handle_on_time, self.handle_decided)

    @property
    def reopen_pct(self) -> float | None:
        return self._pct(self.reopened, self.items)

    def metrics(self) -> dict[str, Any]:
        """The document the pack's score rule sees; a number without data is left out,
        so a rule gives its default with ``{"var": ["name", default]}``."""
        values = {name: getattr(self, name) for name in METRICS}
        return {k: v for k, v in values.items() if v is not None}


def conditions(now: dt.datetime) -> dict[str, Any]:
    """Each drill-down as a condition on Assignment (and its Item), as the counts use it.

    A deadline is *decided* once it was met or has passed: a summons still within its
    report deadline counts neither as on time nor as late.
    """
    a = Assignment
    ended_after = lambda due: (
        due.is_null(False)
        & ((a.done_at.is_null(False) & (due < a.done_at)) | (a.done_at.is_null() & (due < now)))
    )
    report_on_time = a.reported_at.is_null(False) & (
        a.report_due_at.is_null() | (a.reported_at <= a.report_due_at)
    )
    report_decided = _reported() | ended_after(a.report_due_at)
    handled = _handled()
    handle_on_time = handled & (a.handle_due_at.is_null() | (a.done_at <= a.handle_due_at))
    handle_decided = handled | ended_after(a.handle_due_at)
    return {
        "summoned": a.id.is_null(False),
        "report_decided": report_decided,
        "report_on_time": report_on_time,
        "report_late": report_decided & ~report_on_time,
        "reported": _reported(),
        "handle_decided": handle_decided,
        "handle_on_time": handle_on_time,
        "handle_late": handle_decided & ~handle_on_time,
        "handled": handled,
        "rated": Item.satisfaction.is_null(False),
        "reopened": Item.reopen_count > 0,
        "urged": a.urge_count > 0,
    }


def _reported() -> Any:
    return Assignment.reported_at.is_null(False)


def _handled() -> Any:
    return Assignment.state == "done"


def _seconds(start: Any, end: Any) -> Any:
    return backend().seconds_between(start, end)


def _count(cond: Any) -> Any:
    return fn.COALESCE(fn.SUM(Case(None, [(cond, 1)], 0)), 0)


def in_period(actor: Actor, period: Period) -> Any:
    """The summons of departments in the period, in the actor's view (joined to Item)."""
    start, end = period.bounds()
    return (
        summons_in_view(actor)
        .join(OrgNode, on=(Assignment.unit == OrgNode.id))
        .where(
            (OrgNode.kind == "department")
            & (Assignment.summoned_at >= start)
            & (Assignment.summoned_at < end)
        )
    )


def departments_for(actor: Actor) -> list[OrgNode]:
    """Departments listed for the actor: all for subtree roles, else their own units."""
    return _departments_for(actor, _departments_and_roots()[0])


def _departments_for(actor: Actor, departments: list[OrgNode]) -> list[OrgNode]:
    sees = [(g.node_path, role_sees(g.role)) for g in actor.grants]
    if any(s == "subtree" for _, s in sees):
        return departments
    own = [p for p, s in sees if s == "summoned"]
    return [n for n in departments if any(n.path.startswith(p) for p in own)]


def _departments_and_roots() -> tuple[list[OrgNode], list[str]]:
    """Every department in id order (without its file) and the paths of the org tree's
    roots (for ``sees_everything``), in one kept statement."""

    def query(kind: Any) -> Any:
        which = (OrgNode.kind == kind) | OrgNode.parent.is_null()
        return OrgNode.select(*NODE_FIELDS).where(which).order_by(backend().unindexed(OrgNode.id))

    nodes = nodes_read("evaluation_departments_and_roots", query, kind="department")
    return [n for n in nodes if n.kind == "department"], [
        n.path for n in nodes if n.parent_id is None
    ]


def _base(actor: Actor, period: Period, units: list[int], everything: bool | None = None) -> Any:
    """The period's summons of ``units`` in the actor's view, not joined to anything
    when the actor sees the whole tree (the scope condition would be true of every row).

    :param everything: ``sees_everything(actor)`` when the caller knows it.
    """
    start, end = period.bounds()
    if everything is None:
        everything = sees_everything(actor)
    query = Assignment.select() if everything else summons_in_view_unjoined(actor)
    return query.where(
        Assignment.unit.in_(units)
        & (Assignment.summoned_at >= start)
        & (Assignment.summoned_at < end)
    )


def evaluate(
    actor: Actor, period: Period, *, now: dt.datetime, stored: bool = True
) -> list[DepartmentRow]:
    """Every department's numbers for ``period`` (no score; see ``scoring.score_rows``).

    :param stored: the counts and the items touched from the stored day counts and entries
        (``day_counts``); False counts the summons themselves (tests compare both).
    """
    departments, roots = _departments_and_roots()
    rows = {n.id: DepartmentRow(n) for n in _departments_for(actor, departments)}
    if not rows:
        return []
    everything = sees_everything(actor, roots)
    base = lambda: _base(actor, period, list(rows), everything)  # only when counted live
    counted = (
        day_counts.counts(actor, period.bounds(), list(rows), now, everything=everything)
        if stored
        else _counts_live(base(), conditions(now))
    )
    for unit, numbers in counted.items():
        row = rows[unit]
        (
            row.summoned,
            row.report_decided,
            row.report_on_time,
            row.handle_decided,
            row.handle_on_time,
            row.urged,
        ) = numbers
    days = day_counts.local_days(period.bounds()) if stored else None
    if days is not None:
        touched_by_unit = day_counts.items_touched(actor, days, list(rows), everything=everything)
        for unit, (touched, rated, rating_sum, reopened) in touched_by_unit.items():
            row = rows[unit]
            row.items, row.rated, row.reopened = touched, rated, reopened
            row.satisfaction = round(rating_sum / rated, 2) if rated else None
    else:
        for unit, touched, rated, avg, reopened in _item_numbers(base()).tuples():
            row = rows[unit]
            row.items, row.rated, row.reopened = int(touched), int(rated), int(reopened)
            row.satisfaction = round(float(avg), 2) if avg is not None else None
    middle = _stored_medians(actor, period, rows, everything=everything) if stored else {}
    rest = [unit for unit in rows if unit not in middle]
    if rest:
        middle.update(_medians(actor, period, rest, everything=everything))
    for unit, (report, handle) in middle.items():
        rows[unit].report_median_hours = round(report / 3600, 1) if report is not None else None
        rows[unit].handle_median_hours = round(handle / 3600, 1) if handle is not None else None
    return list(rows.values())


# ``evaluate_as_of``'s rows, per (grants, period).
_AS_OF: AsOf[list[DepartmentRow]] = AsOf()


def evaluate_as_of(
    actor: Actor, period: Period, *, now: dt.datetime, max_age: float
) -> tuple[list[DepartmentRow], dt.datetime]:
    """``evaluate``'s rows as worked out at most ``max_age`` seconds before ``now`` for
    the same grants and period (``engine.store.as_of``), and when they were worked out:
    the district's quarter at a million items costs 4.3 ms of its page's 6.6. Two readers
    with the same grants (role and node of each) see the same rows; others never share
    them. Each call gets rows of its own (scoring writes on them)."""
    grants = tuple(sorted((grant.role, grant.node_path) for grant in actor.grants))
    rows, at = _AS_OF.get(
        ("evaluation", grants, period.start, period.end),
        lambda: evaluate(actor, period, now=now),
        now=now,
        max_age=max_age,
    )
    return [replace(row, extra=dict(row.extra)) for row in rows], at


def _counts_live(base: Any, cond: dict[str, Any]) -> dict[int, day_counts.Numbers]:
    """Per unit: summoned, report decided and on time, handle decided and on time, urged,
    counted from the summons (one GROUP BY on the covering index); ``day_counts.counts``
    answers the same from the stored day counts."""
    counted = base.select(
        Assignment.unit,
        fn.COUNT(SQL("*")),
        _count(cond["report_decided"]),
        _count(cond["report_on_time"]),
        _count(cond["handle_decided"]),
        _count(cond["handle_on_time"]),
        fn.COALESCE(fn.SUM(Assignment.urge_count), 0),
    ).group_by(Assignment.unit)
    return {
        unit: (int(a), int(b), int(c), int(d), int(e), int(f))
        for unit, a, b, c, d, e, f in counted.tuples()
    }


def _item_numbers(base: Any) -> Any:
    """Per unit: distinct items touched, how many rated, mean satisfaction, reopened."""
    pairs = (
        base.select(Assignment.unit.alias("unit"), Assignment.item.alias("item_id"))
        .group_by(Assignment.unit, Assignment.item)
        .alias("p")
    )
    return (
        Select(
            [pairs],
            [
                pairs.c.unit,
                fn.COUNT(Item.id),
                fn.COUNT(Item.satisfaction),
                fn.AVG(Item.satisfaction),
                _count(Item.reopen_count > 0),
            ],
        )
        .join(Item, on=(Item.id == pairs.c.item_id))
        .group_by(pairs.c.unit)
        .bind(Assignment._meta.database)
    )


# Above this many summonses in the period the medians come from the stored histograms
# (``_stored_medians``); below, the summonses' times are read: on the demo (a few hundred)
# the histograms' window sums cost 1 ms where reading the times cost 0.3.
STORED_MEDIANS_ABOVE = 5_000


def _stored_medians(
    actor: Actor, period: Period, rows: dict[int, DepartmentRow], *, everything: bool
) -> dict[int, tuple[float | None, float | None]]:
    """The medians from the stored histograms (``durations``) of the units whose every
    summons the actor sees (who sees the whole tree, or a department its own) and, when
    each of the actor's subtrees is an area (a street: ``org.area_of``), of the
    others on those areas' items; when the period is whole local months and they have more
    than ``STORED_MEDIANS_ABOVE`` summonses in it (``rows``' counts). The others are read
    from the summonses (``_medians``)."""
    months = durations.whole_months(period.start, period.end)
    if months is None:
        return {}
    summoned = [g.node_path for g in actor.grants if role_sees(g.role) == "summoned"]
    whole = [
        unit
        for unit, row in rows.items()
        if everything or any(row.node.path.startswith(path) for path in summoned)
    ]
    areas = None if everything else _areas(actor)
    units = list(rows) if areas else whole
    if sum(rows[unit].summoned for unit in units) <= STORED_MEDIANS_ABOVE and (
        everything or _subtree_read(actor, period, list(rows)) <= STORED_MEDIANS_ABOVE
    ):
        return {}  # few: reading their times costs less than finding the buckets
    return durations.medians(units, months, period.bounds(), areas, whole)


def _subtree_read(actor: Actor, period: Period, units: list[int]) -> int:
    """How many rows ``_medians`` reads to find the units' summonses in a subtree of the
    actor's (the fewer of the units' summonses the district over and the subtrees' items
    of every year, ``_sizes``; 0 for who sees no subtree): a street's year read 32,499
    summonses for its 2,459 (87 ms at 1,000,000 items over ten years; its histograms, 12)."""
    ways, values = summons_unjoined_shape(actor)
    values["start"], values["end"] = period.bounds()
    sizes = _sizes(ways, values, units)
    return 0 if sizes is None else min(sizes)


def _areas(actor: Actor) -> list[tuple[int, str]] | None:
    """The areas (id, path) the actor's subtree grants make up, when each is an area's
    subtree or inside one it also holds; None when one is another node's."""
    paths = {g.node_path: g.node_id for g in actor.grants if role_sees(g.role) == "subtree"}
    tops = [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]
    if not all(is_area(p) for p in tops):
        return None
    return [(paths[p], p) for p in sorted(tops)]


def median(values: list[float]) -> float | None:
    """The middle value, or the mean of the middle two."""
    if not values:
        return None
    values.sort()
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


# The medians' statements by shape (``_medians``); at most this many are kept.
_MEDIAN_STATEMENTS: dict[Hashable, tuple[str, list[Any]]] = {}
MEDIAN_STATEMENTS_KEPT = 256


def _medians(
    actor: Actor, period: Period, units: list[int], *, everything: bool
) -> dict[int, tuple[float | None, float | None]]:
    """Per unit of ``units``, the median seconds to report in (of those reported) and to
    handle (of those handled), of the period's summons in the actor's view: a backend with
    a median in SQL computes them in one GROUP BY; otherwise the database hands over two
    numbers per summons in one pass. The statement is built once per shape (the scope's
    ways, the units, the backend; the period's bounds are values): building it cost the
    page more than SQLite spent reading the demo's summons.

    :param everything: the actor sees the whole tree (no scope condition).
    """
    ways, values = ((), {}) if everything else summons_unjoined_shape(actor)
    values["start"], values["end"] = period.bounds()
    item_row = not everything and _by_item_row(ways, values, units)
    key = (type(database.obj), everything, ways, tuple(units), item_row)
    entry = _MEDIAN_STATEMENTS.get(key)
    if entry is None:
        slots = {name: Slot(name) for name in values}
        query = (
            Assignment.select()
            if everything
            else summons_unjoined_slotted(ways, slots, item_row=item_row)
        )
        query = query.where(
            ids_in(Assignment.unit, units)
            & (Assignment.summoned_at >= slots["start"])
            & (Assignment.summoned_at < slots["end"])
        )
        sql, params = _median_query(query).sql()
        if len(_MEDIAN_STATEMENTS) >= MEDIAN_STATEMENTS_KEPT:
            _MEDIAN_STATEMENTS.clear()
        entry = _MEDIAN_STATEMENTS[key] = (sql, params)
    sql, params = entry
    cursor = database.execute_sql(sql, bind(params, values))  # the raw cursor: no row objects
    if backend().sql_median:
        return {
            unit: (None if r is None else float(r), None if h is None else float(h))
            for unit, r, h in cursor
        }
    found: dict[int, tuple[list[float], list[float]]] = {}
    for unit, report, handle in cursor:
        pair = found.get(unit)
        if pair is None:
            pair = found[unit] = ([], [])
        if report is not None:
            pair[0].append(float(report))
        if handle is not None:
            pair[1].append(float(handle))
    return {unit: (median(report), median(handle)) for unit, (report, handle) in found.items()}


# How ``_medians`` matches the period's summons to a subtree (``_by_item_row``) and how
# many it reads (``_subtree_read``): two sizes kept per shape, paths, units and period for
# this many seconds; they steer a plan, never a result (each way reads the same summons).
# Each size is counted up to SIZE_CAP.
ITEM_ROW_SECONDS = 600.0
ITEM_ROW_KEPT = 256
_ITEM_ROW = KeptAWhile(ITEM_ROW_SECONDS, ITEM_ROW_KEPT)
SIZE_CAP = 20_000


def _by_item_row(ways: tuple[Any, ...], values: dict[str, Any], units: list[int]) -> bool:
    """Whether ``_medians`` tests each summons of the units in the period by its item's
    row (read on the evaluation's (unit, summoned_at) index) rather than listing a
    subtree's items first: when the units have fewer summonses in the period, the
    district over, than the subtrees have items, of every year (``_sizes``). A street's
    quarter at 1,000,000 items spread over ten years: 3,734 summonses against 58,654
    items (131 -> 5 ms); a compound's when a quarter holds much of the million: the other
    way round."""
    sizes = _sizes(ways, values, units)
    return sizes is not None and sizes[0] < sizes[1]


def _sizes(
    ways: tuple[Any, ...], values: dict[str, Any], units: list[int]
) -> tuple[int, int] | None:
    """The units' summonses in the period, the district over, and the subtrees' items of
    every year, each counted up to ``SIZE_CAP``; None for who sees no subtree. One
    statement, kept ``ITEM_ROW_SECONDS``."""
    subtrees = [(i, text) for i, (sees, text) in enumerate(ways) if sees == "subtree"]
    if not subtrees:
        return None
    key = (ways, tuple(sorted(values.items())), tuple(units))
    return _ITEM_ROW.get(key, lambda: _count_sizes(values, units, subtrees))


def _count_sizes(
    values: dict[str, Any], units: list[int], subtrees: list[tuple[int, Any]]
) -> tuple[int, int]:
    """``_sizes``' two counts, read in one statement."""
    summonses = Assignment.select(SQL("1")).where(
        ids_in(Assignment.unit, units)
        & (Assignment.summoned_at >= values["start"])
        & (Assignment.summoned_at < values["end"])
    )
    items = [
        Item.select(SQL("1")).where(
            path_like(Item.node_path, SQL(text) if text is not None else values[f"path{i}"])
        )
        for i, text in subtrees
    ]
    counts = Select(columns=[count_up_to(q, SIZE_CAP) for q in [summonses, *items]])
    found = database.execute(counts.bind(database)).fetchone()
    return int(found[0]), sum(int(n) for n in found[1:])


def _median_query(base: Any) -> Any:
    """What ``_medians`` reads from ``base`` (the summons counted)."""
    reported, handled = _reported(), _handled()
    report_seconds = _seconds(Assignment.summoned_at, Assignment.reported_at)
    handle_seconds = _seconds(Assignment.summoned_at, Assignment.done_at)
    if backend().sql_median:
        return base.select(
            Assignment.unit,
            backend().median_where(report_seconds, reported),
            backend().median_where(handle_seconds, handled),
        ).group_by(Assignment.unit)
    return base.select(
        Assignment.unit,
        Case(None, [(reported, report_seconds)]),
        Case(None, [(handled, handle_seconds)]),
    ).where(reported | handled)


class DrillRow(NamedTuple):
    """One summons behind a number, with the columns of its item the drill-down shows."""

    item_id: int
    title: str
    state: str
    summoned_at: dt.datetime
    report_due_at: dt.datetime | None
    reported_at: dt.datetime | None
    handle_due_at: dt.datetime | None
    done_at: dt.datetime | None
    satisfaction: int | None
    reopen_count: int
    urge_count: int


def drill(
    actor: Actor,
    period: Period,
    unit: OrgNode,
    which: str,
    *,
    now: dt.datetime,
    limit: int = 500,
    offset: int = 0,
) -> list[DrillRow]:
    """The summons (with their items' shown columns) behind one number of one department,
    in the order they were summoned, as tuples: ``limit`` of them after the first
    ``offset`` (a page of them; models cost the page more than its statement). A number
    counted per item (``ITEM_DRILLS``) lists each item once, by its unit's first summons
    in the period. One prepared statement per number, scope shape and limit (the period,
    the unit, ``now`` and the offset are values): :func:`in_period`'s summons, as
    ``summons_in_view`` scopes them, of the one unit.

    :raises KeyError: an unknown drill-down.
    """
    if which not in DRILLS:
        raise KeyError(which)
    if unit.kind != "department":  # the evaluation counts departments only
        return []
    ways, values = summons_unjoined_shape(actor)
    values["start"], values["end"] = period.bounds()
    values["unit"], values["now"], values["offset"] = unit.id, now, offset

    def build(**slots: Any) -> Any:
        a = Assignment
        condition = conditions(slots["now"])[which]
        if which in ITEM_DRILLS:  # the item once: no earlier summons of it by the unit
            b = Assignment.alias()
            earlier = b.select(SQL("1")).where(
                (b.unit == a.unit)
                & (b.item == a.item)
                & (b.summoned_at >= slots["start"])
                & (
                    (b.summoned_at < a.summoned_at)
                    | ((b.summoned_at == a.summoned_at) & (b.id < a.id))
                )
            )
            condition &= ~fn.EXISTS(earlier)
        conds = [
            path_like(
                Item.node_path if sees == "subtree" else a.unit_path,
                SQL(text) if text is not None else slots[f"path{i}"],
            )
            for i, (sees, text) in enumerate(ways)
        ]
        return (
            a.select(
                a.item,
                Item.title,
                a.state,
                a.summoned_at,
                a.report_due_at,
                a.reported_at,
                a.handle_due_at,
                a.done_at,
                Item.satisfaction,
                Item.reopen_count,
                a.urge_count,
            )
            .join(Item, on=(a.item == Item.id))
            .where(
                (reduce(operator.or_, conds) if conds else a.id < 0)
                & (a.unit == slots["unit"])
                & (a.summoned_at >= slots["start"])
                & (a.summoned_at < slots["end"])
                & condition
            )
            .order_by(a.summoned_at, a.id)
            .limit(limit)
            .offset(slots["offset"])
            .tuples()
        )

    return [
        DrillRow(*row)
        for row in prepared(("evaluation.drill", which, ways, limit), build, **values)
    ]

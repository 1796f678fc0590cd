"""Items raised this calendar year against last year (同比), by the district's local calendar.

A year starts on 1 January at 00:00 in Asia/Shanghai. "Last year to date" ends at the
same local moment one year before ``now`` (29 February falls back to the 28th), so a
change rate read in June compares January–June with January–June, and read on
31 December compares the whole years.
"""

from __future__ import annotations

import datetime as dt
import functools
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from peewee import SQL, Case, Select, fn

from engine.core import clock
from engine.store.db import NO_LIMIT, backend, count_up_to, database
from engine.store.models import Definition, DefinitionVersion, Item, OrgNode
from engine.store.prepared import prepared_cursor

YEAR_GROUPS = """
SELECT i.node_id, i.definition_id,
  SUM(CASE WHEN i.raised_at >= {p} THEN 1 ELSE 0 END),
  SUM(CASE WHEN i.raised_at < {p} THEN 1 ELSE 0 END),
  SUM(CASE WHEN i.raised_at < {p} THEN 1 ELSE 0 END)
FROM item i
WHERE i.raised_at >= {p}
GROUP BY i.node_id, i.definition_id
"""


@dataclass(frozen=True)
class Area:
    """An org node as a yearly chart names and counts it (a row, not a model)."""

    id: int
    key: str
    name: str
    kind: str
    path: str
    parent_id: int | None


def _area_and_children(wanted: Any) -> Any:
    inner = OrgNode.alias()
    which = (OrgNode.key == wanted) | OrgNode.parent.in_(
        inner.select(inner.id).where(inner.key == wanted)
    )
    return (
        OrgNode.select(
            OrgNode.id, OrgNode.key, OrgNode.name, OrgNode.kind, OrgNode.path, OrgNode.parent
        )
        .where(which)
        .order_by(backend().unindexed(OrgNode.id))  # not every node in id order
    )


def area_with_children(key: str) -> tuple[Area | None, list[Area]]:
    """The node ``key`` and its children in id order, as plain rows (one prepared statement;
    no models: a district's chart names thirty areas)."""
    rows = [Area(*row) for row in prepared_cursor("yearly.area", _area_and_children, wanted=key)]
    found = next((r for r in rows if r.key == key), None)
    if found is None:
        return None, []
    return found, [r for r in rows if r.parent_id == found.id and r.id != found.id]


def _current_version_of(wanted: Any, kind: Any) -> Any:
    return (
        Definition.select(DefinitionVersion.id)
        .join(
            DefinitionVersion,
            on=(
                (DefinitionVersion.definition == Definition.id)
                & (DefinitionVersion.number == Definition.current)
            ),
        )
        .where((Definition.key == wanted) & (Definition.kind == kind))
    )


def trend_type(type_key: str) -> Mapping[str, Any] | None:
    """The current body of the item type ``type_key`` if it asks for a year-over-year trend
    (``year_over_year``), else None: its version's id in one prepared statement, the body
    its compiled runtime's (kept per process: versions never change)."""
    from engine.definitions.runtimes import runtime

    found = list(
        prepared_cursor("yearly.trend_type", _current_version_of, wanted=type_key, kind="item_type")
    )
    if not found:
        return None
    body = runtime(found[0][0]).body
    return body if body.get("year_over_year") else None


@dataclass(frozen=True)
class Bounds:
    """The moments (naive UTC) that cut the two years."""

    last_start: dt.datetime
    this_start: dt.datetime
    last_same: dt.datetime
    this_year: int


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _one_year_back(value: dt.datetime) -> dt.datetime:
    try:
        return value.replace(year=value.year - 1)
    except ValueError:  # 29 February
        return value.replace(year=value.year - 1, day=28)


def bounds(now: dt.datetime) -> Bounds:
    """Where this local year and last one start, and last year's moment matching ``now``.

    :param now: naive UTC.
    """
    here = clock.local(now)
    assert here is not None
    this_start = here.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return Bounds(
        last_start=_utc(this_start.replace(year=here.year - 1)),
        this_start=_utc(this_start),
        last_same=_utc(_one_year_back(here)),
        this_year=here.year,
    )


def counts(
    now: dt.datetime, ancestors: dict[int, list[int]], types: dict[int, str]
) -> dict[int, dict[str, list[int]]]:
    """Per area node and item type key: [this year, last year, last year to date]."""
    b = bounds(now)
    query = YEAR_GROUPS.format(p=database.param)
    param = backend().time_param
    params = (
        param(b.this_start),
        param(b.this_start),
        param(b.last_same),
        param(b.last_start),
    )
    found: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for node_id, def_id, this, last, last_to_date in database.execute_sql(query, params):
        key = types.get(def_id, str(def_id))
        for anc_id in ancestors.get(node_id, ()):
            into = found[anc_id][key]
            into[0] += int(this or 0)
            into[1] += int(last or 0)
            into[2] += int(last_to_date or 0)
    return found


def doc(values: list[int] | None) -> dict[str, Any]:
    """The facts ``this_year``, ``last_year``, ``last_year_to_date`` and ``year_change_rate``."""
    this, last, last_to_date = values or (0, 0, 0)
    return {
        "this_year": this,
        "last_year": last,
        "last_year_to_date": last_to_date,
        "year_change_rate": round(100 * (this - last_to_date) / last_to_date, 2)
        if last_to_date
        else None,
    }


@functools.lru_cache(maxsize=4)
def month_starts(b: Bounds) -> tuple[dt.datetime, ...]:
    """The 25 moments (naive UTC) that start each local month of last year and this year,
    and next year's first: an item's month is found by bisection, not a zone conversion."""
    first = clock.local(b.last_start)
    assert first is not None
    starts = []
    for i in range(25):
        year, month = first.year + i // 12, i % 12 + 1
        starts.append(_utc(first.replace(year=year, month=month)))
    return tuple(starts)


# The type's items raised since last year are counted up to this many to choose the way.
MONTHLY_TYPE_CAP = 20_000


def _monthly_query(type_key: Any, since: Any, under: Any) -> Any:
    """The node path and raising time of the items of ``type_key`` raised since ``since``
    under the pattern ``under``: two arms of which the database reads one (the other's
    LIMIT is 0). When the subtree holds fewer items (of every type and year) than the type
    has since ``since`` district-wide, it reads them on the path index; otherwise the
    type's on its (definition, closed, raised_at) index, testing each one's path. The
    path index alone walked every item of ten years under a district for two years' 1,572
    mediations (the district's chart 651 ms at 1,000,000 items; 5.9 now). The sizes are
    compared in the statement, once: the type's counted up to ``MONTHLY_TYPE_CAP``, and
    whether the subtree holds more."""
    db = backend()
    ever = Item.closed.in_([False, True])  # (definition, closed, raised_at): both values

    def of_type(*conds: Any) -> Any:
        wanted = (Definition.key == type_key) & (Item.raised_at >= since)
        return Item.select().join(Definition).where(wanted, *conds)

    since_count = count_up_to(of_type(ever).select(SQL("1")), MONTHLY_TYPE_CAP)
    subtree_more = Item.select(SQL("1")).where(db.path_match(Item.node_path, under))
    # worked out once, for both arms
    way = Select(columns=[fn.EXISTS(subtree_more.limit(1).offset(since_count)).alias("more")])
    way = way.cte("way", materialized=True)
    by_type = Select([way], [way.c.more])
    by_path = (
        of_type(db.path_match(Item.node_path, under))
        .select(Item.node_path, Item.raised_at)
        .limit(Case(None, [(by_type, 0)], NO_LIMIT))
    )
    on_type = (
        of_type(ever, db.path_filter(Item.node_path, under))
        .select(Item.node_path, Item.raised_at)
        .limit(Case(None, [(by_type, NO_LIMIT)], 0))
    )
    arms = [
        Select([arm.alias(name)], [SQL("*")])
        for name, arm in (("by_path", by_path), ("on_type", on_type))
    ]
    return (arms[0] + arms[1]).with_cte(way).bind(database)


def monthly(
    type_key: str, areas: list[Any], *, now: dt.datetime
) -> dict[int, dict[str, list[int]]]:
    """Items of ``type_key`` raised per local month in each area, this year and last.

    One query over the items under the areas' common parent path (prepared: built once).

    :param areas: org nodes (with ``id`` and ``path``); an item counts in every area
        whose path its node lies under.
    :returns: area id → ``{"this": [12 counts], "last": [12 counts]}``.
    """
    b = bounds(now)
    out: dict[int, dict[str, list[int]]] = {
        a.id: {"this": [0] * 12, "last": [0] * 12} for a in areas
    }
    if not areas:
        return out
    common = min((a.path for a in areas), key=len)
    while not all(a.path.startswith(common) for a in areas):
        common = common[: common.rstrip("/").rfind("/") + 1]
    rows = prepared_cursor(
        "yearly.monthly",
        _monthly_query,
        type_key=type_key,
        since=b.last_start,
        under=backend().prefix_pattern(common),
    )
    starts = month_starts(b)
    # counted per node path and month first: many items share a node
    per_path: Counter[tuple[str, int]] = Counter()
    for path, raised_at in rows:
        if isinstance(raised_at, str):  # SQLite hands a datetime back as text
            raised_at = dt.datetime.fromisoformat(raised_at)
        elif raised_at.tzinfo is not None:
            raised_at = _utc(raised_at)
        per_path[path, bisect_right(starts, raised_at) - 1] += 1
    by_path: dict[str, list[int]] = defaultdict(list)
    for area in areas:
        by_path[area.path].append(area.id)
    for (path, index), n in per_path.items():
        which = "this" if 12 <= index < 24 else "last"  # (a date in a later year: last's)
        cut = 0
        while (cut := path.find("/", cut) + 1) > 0:  # the path's every prefix "/1/", "/1/4/" …
            for area_id in by_path.get(path[:cut], ()):
                out[area_id][which][index % 12] += n
    return out

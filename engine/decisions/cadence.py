"""A meeting definition's cadence (例会制度: 每月, 每季度 …): its periods in local time, whether
a node held this period's meetings, and the on-time facts over the recent periods.

A definition with ``cadence: {"period": "month", "count": 1}`` is due at every node it is used
at (its ``node_kinds`` and ``scope``) once per period; a period is *on time* at a node when at
least ``count`` of its meetings held in the period (minutes recorded, ``held_at`` in the period,
Asia/Shanghai) are there. Pure period arithmetic is at the top; the reads below it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.core import clock
from engine.core.i18n import gettext as _
from engine.definitions.definitions import applies_at, current_versions
from engine.store.decision_tables import Meeting
from engine.store.models import OrgNode
from engine.store.prepared import prepared

MONTHS = {"month": 1, "quarter": 3, "half": 6, "year": 12}
# The facts count the complete periods that ended in the last WINDOW_MONTHS months (at least
# the last complete period): six monthly, two quarterly, one half-yearly or yearly period.
WINDOW_MONTHS = 6


@dataclass(frozen=True)
class Period:
    """One period of a cadence: its key (``2026-11``, ``2026-Q4``, ``2026-H2``, ``2026``) and
    its bounds as naive UTC, ``start`` included, ``end`` excluded."""

    kind: str
    key: str
    start: dt.datetime
    end: dt.datetime

    @property
    def label(self) -> str:
        """How people say the period (2026年11月, 2026年第4季度 …)."""
        local = clock.local(self.start)
        assert local is not None
        year, index = local.year, (local.month - 1) // MONTHS[self.kind] + 1
        if self.kind == "month":
            return _("%(year)s-%(month)s") % {"year": year, "month": index}
        if self.kind == "quarter":
            return _("Q%(quarter)s %(year)s") % {"year": year, "quarter": index}
        if self.kind == "half":
            if index == 1:
                return _("first half of %(year)s") % {"year": year}
            return _("second half of %(year)s") % {"year": year}
        return _("year %(year)s") % {"year": year}

    @property
    def last_day(self) -> dt.date:
        """The period's last local day."""
        local = clock.local(self.end - dt.timedelta(seconds=1))
        assert local is not None
        return local.date()


def _utc(year: int, month: int) -> dt.datetime:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    local = dt.datetime(year, month, 1, tzinfo=clock.LOCAL)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def period_at(kind: str, when: dt.datetime) -> Period:
    """The period of ``kind`` that ``when`` (naive UTC) falls in, local time."""
    local = clock.local(when)
    assert local is not None
    span = MONTHS[kind]
    index = (local.month - 1) // span
    first = index * span + 1
    if kind == "month":
        key = f"{local.year}-{local.month:02d}"
    elif kind == "quarter":
        key = f"{local.year}-Q{index + 1}"
    elif kind == "half":
        key = f"{local.year}-H{index + 1}"
    else:
        key = f"{local.year}"
    return Period(kind, key, _utc(local.year, first), _utc(local.year, first + span))


def previous(period: Period) -> Period:
    """The period before ``period``."""
    return period_at(period.kind, period.start - dt.timedelta(seconds=1))


def window(kind: str, now: dt.datetime) -> list[Period]:
    """The complete periods the facts count at ``now``, newest first (see ``WINDOW_MONTHS``)."""
    local = clock.local(now)
    assert local is not None
    since = _utc(local.year, local.month - WINDOW_MONTHS)
    out = [previous(period_at(kind, now))]
    while True:
        before = previous(out[-1])
        if before.end <= since:
            return out
        out.append(before)


def cadence_of(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The definition's cadence, or None for meetings held when needed (不定期)."""
    found = body.get("cadence")
    return found if isinstance(found, Mapping) and found.get("period") in MONTHS else None


def cadence_label(cadence: Mapping[str, Any] | None) -> str:
    """每月1次, 每季度2次 … or 不定期."""
    if cadence is None:
        return _("when needed")
    words = {
        "month": _("%(n)s a month"),
        "quarter": _("%(n)s a quarter"),
        "half": _("%(n)s every half year"),
        "year": _("%(n)s a year"),
    }
    return words[cadence["period"]] % {"n": int(cadence.get("count", 1))}


def used_at(body: Mapping[str, Any], node: OrgNode) -> bool:
    """Whether a meeting definition is due at ``node`` (its kinds and scope)."""
    return node.kind in body.get("node_kinds", ["compound"]) and applies_at(body, node.path)


@dataclass(frozen=True)
class Status:
    """This period's meetings of one cadenced definition at one node (for the pages).

    ``state``: ``held`` (本期已召开), ``late`` (the last period was missed and this one is not
    held yet: 已逾期) or ``due`` (待召开).
    """

    name: str
    key: str
    node: OrgNode
    cadence: str
    period: Period
    held: int
    planned: int
    needed: int
    last_on_time: bool
    state: str


def statuses(nodes: Iterable[OrgNode], *, now: dt.datetime) -> list[Status]:
    """The current period's status of every cadenced meeting definition used at each of
    ``nodes`` (one query for the meetings, after the cached definitions)."""
    nodes = list(nodes)
    pairs = []
    for version in current_versions("meeting"):
        cadence = cadence_of(version.body)
        if cadence is None:
            continue
        for node in nodes:
            if used_at(version.body, node):
                pairs.append((version, cadence, node))
    if not pairs:
        return []
    since = min(previous(period_at(c["period"], now)).start for _v, c, _n in pairs)
    node_ids = sorted({n.id for _v, _c, n in pairs})
    definition_ids = sorted({v.definition_id for v, _c, _n in pairs})
    values = {f"n{i}": x for i, x in enumerate(node_ids)}
    values.update({f"d{i}": x for i, x in enumerate(definition_ids)})
    shape = ("cadence.statuses", len(node_ids), len(definition_ids))
    rows = prepared(shape, _held_since, since=since, **values)
    found: dict[tuple[int, int], list[tuple[dt.datetime, str]]] = defaultdict(list)
    for def_id, node_id, held_at, state in rows:
        found[(def_id, node_id)].append((held_at, state))
    out = []
    for version, cadence, node in pairs:
        current = period_at(cadence["period"], now)
        last = previous(current)
        meetings = found.get((version.definition_id, node.id), [])
        needed = int(cadence.get("count", 1))

        def count(p: Period, state: str, meetings: list[Any] = meetings) -> int:
            return sum(1 for at, s in meetings if s == state and p.start <= at < p.end)

        held = count(current, "held")
        last_on_time = count(last, "held") >= needed
        state = "held" if held >= needed else ("due" if last_on_time else "late")
        out.append(
            Status(
                version.body["name"],
                version.body["key"],
                node,
                cadence_label(cadence),
                current,
                held,
                count(current, "planned"),
                needed,
                last_on_time,
                state,
            )
        )
    return out


def _held_since(since: Any, **values: Any) -> Any:
    nodes = [v for k, v in values.items() if k.startswith("n")]
    definitions = [v for k, v in values.items() if k.startswith("d")]
    return (
        Meeting.select(Meeting.definition, Meeting.node, Meeting.held_at, Meeting.state)
        .where(
            Meeting.node.in_(nodes)
            & Meeting.definition.in_(definitions)
            & (Meeting.held_at >= since)
        )
        .tuples()
    )


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def facts(
    nodes: list[OrgNode], ancestors: Mapping[int, list[int]], *, now: dt.datetime
) -> dict[int, dict[str, Any]]:
    """The on-time part of the ``meetings`` facts of every node (docs/facts.md): node-periods
    due over each cadenced definition's window, those held on time, and the rate; overall and
    ``by_definition.<key>``.

    :param nodes: every org node but buildings (a definition is due at those it is used at).
    :param ancestors: node id → itself (if an area) and every area node above it.
    """
    cadenced = [(v, c) for v in current_versions("meeting") if (c := cadence_of(v.body))]
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    if cadenced:
        windows = {v.definition_id: window(c["period"], now) for v, c in cadenced}
        since = min(p.start for w in windows.values() for p in w)
        held: dict[tuple[int, int], list[dt.datetime]] = defaultdict(list)
        for def_id, node_id, at in (
            Meeting.select(Meeting.definition, Meeting.node, Meeting.held_at)
            .where(
                (Meeting.state == "held")
                & (Meeting.held_at >= since)
                & Meeting.definition.in_(sorted(windows))
            )
            .tuples()
        ):
            held[(def_id, node_id)].append(at)
        for version, cadence in cadenced:
            key, needed = version.body["key"], int(cadence.get("count", 1))
            for node in nodes:
                if not used_at(version.body, node):
                    continue
                times = held.get((version.definition_id, node.id), [])
                due = len(windows[version.definition_id])
                on_time = sum(
                    1
                    for p in windows[version.definition_id]
                    if sum(1 for at in times if p.start <= at < p.end) >= needed
                )
                for anc in ancestors.get(node.id, ()):
                    counts[anc]["due"] += due
                    counts[anc]["on_time"] += on_time
                    counts[anc][f"{key}.due"] += due
                    counts[anc][f"{key}.on_time"] += on_time
    out: dict[int, dict[str, Any]] = {}
    for node in nodes:
        c = counts.get(node.id, {})
        by_definition = {}
        for version, _cadence in cadenced:
            key = version.body["key"]
            due, on_time = c.get(f"{key}.due", 0), c.get(f"{key}.on_time", 0)
            if due:
                by_definition[key] = {
                    "due": due,
                    "on_time": on_time,
                    "on_time_rate": _rate(on_time, due),
                }
        out[node.id] = {
            "due": c.get("due", 0),
            "on_time": c.get("on_time", 0),
            "on_time_rate": _rate(c.get("on_time", 0), c.get("due", 0)),
            "by_definition": by_definition,
        }
    return out

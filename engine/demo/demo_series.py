"""Demo series: items of a type raised month by month over the past months, with a trend.

demo.json ``series`` (item type key → how its items came in) draws the items a year-on-year
page and a change-rate fact read, e.g. petitions on a provincial platform falling by a
third this year and by two thirds in one street. From January last year to
now (so this year compares with the whole of last year), each street with compounds gets
``per_month`` items a month (a range) last year, times ``1 + change / 100`` this year
(``streets``: a street key → its own change); every item is a demo story raised at one of
the street's compounds by a holder of one of ``raise_roles`` (default: the type's) there or
above, at a random moment of its month, with
``answers`` templates (``{year}``, ``{month}``, ``{day}``, ``{date}``, ``{seq}``) for answers
a story cannot tell (a platform's number, the received date).
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from engine.core import clock
from engine.definitions.definitions import current_version
from engine.demo.demo_items import Planner
from engine.store.models import Definition, OrgNode


def _months(now: dt.datetime) -> list[tuple[int, int, float]]:
    """(year, month, share of it past) from January last year to this month, local."""
    here = clock.local(now)
    assert here is not None
    found = [(here.year - 1, m, 1.0) for m in range(1, 13)]
    found += [(here.year, m, 1.0) for m in range(1, here.month)]
    days = calendar.monthrange(here.year, here.month)[1]
    return [*found, (here.year, here.month, here.day / days)]


def _moment(
    rng: random.Random, year: int, month: int, share: float, now: dt.datetime
) -> dt.datetime:
    """A random local working-hours moment of the month's past share, before ``now``."""
    days = max(1, round(calendar.monthrange(year, month)[1] * share))
    local = dt.datetime(
        year,
        month,
        rng.randint(1, days),
        rng.randint(8, 17),
        rng.randint(0, 59),
        tzinfo=clock.LOCAL,
    )
    return min(local.astimezone(dt.UTC).replace(tzinfo=None), now - dt.timedelta(minutes=5))


def tell(
    series: Mapping[str, Any] | None,
    planner: Planner,
    rng: random.Random,
    nodes: list[OrgNode],
    *,
    now: dt.datetime,
) -> int:
    """Plan every series' items; the number planned."""
    if not series:
        return 0
    streets: dict[int, list[OrgNode]] = defaultdict(list)
    for node in nodes:
        if node.kind == "compound" and node.parent_id is not None:
            street_id = int(node.path.strip("/").split("/")[1])
            streets[street_id].append(node)
    street_nodes = {n.id: n for n in OrgNode.select().where(OrgNode.id.in_(list(streets)))}
    planned = 0
    for type_key, spec in series.items():
        definition = Definition.get_or_none(Definition.key == type_key)
        if definition is None or not definition.current:
            continue
        roles = list(spec.get("raise_roles") or current_version(definition).body["raise_roles"])
        this_year = clock.local(now).year  # type: ignore[union-attr]
        low, high = spec.get("per_month", [2, 6])
        seq = 0
        for street_id in sorted(streets):
            key = street_nodes[street_id].key if street_id in street_nodes else ""
            change = float(spec.get("streets", {}).get(key, spec.get("change", 0)))
            base = rng.uniform(float(low), float(high))
            carried = rng.random()  # fractions carried month to month keep the totals true
            for year, month, share in _months(now):
                carried += share * base * (1 + change / 100 if year == this_year else 1)
                count = int(carried)
                carried -= count
                for _ in range(count):
                    seq += 1
                    at = _moment(rng, year, month, share, now)
                    day = clock.local(at).date()  # type: ignore[union-attr]
                    values = {
                        "year": day.year,
                        "month": f"{day.month:02d}",
                        "day": f"{day.day:02d}",
                        "date": day.isoformat(),
                        "seq": seq,
                    }
                    fixed = {
                        name: str(template).format(**values)
                        for name, template in spec.get("answers", {}).items()
                    }
                    node = rng.choice(streets[street_id])
                    rng.shuffle(roles)
                    planner.add(
                        definition,
                        node,
                        planner.actors.pick(roles, node, None),
                        raised=at,
                        fixed=fixed,
                    )
                    planned += 1
    return planned

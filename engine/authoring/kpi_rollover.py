"""Rolling a KPI list over to the next period (年度任务清单的接续).

A KPI list with a yearly ``period`` stays as it is once the year is over: it shows its final
state, and the reports on its rows stay with it. Rolling it over makes a new list — a new
definition, drafted for the designer to review and publish — with the same rows, their
deadlines moved to the new year and their targets copied, so that each year's list and
its reports are kept apart.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from engine.core.errors import Conflict, FieldProblem, Invalid, NotFound
from engine.core.i18n import gettext as _
from engine.definitions.definitions import current_version
from engine.store.db import database
from engine.store.models import Definition, User
from engine.trail import audit


def _move(day: str, years: int) -> str:
    """``day`` (an ISO date) ``years`` later; 29 February becomes 28 February."""
    date = dt.date.fromisoformat(day)
    try:
        return date.replace(year=date.year + years).isoformat()
    except ValueError:
        return date.replace(year=date.year + years, day=28).isoformat()


def _renamed(text: str, old: int, new: int) -> str:
    return re.sub(rf"(?<!\d){old}(?!\d)", str(new), text)


def rolled_key(key: str, old: int, new: int) -> str:
    """The new list's key: the year in the old key replaced, else the year appended."""
    renamed = _renamed(key, old, new)
    return renamed if renamed != key else f"{key}-{new}"


def rolled_body(
    body: Mapping[str, Any], year: int, goals: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The body of ``body`` rolled over to ``year``.

    :param goals: new goal values by row key (a number, or a list with one per measure);
        rows not named keep their goals.
    :raises Invalid: the list has no yearly period, or ``year`` does not follow it.
    """
    period = body.get("period") or {}
    old = period.get("year")
    if body.get("list_kind") != "kpi" or not isinstance(old, int):
        raise Invalid(
            _("Only a KPI list with a yearly period rolls over."),
            [FieldProblem("/period", _("Only a KPI list with a yearly period rolls over."))],
        )
    if not isinstance(year, int) or isinstance(year, bool) or not old < year <= 2100:
        raise Invalid(
            _("The new year must come after %(year)s.") % {"year": old},
            [FieldProblem("year", _("The new year must come after %(year)s.") % {"year": old})],
        )
    new = copy.deepcopy(dict(body))
    new["key"] = rolled_key(body["key"], old, year)
    new["name"] = _renamed(body["name"], old, year)
    new["period"] = {"year": year}
    for row in new["rows"]:
        row["deadline"] = _move(row["deadline"], year - old)
        wanted = (goals or {}).get(row["key"])
        if wanted is None:
            continue
        values = wanted if isinstance(wanted, list) else [wanted]
        specs = row.get("measures") or ([row] if "goal" in row else [])
        for spec, value in zip(specs, values, strict=False):
            spec["goal"] = {**spec["goal"], "value": value}
    return new


def rollover(by: User, key: str, year: int, *, now: dt.datetime) -> Definition:
    """Draft the list ``key`` rolled over to ``year`` as a new definition of the same pack;
    the old list and its reports stay as they are. Audited.

    :raises NotFound: no published list ``key``.
    :raises Invalid: see :func:`rolled_body`.
    :raises Conflict: the new list's key is taken (it was rolled over already).
    """
    definition = Definition.get_or_none(Definition.key == key)
    if definition is None or not definition.current or definition.kind != "checklist":
        raise NotFound(_("No such list."))
    version = current_version(definition)
    body = rolled_body(version.body, year)
    taken = {k for (k,) in Definition.select(Definition.key).tuples()}
    if body["key"] in taken:
        raise Conflict(
            _("The list for %(year)s exists already: %(name)s")
            % {"year": year, "name": body["name"]}
        )
    with database.atomic():
        created = Definition.create(
            pack=definition.pack,
            key=body["key"],
            kind=definition.kind,
            name=body["name"],
            draft=body,
            current=0,
        )
        audit.record(
            "definition.rollover",
            at=now,
            actor=by,
            target=f"definition:{body['key']}",
            before={"from": key, "version": version.number},
            after=body,
        )
    return created

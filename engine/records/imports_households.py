"""The household import (住户导入) in bulk: a file of 10,000 rows in a few queries.

Rows are checked first, then buildings and existing households are read in chunks, and
only a file without a rejected row is written: new households with one prepared insert,
changed ones with batched updates. Each owner change is audited and reminds the
compound's commissioners (业主变动提醒), as a row-by-row import did.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from peewee import chunked

from engine.core.i18n import gettext as _
from engine.delivery.notify import notify_users, users_with_roles
from engine.org.actors import Actor
from engine.records.imports import PHONE, Outcome, Rejection, Row, node_problems, required, text
from engine.store.db import bulk_insert
from engine.store.models import OrgNode, User
from engine.store.tables import Household
from engine.trail import audit

CHUNK = 500  # keys per IN (...) list: well under SQLite's variable limit
Checked = tuple[int, str, str, dict[str, Any]]  # row number, building key, room, values


def run(actor: Actor, rows: Iterable[Row], out: Outcome, *, now: dt.datetime) -> list[Rejection]:
    """Check every row of a household file and, when none is rejected, write them all.

    :param actor: who imports; each building must lie where they may import.
    :param out: counts rows, created, updated and reminders.
    :returns: the rejected rows, by row number; nothing is written when there are any.
    """
    rejected: list[Rejection] = []
    checked: list[Checked] = []
    for number, row in rows:
        out.rows += 1
        problems, values = _cells(row, now)
        if problems:
            rejected += [Rejection(number, c, m) for c, m in problems]
        else:
            checked.append((number, text(row, "building"), text(row, "room"), values))
    buildings = _nodes({key for _n, key, _r, _v in checked})
    seen: set[tuple[int, str]] = set()
    ready: list[tuple[OrgNode, str, dict[str, Any]]] = []
    for number, key, room, values in checked:
        building = buildings.get(key)
        problems = node_problems(actor, building, key, "building", "building")
        if building is None or problems:
            rejected += [Rejection(number, c, m) for c, m in problems]
        elif (building.id, room) in seen:
            rejected.append(Rejection(number, "room", _("This room appears twice in the file.")))
        else:
            seen.add((building.id, room))
            ready.append((building, room, values))
    if rejected:
        return sorted(rejected, key=lambda r: r.row)
    _write(actor, ready, out, now)
    return []


def _cells(
    row: Mapping[str, Any], now: dt.datetime
) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """What is wrong with a row's own cells, and its values when nothing is."""
    problems = required(row, ("building", "room", "owner_name"))
    phone, area = text(row, "phone"), row.get("area")
    if phone and not PHONE.match(phone):
        problems.append(("phone", _("Not a phone number.")))
    if area not in (None, "") and (
        not isinstance(area, int | float) or isinstance(area, bool) or area <= 0
    ):
        problems.append(("area", _("Must be a number above 0.")))
    return problems, {
        "owner_name": text(row, "owner_name"),
        "phone": phone,
        "area": float(area) if area not in (None, "") else None,
        "updated_at": now,
    }


def _nodes(keys: set[str]) -> dict[str, OrgNode]:
    found: dict[str, OrgNode] = {}
    for chunk in chunked(sorted(keys), CHUNK):
        found.update((n.key, n) for n in OrgNode.select().where(OrgNode.key.in_(chunk)))
    return found


def _existing(building_ids: set[int]) -> dict[tuple[int, str], Household]:
    found: dict[tuple[int, str], Household] = {}
    for chunk in chunked(sorted(building_ids), CHUNK):
        query = Household.select(
            Household.id,
            Household.building,
            Household.room,
            Household.owner_name,
            Household.phone,
            Household.area,
        ).where(Household.building.in_(chunk))
        found.update(((h.building_id, h.room), h) for h in query)
    return found


def _write(
    actor: Actor, ready: list[tuple[OrgNode, str, dict[str, Any]]], out: Outcome, now: dt.datetime
) -> None:
    existing = _existing({b.id for b, _r, _v in ready})
    new: list[dict[str, Any]] = []
    changed: list[Household] = []
    unchanged: list[int] = []
    owner_changes: list[tuple[OrgNode, str, Household, str]] = []
    for building, room, values in ready:
        old = existing.get((building.id, room))
        if old is None:
            new.append(
                {"building": building.id, "compound": building.parent_id, "room": room, **values}
            )
            continue
        if old.owner_name != values["owner_name"]:
            owner_changes.append((building, room, old, old.owner_name))
        if (old.owner_name, old.phone, old.area) == (
            values["owner_name"],
            values["phone"],
            values["area"],
        ):
            unchanged.append(old.id)
        else:
            for name, value in values.items():
                setattr(old, name, value)
            changed.append(old)
    if new:
        bulk_insert(Household, new)
    for ids in chunked(unchanged, CHUNK):
        Household.update(updated_at=now).where(Household.id.in_(ids)).execute()
    if changed:
        Household.bulk_update(
            changed,
            fields=[Household.owner_name, Household.phone, Household.area, Household.updated_at],
            batch_size=200,
        )
    out.created += len(new)
    out.updated += len(changed) + len(unchanged)
    _remind(actor, owner_changes, out, now)


def _remind(
    actor: Actor, changes: list[tuple[OrgNode, str, Household, str]], out: Outcome, now: dt.datetime
) -> None:
    """Audit each owner change and remind the compound's commissioners of it."""
    compounds = (
        {
            n.id: n
            for n in OrgNode.select().where(OrgNode.id.in_({b.parent_id for b, *_x in changes}))
        }
        if changes
        else {}
    )
    commissioners: dict[int, list[User]] = {}
    for building, room, household, old_owner in changes:
        compound = compounds[building.parent_id]
        if compound.id not in commissioners:
            commissioners[compound.id] = users_with_roles(["commissioner"], compound.path)
        audit.record(
            "household.owner_change",
            at=now,
            actor=actor.user,
            target=f"household:{household.id}",
            before={"owner_name": old_owner},
            after={"owner_name": household.owner_name},
            detail={"compound": compound.key, "building": building.key, "room": room},
        )
        message = _("Owner change: %(compound)s %(building)s %(room)s, %(old)s → %(new)s") % {
            "compound": compound.name,
            "building": building.name,
            "room": room,
            "old": old_owner,
            "new": household.owner_name,
        }
        out.reminders += notify_users(commissioners[compound.id], None, message, now=now)

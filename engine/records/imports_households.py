"""The household import (住户导入) in bulk: a file of 10,000 rows in a few queries.

Rows are checked first, then buildings and existing households are read in chunks, and
only a file without a rejected row is written: new households with one prepared insert,
changed ones with batched updates. Each owner change is audited and reminds the
compound's commissioners (业主变动提醒), as a row-by-row import did.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from peewee import chunked

from engine.core.i18n import gettext as _
from engine.delivery.notify import notify_users, users_with_roles
from engine.org.actors import Actor
from engine.records.imports import PHONE, Outcome, Rejection, Row, node_problems, required, text
from engine.store.db import bulk_insert, bulk_update
from engine.store.models import OrgNode, User
from engine.store.tables import Household
from engine.trail import audit

AREA_TEXT = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,2})?")
CHUNK = 500  # keys per IN (...) list: well under SQLite's variable limit
COMPARED = (
    "owner_name",
    "phone",
    "area",
    "registered_area",
    "owner_key",
    "developer_held",
    "owner_user",
)
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
    accounts = _accounts({v["owner_user"] for _b, _r, v in ready if v["owner_user"]})
    for number, _key, room, values in checked:
        name = values["owner_user"]
        if name and name not in accounts:
            rejected.append(Rejection(number, "account", _("No user has this account name.")))
    if rejected:
        return sorted(rejected, key=lambda r: r.row)
    for _b, _r, values in ready:
        values["owner_user"] = accounts.get(values["owner_user"])
    _write(actor, ready, out, now)
    return []


def _column(name: str) -> str:
    """The attribute holding a compared value as stored (a foreign key's id)."""
    return "owner_user_id" if name == "owner_user" else name


def _accounts(names: set[str]) -> dict[str, int]:
    """Account name -> user id of the resident accounts a file links to its units."""
    found: dict[str, int] = {}
    for chunk in chunked(sorted(names), CHUNK):
        found.update(User.select(User.username, User.id).where(User.username.in_(chunk)).tuples())
    return found


def hundredths(value: Any) -> int | None:
    """A registered area (不动产登记面积) as whole hundredths of a m², exactly; None when it is
    not a number above 0 with at most two decimals (a cell's float is read as it prints)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    raw = repr(value) if isinstance(value, float) else str(value).strip()
    if not AREA_TEXT.fullmatch(raw):
        return None
    amount = Decimal(raw) * 100
    return int(amount) if amount == amount.to_integral_value() and amount > 0 else None


TRUE_CELLS = {"1", "true", "yes", "是", "y"}
FALSE_CELLS = {"", "0", "false", "no", "否", "n"}


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
    registered = row.get("registered_area")
    exact = hundredths(registered) if registered not in (None, "") else None
    if registered not in (None, "") and exact is None:
        problems.append(
            ("registered_area", _("Must be an area above 0 in m², with at most two decimals."))
        )
    held = row.get("developer_held")
    held_text = str(held).strip().lower() if held is not None else ""
    if held_text not in TRUE_CELLS | FALSE_CELLS:
        problems.append(("developer_held", _("Write 是 or 否.")))
    return problems, {
        "owner_name": text(row, "owner_name"),
        "phone": phone,
        "area": float(area) if area not in (None, "") else None,
        "registered_area": exact,
        "owner_key": text(row, "owner_key")[:80],
        "developer_held": held_text in TRUE_CELLS,
        "owner_user": text(row, "account"),
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
            Household.registered_area,
            Household.owner_key,
            Household.developer_held,
            Household.owner_user,
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
        if all(getattr(old, _column(n)) == values[n] for n in COMPARED):
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
        bulk_update(
            Household,
            changed,
            [getattr(Household, n) for n in (*COMPARED, "updated_at")],
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

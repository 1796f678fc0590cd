"""The building roster (一名党员一幢楼, 楼栋长制度): who is in charge of each building of a
compound, for each role the compound profile's ``building_roster`` declares.

Each assignment is a name and a phone in the building node's own file (``<role>`` and
``<role>_phone``; the Excel import writes ``party_member`` the same way). Where a
compound's buildings carry assignments, the file fields the roster names are computed
from them for the facts — the number of buildings, the buildings with each role filled,
a role's "has a system" flag — instead of the numbers typed into the compound's file.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.core.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from engine.core.i18n import gettext as _
from engine.org.actors import Actor
from engine.org.permissions import can
from engine.org.scope import path_under
from engine.records.profiles import profile_version
from engine.store.db import write_transaction
from engine.store.models import OrgNode
from engine.trail import audit
from forms.formats import is_phone

NAME_LENGTH = 20


@dataclass(frozen=True)
class RosterRole:
    """One role a building may have someone for: its file fields and where it counts."""

    key: str
    label: str
    count: str | None = None  # the compound file's integer field: buildings with one
    flag: str | None = None  # the compound file's boolean field: true once any building has one


@dataclass(frozen=True)
class Roster:
    """A compound profile's ``building_roster``."""

    roles: tuple[RosterRole, ...]
    count: str | None = None  # the compound file's integer field: its number of buildings


def roster_of(body: Mapping[str, Any]) -> Roster | None:
    """The roster a profile definition declares, or None."""
    spec = body.get("building_roster")
    if not isinstance(spec, Mapping):
        return None
    roles = tuple(
        RosterRole(r["key"], r["label"], r.get("count"), r.get("flag")) for r in spec["roles"]
    )
    return Roster(roles, spec.get("count"))


def roster_for(node: OrgNode | str = "compound") -> Roster | None:
    """The roster of ``node``'s profile definition, or of a kind of node's (None: the pack
    declares none)."""
    try:
        return roster_of(profile_version(node).body)
    except NotFound:
        return None


def overlay(
    profile: Mapping[str, Any], buildings: Sequence[Mapping[str, Any]], roster: Roster
) -> dict[str, Any]:
    """The compound's file with the fields the roster computes from its buildings' files.

    A role's fields are computed only once some building has someone for it; the number
    of buildings once any role is. Without assignments the file stays as typed.
    """
    out = dict(profile)
    used = False
    for role in roster.roles:
        filled = sum(1 for b in buildings if (b or {}).get(role.key))
        if not filled:
            continue
        used = True
        if role.count:
            out[role.count] = filled
        if role.flag:
            out[role.flag] = True
    if used and roster.count:
        out[roster.count] = len(buildings)
    return out


def file_with_roster(node: OrgNode) -> dict[str, Any]:
    """``node``'s file as the facts read it: with what its buildings' roster computes."""
    roster = roster_for(node) if node.kind == "compound" else None
    files = building_files([node.id]).get(node.id) if roster else None
    return (
        overlay(node.profile or {}, files, roster) if roster and files else dict(node.profile or {})
    )


def building_files(compound_ids: Iterable[int] | None = None) -> dict[int, list[dict[str, Any]]]:
    """The building files of each compound by compound id, in one query."""
    query = OrgNode.select(OrgNode.parent, OrgNode.profile).where(OrgNode.kind == "building")
    if compound_ids is not None:
        query = query.where(OrgNode.parent.in_(list(compound_ids)))
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for parent_id, profile in query.order_by(OrgNode.id).tuples():
        found[parent_id].append(profile if isinstance(profile, dict) else {})
    return found


@dataclass(frozen=True)
class Coverage:
    """How many of a compound's buildings have someone for each role (by role key)."""

    buildings: int
    filled: dict[str, int]

    def rate(self, role: str) -> float | None:
        if not self.buildings:
            return None
        return round(100 * self.filled.get(role, 0) / self.buildings, 2)


def coverage(roster: Roster, files: Sequence[Mapping[str, Any]]) -> Coverage:
    return Coverage(
        len(files), {r.key: sum(1 for f in files if (f or {}).get(r.key)) for r in roster.roles}
    )


def buildings_of(compound: OrgNode) -> list[OrgNode]:
    """The compound's buildings, in their order."""
    return list(
        OrgNode.select()
        .where((OrgNode.parent == compound.id) & (OrgNode.kind == "building"))
        .order_by(OrgNode.id)
    )


def compounds_coverage(
    actor: Actor, roster: Roster, within: OrgNode | None = None
) -> list[tuple[OrgNode, Coverage]]:
    """Each compound the actor may see the roster of (under ``within``), with its coverage:
    two queries whatever the number of compounds."""
    query = OrgNode.select().where(OrgNode.kind == "compound").order_by(OrgNode.path)
    if within is not None:
        query = query.where(path_under(OrgNode.path, within.path))
    compounds = [c for c in query if can(actor, "roster.view", c)]
    files = building_files(c.id for c in compounds)
    return [(c, coverage(roster, files.get(c.id, []))) for c in compounds]


def may_edit(actor: Actor, compound: OrgNode) -> bool:
    return can(actor, "roster.edit", compound)


def may_view(actor: Actor, compound: OrgNode) -> bool:
    return can(actor, "roster.view", compound)


def clean(roster: Roster, answers: Mapping[str, Any]) -> dict[str, str]:
    """The roster's answers for one building (name and phone per role), trimmed.

    :raises Invalid: a name too long, a phone that is no phone number, a phone without a
        name; each problem names its field (``<role>``, ``<role>_phone``).
    """
    cleaned: dict[str, str] = {}
    problems = []
    for role in roster.roles:
        name = str(answers.get(role.key) or "").strip()
        phone = str(answers.get(f"{role.key}_phone") or "").strip().replace(" ", "")
        if len(name) > NAME_LENGTH:
            problems.append(
                FieldProblem(role.key, _("At most %(n)s characters.") % {"n": NAME_LENGTH})
            )
        if phone and not is_phone(phone):
            problems.append(
                FieldProblem(f"{role.key}_phone", _("Enter a valid mobile or landline number."))
            )
        elif phone and not name:
            problems.append(FieldProblem(role.key, _("Enter the name that goes with the phone.")))
        cleaned[role.key], cleaned[f"{role.key}_phone"] = name, phone
    if problems:
        raise Invalid(_("Some answers need fixing."), problems)
    return cleaned


def assign(
    actor: Actor,
    compound: OrgNode,
    building_key: str,
    answers: Mapping[str, Any],
    *,
    expected: int | None,
    now: dt.datetime,
) -> OrgNode:
    """Put people in charge of one building of ``compound`` (or clear them), atomically and
    audited (``building.assign``, the fields before and after).

    :param expected: the building file's version the form showed; None skips the check.
    :raises Forbidden: the actor may not assign at this compound.
    :raises NotFound: no such building in the compound, or no roster declared.
    :raises Invalid: the answers (see :func:`clean`).
    :raises Conflict: someone saved this building since version ``expected``.
    """
    if not may_edit(actor, compound):
        raise Forbidden(_("You may not assign people to this compound's buildings."))
    roster = roster_for(compound)
    if roster is None:
        raise NotFound(_("The pack declares no building roster."))
    cleaned = clean(roster, answers)
    with write_transaction():
        building = OrgNode.get_or_none(
            (OrgNode.key == building_key)
            & (OrgNode.parent == compound.id)
            & (OrgNode.kind == "building")
        )
        if building is None:
            raise NotFound(_("No such building in this compound."))
        stored = dict(building.profile or {})
        new = {**stored, **{k: v for k, v in cleaned.items() if v}}
        for key in [k for k, v in cleaned.items() if not v]:
            new.pop(key, None)
        before = {k: stored[k] for k in cleaned if stored.get(k) != new.get(k) and k in stored}
        after = {k: new[k] for k in cleaned if stored.get(k) != new.get(k) and k in new}
        if not before and not after:
            return building
        lock = building.profile_lock if expected is None else expected
        won = (
            OrgNode.update(profile=new, profile_lock=OrgNode.profile_lock + 1)
            .where((OrgNode.id == building.id) & (OrgNode.profile_lock == lock))
            .execute()
        )
        if not won:
            raise Conflict(_("Someone else changed this building after you opened it."))
        building.profile, building.profile_lock = new, lock + 1
        audit.record(
            "building.assign",
            at=now,
            actor=actor.user,
            target=f"building:{building.key}",
            before=before,
            after=after,
            detail={"compound": compound.key, "version": lock + 1},
        )
    return building

"""The compound file (一小区一档案): edited through its profile definition's generated
form, with a history of changes, and the 一名党员一幢楼 coverage computed from it.

The compound's commissioner edits its file, and supervisors and admins above it; the
three parties of the compound read it. Every save is an audit event holding only the
fields that changed (before and after).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import forms
from engine import audit, i18n
from engine.actors import Actor
from engine.db import database
from engine.definitions import current_versions
from engine.errors import FieldProblem, Forbidden, Invalid, NotFound
from engine.i18n import gettext as _
from engine.models import DefinitionVersion, Event, OrgNode

EDITORS = ("supervisor", "admin")
READERS = ("party", "committee", "property")


def profile_version(kind: str = "compound") -> DefinitionVersion:
    """The current profile definition for nodes of ``kind``.

    :raises NotFound: the pack defines none.
    """
    for version in current_versions("profile"):
        if version.body.get("node_kind") == kind:
            return version
    raise NotFound(_("No profile is defined for this kind of node."))


def may_edit(actor: Actor, node: OrgNode) -> bool:
    if node.kind != "compound":
        return False
    if any(g.role == "commissioner" and g.node_id == node.id for g in actor.grants):
        return True
    return any(actor.reaches(role, node.path) for role in EDITORS)


def may_view(actor: Actor, node: OrgNode) -> bool:
    return may_edit(actor, node) or (node.kind == "compound" and any(actor.reaches(r, node.path) for r in READERS))


def context_of(node: OrgNode) -> dict[str, Any]:
    return {"node": {"key": node.key, "kind": node.kind, "name": node.name}}


def clean(node: OrgNode, data: Any, prefix: str = "data") -> dict[str, Any]:
    """The answers as the profile form accepts them.

    :raises Invalid: with one problem per field.
    """
    schema = profile_version(node.kind).body["schema"]
    cleaned, errors = forms.validate(schema, data, context=context_of(node), gettext=i18n.gettext)
    if errors:
        raise Invalid(_("Some answers need fixing."),
                      [FieldProblem(f"{prefix}/{e.path}" if e.path else prefix, e.message) for e in errors])
    return dict(cleaned)


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ, as (before, after)."""
    names = [n for n in sorted(set(before) | set(after)) if before.get(n) != after.get(n)]
    return {n: before.get(n) for n in names if n in before}, {n: after.get(n) for n in names if n in after}


def write(actor: Actor, node: OrgNode, cleaned: Mapping[str, Any], *, now: dt.datetime, source: str) -> list[str]:
    """Store an already cleaned file and audit the change; call inside a transaction.

    Returns the names of the fields that changed.
    """
    old, new = changes(node.profile or {}, cleaned)
    if not old and not new:
        return []
    OrgNode.update(profile=dict(cleaned)).where(OrgNode.id == node.id).execute()
    node.profile = dict(cleaned)
    audit.record("profile.update", at=now, actor=actor.user, target=f"profile:{node.key}",
                 before=old, after=new, detail={"source": source})
    return sorted(set(old) | set(new))


def save(actor: Actor, node: OrgNode, data: Any, *, now: dt.datetime) -> list[str]:
    """Replace the compound's file with ``data`` through its form.

    :raises Forbidden: not the compound's commissioner nor a supervisor above it.
    :raises Invalid: the answers do not pass the form.
    """
    if not may_edit(actor, node):
        raise Forbidden(_("You may not edit this compound's file."))
    cleaned = clean(node, data)
    with database.atomic():
        return write(actor, node, cleaned, now=now, source="form")


def history(node: OrgNode) -> list[Event]:
    """The file's changes, newest first."""
    return list(Event.select().where(Event.target == f"profile:{node.key}").order_by(Event.at.desc(), Event.id.desc()))


@dataclass(frozen=True)
class BuildingCoverage:
    """一名党员一幢楼: how many buildings have a party member in charge."""

    buildings: int
    covered: int
    source: str  # "buildings" (each building's party_member) or "profile" (the file's counts)
    uncovered: tuple[str, ...] = ()

    @property
    def rate(self) -> float | None:
        return round(100 * self.covered / self.buildings, 2) if self.buildings else None


def party_member_coverage(node: OrgNode) -> BuildingCoverage:
    """From the compound's buildings when any names its party member, else from its file."""
    buildings = list(OrgNode.select().where((OrgNode.parent == node) & (OrgNode.kind == "building"))
                     .order_by(OrgNode.id))
    if any((b.profile or {}).get("party_member") for b in buildings):
        uncovered = tuple(b.name for b in buildings if not (b.profile or {}).get("party_member"))
        return BuildingCoverage(len(buildings), len(buildings) - len(uncovered), "buildings", uncovered)
    profile = node.profile or {}
    total = profile.get("buildings") if isinstance(profile.get("buildings"), int) else len(buildings)
    covered = profile.get("party_member_buildings") if isinstance(profile.get("party_member_buildings"), int) else 0
    return BuildingCoverage(total, min(covered, total), "profile")

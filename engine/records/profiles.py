"""The compound file (一小区一档案): edited through its profile definition's generated
form, with a history of changes; the facts its definition declares, and the 一名党员一幢楼
coverage of its buildings.

The compound's commissioner edits its file, and supervisors and admins above it; the
three parties of the compound read it. Every save is an audit event holding only the
fields that changed (before and after).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from peewee import JOIN

import forms
from engine.core import i18n
from engine.core.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from engine.core.i18n import gettext as _
from engine.definitions.definitions import applies_at, current_versions, scope_path
from engine.definitions.profile_facts import FileFacts
from engine.org.actors import Actor
from engine.org.permissions import can
from engine.store.db import write_transaction
from engine.store.models import DefinitionVersion, Event, Grant, OrgNode, User
from engine.trail import audit


def profile_version(node: OrgNode | str = "compound") -> DefinitionVersion:
    """The current profile definition of ``node`` (its kind, applying there: the one with the
    narrowest ``scope``), or for a kind of node in general (preferring one without a scope).

    :raises NotFound: the pack defines none.
    """
    kind = node if isinstance(node, str) else node.kind
    found: list[tuple[int, DefinitionVersion]] = []
    for version in current_versions("profile"):
        if version.body.get("node_kind") != kind:
            continue
        where = scope_path(version.body)
        if isinstance(node, str):
            found.append((int(where is None), version))
        elif applies_at(version.body, node.path):
            found.append((len(where or ""), version))
    if not found:
        raise NotFound(_("No profile is defined for this kind of node."))
    return max(found, key=lambda pair: pair[0])[1]


def may_edit(actor: Actor, node: OrgNode) -> bool:
    return can(actor, "profile.edit", node)


def may_view(actor: Actor, node: OrgNode) -> bool:
    return can(actor, "profile.view", node)


def context_of(node: OrgNode) -> dict[str, Any]:
    return {"node": {"key": node.key, "kind": node.kind, "name": node.name}}


def clean(node: OrgNode, data: Any, prefix: str = "data") -> dict[str, Any]:
    """The answers as the profile form accepts them.

    :raises Invalid: with one problem per field.
    """
    schema = profile_version(node).body["schema"]
    cleaned, errors = forms.validate(schema, data, context=context_of(node), gettext=i18n.gettext)
    if errors:
        raise Invalid(
            _("Some answers need fixing."),
            [FieldProblem(f"{prefix}/{e.path}" if e.path else prefix, e.message) for e in errors],
        )
    return dict(cleaned)


def changes(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ, as (before, after)."""
    names = [n for n in sorted(set(before) | set(after)) if before.get(n) != after.get(n)]
    return {n: before.get(n) for n in names if n in before}, {
        n: after.get(n) for n in names if n in after
    }


def write(
    actor: Actor,
    node: OrgNode,
    cleaned: Mapping[str, Any],
    *,
    now: dt.datetime,
    source: str,
    expected: int | None = None,
) -> list[str]:
    """Store an already cleaned file and audit the change; call inside a transaction.

    The file is compared with what is stored now, and stored only if its version is
    still ``expected`` (the one the editor's form showed; None: the one read here), in
    one UPDATE: a save made from a stale form never silently reverts someone's change.
    Returns the names of the fields that changed.

    :raises Conflict: the file was saved by someone else since version ``expected``.
    """
    stored = OrgNode.get_by_id(node.id)
    old, new = changes(stored.profile or {}, cleaned)
    if not old and not new:
        return []
    lock = stored.profile_lock if expected is None else expected
    won = (
        OrgNode.update(profile=dict(cleaned), profile_lock=OrgNode.profile_lock + 1)
        .where((OrgNode.id == node.id) & (OrgNode.profile_lock == lock))
        .execute()
    )
    if not won:
        raise Conflict(_("Someone else saved this compound's file after you opened it."))
    node.profile, node.profile_lock = dict(cleaned), lock + 1
    audit.record(
        "profile.update",
        at=now,
        actor=actor.user,
        target=target_of(node),
        before=old,
        after=new,
        detail={"source": source, "version": lock + 1},
    )
    return sorted(set(old) | set(new))


def save(
    actor: Actor, node: OrgNode, data: Any, *, expected: int | None, now: dt.datetime
) -> list[str]:
    """Replace the compound's file with ``data`` through its form.

    :param expected: the file's version (``profile_lock``) the form showed; None skips the check.
    :raises Forbidden: not the compound's commissioner nor a supervisor above it.
    :raises Invalid: the answers do not pass the form.
    :raises Conflict: someone else saved the file since version ``expected``.
    """
    if not may_edit(actor, node):
        raise Forbidden(_("You may not edit this compound's file."))
    cleaned = clean(node, data)
    with write_transaction():
        return write(actor, node, cleaned, now=now, source="form", expected=expected)


def target_of(node: OrgNode) -> str:
    """The audit target of the node's file."""
    return f"profile:{node.key}"


def history(node: OrgNode) -> list[Event]:
    """The file's changes, newest first."""
    return list(
        Event.select(Event, User)
        .join(User, JOIN.LEFT_OUTER, on=(Event.actor == User.id))
        .where(Event.target == target_of(node))
        .order_by(Event.at.desc(), Event.id.desc())
    )


_DECLARED: dict[str, FileFacts] = {}


def file_facts(kind: str = "compound") -> FileFacts | None:
    """The facts the current profile definition of ``kind`` declares (None without one)."""
    try:
        version = profile_version(kind)
    except NotFound:
        return None
    if version.digest not in _DECLARED:  # the same body always declares the same facts
        _DECLARED[version.digest] = FileFacts(version.body)
    return _DECLARED[version.digest]


def derived_facts(node: OrgNode) -> list[tuple[str, Any]]:
    """The facts the pack derives from ``node``'s file, as (label, value), in its order."""
    from engine.records.buildings import file_with_roster  # it builds on this module

    declared = file_facts(node.kind)
    if declared is None:
        return []
    roles = [r for (r,) in Grant.select(Grant.role).where(Grant.node == node).distinct().tuples()]
    values = declared.of_file(file_with_roster(node), roles)
    return [(f.label, values[f.key]) for f in declared.facts if f.rule is not None]


@dataclass(frozen=True)
class BuildingCoverage:
    """一名党员一幢楼 from the buildings: how many name a party member in charge."""

    buildings: int
    covered: int
    uncovered: tuple[str, ...] = ()

    @property
    def rate(self) -> float | None:
        return round(100 * self.covered / self.buildings, 2) if self.buildings else None


def party_member_coverage(node: OrgNode) -> BuildingCoverage | None:
    """From the compound's buildings when any names its party member (the org import's
    ``party_member``), else None: the file's own counts are facts the pack derives."""
    buildings = list(
        OrgNode.select()
        .where((OrgNode.parent == node) & (OrgNode.kind == "building"))
        .order_by(OrgNode.id)
    )
    if not any((b.profile or {}).get("party_member") for b in buildings):
        return None
    uncovered = tuple(b.name for b in buildings if not (b.profile or {}).get("party_member"))
    return BuildingCoverage(len(buildings), len(buildings) - len(uncovered), uncovered)

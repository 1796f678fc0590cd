"""Excel imports of the org tree, compound files and households, all or nothing.

Rows arrive as ``(row number, {column: value})``. Each row is checked and applied in
one transaction; when any row is rejected the transaction is rolled back and the
outcome lists every rejected row with its column and why. Compound files go through
the profile definition's form (the same ``forms.validate`` as the page). Admins
import anywhere, supervisors inside their subtree. A household whose owner changes
sends the compound's commissioner an owner-change reminder (业主变动提醒).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.core.errors import Invalid
from engine.core.i18n import gettext as _
from engine.org.actors import Actor
from engine.org.permissions import can, roles_of
from engine.records import profiles
from engine.records.forms_cells import cell_value
from engine.store.db import database
from engine.store.models import OrgNode
from engine.store.tables import Household
from engine.trail import audit

IMPORTERS = roles_of("import")
PARENT_KIND = {
    "street": "district",
    "community": "street",
    "compound": "community",
    "building": "compound",
}
KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
PHONE = re.compile(r"^[0-9+\-() ]{5,20}$")
Row = tuple[int, Mapping[str, Any]]


@dataclass(frozen=True)
class Rejection:
    row: int
    column: str
    message: str


@dataclass
class Outcome:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    reminders: int = 0
    skipped: int = 0  # rows already imported (an item import's unique answer)
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def imported(self) -> bool:
        return not self.rejected


def _examples() -> tuple[str, OrgNode | None]:
    """A compound key and a building of this district, so the template's example row is real."""
    compound = (
        OrgNode.select(OrgNode.key).where(OrgNode.kind == "compound").order_by(OrgNode.id).first()
    )
    building = OrgNode.select().where(OrgNode.kind == "building").order_by(OrgNode.id).first()
    return (compound.key if compound else "compound-key"), building


def columns(kind: str) -> list[tuple[str, Any]]:
    """The template's columns and an example value each (names from the district's own
    data: its first building and household; empty where it has none)."""
    compound, building = _examples()
    if kind == "org":
        return [
            ("key", f"{compound}-new"),
            ("name", building.name if building else ""),
            ("kind", "building"),
            ("parent", compound),
            ("party_member", (building.profile or {}).get("party_member", "") if building else ""),
        ]
    if kind == "households":
        owner = Household.select(Household.owner_name).order_by(Household.id).first()
        return [
            ("building", building.key if building else "building-key"),
            ("room", "1-101"),
            ("owner_name", owner.owner_name if owner else ""),
            ("phone", "13800000000"),
            ("area", 89.5),
            ("registered_area", "89.52"),
            ("owner_key", ""),
            ("developer_held", "否"),
            ("account", ""),
        ]
    props = profiles.profile_version().body["schema"]["properties"]
    examples = {"boolean": True, "integer": 10, "number": 95.5, "string": "…"}
    cols: list[tuple[str, Any]] = [("compound", compound)]
    for name, spec in props.items():
        if spec.get("type") in examples:
            cols.append((name, spec["enum"][0] if spec.get("enum") else examples[spec["type"]]))
    return cols


def may_import(actor: Actor, node: OrgNode) -> bool:
    return can(actor, "import", node)


def run(actor: Actor, kind: str, rows: Iterable[Row], *, now: dt.datetime) -> Outcome:
    """Check and apply ``rows`` of ``kind`` (org, profiles, households) in one transaction.

    :param actor: who imports; every row's node must lie where they may import.
    :param now: the time written on the rows and their audit events.
    :returns: the counts, and every rejected row; when there is one nothing was written.
    """
    from engine.records import imports_households

    outcome = Outcome(kind)
    with database.atomic() as transaction:
        if kind == "households":
            outcome.rejected = imports_households.run(actor, rows, outcome, now=now)
        else:
            _by_row(actor, _org_row if kind == "org" else _profile_row, rows, outcome, now)
        if outcome.rejected:
            transaction.rollback()
            outcome.created = outcome.updated = outcome.reminders = 0
    return outcome


def _by_row(
    actor: Actor, apply: Any, rows: Iterable[Row], outcome: Outcome, now: dt.datetime
) -> None:
    seen: set[Any] = set()
    for number, row in rows:
        outcome.rows += 1
        outcome.rejected += [
            Rejection(number, c, m) for c, m in apply(actor, row, outcome, seen, now)
        ]


def text(row: Mapping[str, Any], name: str) -> str:
    value = row.get(name)
    return "" if value is None else str(value).strip()


def required(row: Mapping[str, Any], names: Iterable[str]) -> list[tuple[str, str]]:
    return [(n, _("This field is required.")) for n in names if not text(row, n)]


def node_problems(
    actor: Actor, node: OrgNode | None, key: str, kind: str, column: str
) -> list[tuple[str, str]]:
    """Why the row's ``node`` (found by ``key``, or not) cannot be imported into."""
    if node is None:
        return [(column, _("Org node %(key)s does not exist.") % {"key": key})]
    if node.kind != kind:
        return [(column, _("%(key)s is not a %(kind)s.") % {"key": key, "kind": kind})]
    if not may_import(actor, node):
        return [(column, _("%(key)s lies outside what you may import.") % {"key": key})]
    return []


def _node(
    actor: Actor, key: str, kind: str, column: str
) -> tuple[OrgNode | None, list[tuple[str, str]]]:
    node = OrgNode.get_or_none(OrgNode.key == key)
    problems = node_problems(actor, node, key, kind, column)
    return (None if problems else node), problems


def _org_row(
    actor: Actor, row: Mapping[str, Any], out: Outcome, seen: set[Any], now: dt.datetime
) -> list[Any]:
    problems = required(row, ("key", "name", "kind", "parent"))
    key, kind = text(row, "key"), text(row, "kind")
    if key and not KEY.match(key):
        problems.append(("key", _("Use lower-case letters, digits and dashes.")))
    if key in seen:
        problems.append(("key", _("This key appears twice in the file.")))
    if kind and kind not in PARENT_KIND:
        problems.append(
            ("kind", _("Must be one of: %(values)s.") % {"values": ", ".join(PARENT_KIND)})
        )
    if problems:
        return problems
    seen.add(key)
    parent, problems = _node(actor, text(row, "parent"), PARENT_KIND[kind], "parent")
    if parent is None:
        return problems
    extra = (
        {"party_member": text(row, "party_member")}
        if kind == "building" and text(row, "party_member")
        else {}
    )
    node = OrgNode.get_or_none(OrgNode.key == key)
    if node is None:
        node = OrgNode.create(
            key=key,
            name=text(row, "name"),
            kind=kind,
            parent=parent,
            path="",
            keys=[],
            profile=extra,
        )
        OrgNode.update(path=f"{parent.path}{node.id}/", keys=[*parent.keys, key]).where(
            OrgNode.id == node.id
        ).execute()
        out.created += 1
    elif node.kind != kind or node.parent_id != parent.id:
        return [
            (
                "parent",
                _("%(key)s exists elsewhere in the tree; moving nodes is not imported.")
                % {"key": key},
            )
        ]
    else:
        # The file is rewritten only for what the row brings (a building's party member):
        # rewriting the one read above would revert a file saved in between.
        fields: dict[str, Any] = {"name": text(row, "name")}
        if extra:
            fields.update(
                profile={**(node.profile or {}), **extra}, profile_lock=OrgNode.profile_lock + 1
            )
        OrgNode.update(**fields).where(OrgNode.id == node.id).execute()
        out.updated += 1
    audit.record(
        "org.import",
        at=now,
        actor=actor.user,
        target=f"node:{key}",
        after={"name": text(row, "name"), "kind": kind, "parent": parent.key, **extra},
    )
    return []


def _profile_row(
    actor: Actor, row: Mapping[str, Any], out: Outcome, seen: set[Any], now: dt.datetime
) -> list[Any]:
    problems = required(row, ("compound",))
    if problems:
        return problems
    key = text(row, "compound")
    if key in seen:
        return [("compound", _("This compound appears twice in the file."))]
    seen.add(key)
    node, problems = _node(actor, key, "compound", "compound")
    if node is None:
        return problems
    props = profiles.profile_version(node).body["schema"]["properties"]
    given: dict[str, Any] = {}
    for name, value in row.items():
        if name == "compound" or value is None or value == "":
            continue
        converted, problem = cell_value(props.get(name, {}), value)
        if problem:
            problems.append((name, problem))
        else:
            given[name] = converted
    try:
        cleaned = profiles.clean(node, {**(node.profile or {}), **given}, prefix="")
    except Invalid as exc:
        reported = {name for name, _m in problems}
        problems += [(p.path.strip("/").split("/")[0] or "compound", p.message) for p in exc.fields]
        return [p for i, p in enumerate(problems) if i < len(reported) or p[0] not in reported]
    if problems:
        return problems
    if profiles.write(actor, node, cleaned, now=now, source="import"):
        out.updated += 1
    return []

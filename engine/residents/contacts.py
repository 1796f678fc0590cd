"""The people to call (叫得应): a compound's contact card, read from its file.

Which fields of the compound file (一小区一档案) form the card is the profile
definition's ``contact_card``: a list of entries, each with a ``label`` and the names of
the file's fields holding a ``name``, a ``person``, a ``phone``, an ``address`` and
``hours``; an entry with ``list`` takes one line per row of that array field (service
points, building leaders), its names then naming the row's fields. No Python here knows
a field's name.

The card holds names and phone numbers: it is shown to the compound's own residents
only (capability ``contacts``, reach ``within``: a resident of the compound or of one
of its buildings).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.core.errors import Forbidden, NotFound
from engine.core.i18n import gettext as _
from engine.definitions.checks_residents import PARTS
from engine.org.actors import Actor
from engine.org.permissions import can
from engine.store.models import OrgNode

_DIALABLE = re.compile(r"[^0-9+]")


@dataclass(frozen=True)
class Line:
    """One person or place to reach: what it is, who, where, when, and the number to dial."""

    name: str = ""
    person: str = ""
    phone: str = ""
    address: str = ""
    hours: str = ""

    @property
    def dial(self) -> str:
        """The number as a ``tel:`` link dials it: digits and a leading plus only."""
        return _DIALABLE.sub("", self.phone)

    @property
    def empty(self) -> bool:
        return not any(getattr(self, part) for part in PARTS)


@dataclass(frozen=True)
class Group:
    """One entry of the card: its label (小区专员, 固定服务点 ...) and its lines."""

    label: str
    lines: tuple[Line, ...] = field(default_factory=tuple)


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, (dict, list, bool)) else str(value).strip()


def _line(entry: Mapping[str, Any], source: Mapping[str, Any]) -> Line:
    return Line(**{part: _text(source.get(entry[part])) for part in PARTS if entry.get(part)})


def card_of(profile: Mapping[str, Any], spec: Any) -> list[Group]:
    """The card of a file ``profile`` as the definition's ``contact_card`` ``spec`` says;
    entries with nothing filled in are left out.

    :param spec: the profile definition's ``contact_card`` (None: no card).
    """
    groups = []
    for entry in (spec or {}).get("entries", []):
        if entry.get("list"):
            rows = profile.get(entry["list"])
            rows = rows if isinstance(rows, list) else []
            lines = [_line(entry, row) for row in rows if isinstance(row, Mapping)]
        else:
            lines = [_line(entry, profile)]
        kept = tuple(line for line in lines if not line.empty)
        if kept:
            groups.append(Group(str(entry["label"]), kept))
    return groups


def compound_of(node: OrgNode) -> OrgNode:
    """The compound a node lies in (itself for a compound; a building's parent compound).

    :raises NotFound: the node lies in no compound.
    """
    if node.kind == "compound":
        return node
    compound = (
        OrgNode.select()
        .where((OrgNode.kind == "compound") & OrgNode.key.in_(list(node.keys or [])))
        .first()
    )
    if compound is None:
        raise NotFound(_("Not found."))
    return compound


def card(actor: Actor, compound: OrgNode) -> list[Group]:
    """The contact card of ``compound`` for ``actor``, one of its own residents.

    :raises Forbidden: the actor lives elsewhere (the card holds phone numbers).
    """
    from engine.records.profiles import profile_version

    if not can(actor, "contacts", compound):
        raise Forbidden(_("Only the compound's own residents see its contacts."))
    try:
        spec = profile_version(compound).body.get("contact_card")
    except NotFound:
        return []
    return card_of(compound.profile or {}, spec)

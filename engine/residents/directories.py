"""Directories (名录): registers of entries kept at org nodes — the social organisations of a
community (社会组织名录), the volunteer projects of a compound, the in-service party members
who reported to it (在职党员报到), the party organisations of the property industry.

A ``directory`` definition names the node kinds its entries are kept at, the form of an
entry (``schema``), who adds, edits and retires entries (``edit_roles``) and who reads them
(``read_roles``), and optionally a target ``min_per_node``. Personal answers (``x-personal``)
are masked for readers outside ``personal_roles`` (default: ``edit_roles``). Entries are
never deleted: they are retired, with a reason, and every change is audited. The facts
(``directories.<key>.…``) are computed in ``engine/residents/facts.py``.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Iterable, Mapping
from functools import reduce
from typing import Any

from peewee import fn

import forms
from engine.core.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from engine.core.i18n import gettext as _
from engine.definitions.definitions import applies_at, applies_where, current_versions
from engine.org.actors import Actor
from engine.org.scope import path_like, path_pattern
from engine.residents import listings
from engine.store.db import write_transaction
from engine.store.models import DefinitionVersion, OrgNode
from engine.store.prepared import padded, padded_slots, prepared, prepared_cursor
from engine.store.resident_tables import DirectoryEntry
from engine.trail import audit
from engine.trail.privacy import mask


def definitions() -> list[DefinitionVersion]:
    """The current version of every directory, by key (one query, once per request)."""
    return current_versions("directory", by_key=True)


def version_of(key: str) -> DefinitionVersion:
    """:raises NotFound: no published directory ``key``."""
    for version in definitions():
        if version.definition.key == key:
            return version
    raise NotFound(_("Not found."))


def body_of(entry: DirectoryEntry) -> dict[str, Any]:
    from engine.definitions.runtimes import runtime

    return dict(runtime(entry.version_id).body)  # versions never change: cached


def _readers(body: Mapping[str, Any]) -> set[str]:
    return set(body.get("read_roles") or ()) | set(body["edit_roles"])


def may_read(actor: Actor, body: Mapping[str, Any], node: OrgNode) -> bool:
    """Holders of a reading or editing role at the node, above it or below it (a compound's
    commissioner reads its community's directory) read its entries."""
    readers = _readers(body)
    return applies_at(body, node.path) and any(
        g.role in readers
        and (node.path.startswith(g.node_path) or g.node_path.startswith(node.path))
        for g in actor.grants
    )


def may_edit(actor: Actor, body: Mapping[str, Any], node: OrgNode) -> bool:
    """Holders of an editing role at the node or above add, edit and retire its entries."""
    return (
        node.kind in body["node_kinds"]
        and applies_at(body, node.path)
        and any(actor.reaches(role, node.path) for role in body["edit_roles"])
    )


def sees_personal(actor: Actor, body: Mapping[str, Any], node: OrgNode) -> bool:
    """Whether ``actor`` needs the personal answers of entries at ``node`` whole."""
    roles = body.get("personal_roles") or body["edit_roles"]
    return any(actor.reaches(role, node.path) for role in roles)


def reach(actor: Actor, body: Mapping[str, Any]) -> list[str]:
    """The paths of the subtrees ``actor`` reads the directory in (none inside another)."""
    paths = sorted({g.node_path for g in actor.grants if g.role in _readers(body)})
    return [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]


def _ancestor_ids(paths: Iterable[str]) -> list[int]:
    return sorted({int(p) for path in paths for p in path.strip("/").split("/")[:-1]})


# A place a directory is kept at, as its list shows it: not the node's file.
PLACE_COLUMNS = (OrgNode.id, OrgNode.key, OrgNode.name, OrgNode.kind, OrgNode.path)
AREA_KINDS = ("street", "community")  # what a directory's list groups its places by


def places(paths: list[str], kinds: Iterable[str]) -> list[dict[str, Any]]:
    """The nodes of ``kinds`` in the subtrees at ``paths`` or above them, by path, as dicts
    of ``PLACE_COLUMNS`` (one prepared query, built once per number of paths and kinds)."""
    if not paths:
        return []
    kinds = padded("kind", sorted(set(kinds)))
    # the root has no ancestors; no node has id 0
    above = padded("above", _ancestor_ids(paths) or [0])
    values = {**kinds, **above, **{f"path{i}": path_pattern(p) for i, p in enumerate(paths)}}

    def build(**slots: Any) -> Any:
        under = reduce(
            operator.or_, [path_like(OrgNode.path, slots[f"path{i}"]) for i in range(len(paths))]
        )
        return (
            OrgNode.select(*PLACE_COLUMNS)
            .where(
                OrgNode.kind.in_(padded_slots("kind", slots))
                & (under | OrgNode.id.in_(padded_slots("above", slots)))
            )
            .order_by(OrgNode.path)
        )

    key = ("directories.places", len(paths), len(kinds), len(above))
    names = [f.name for f in PLACE_COLUMNS]  # text and ids: nothing to convert
    return [dict(zip(names, row, strict=True)) for row in prepared_cursor(key, build, **values)]


def kept_places(
    actor: Actor, body: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """The nodes the directory is kept at that ``actor`` reads — in the subtrees of their
    grants and above them — by path, as dicts of ``PLACE_COLUMNS``; and the streets and
    communities there by id (what the list groups the places by). One query."""
    kept: list[dict[str, Any]] = []
    areas: dict[int, dict[str, Any]] = {}
    wanted = set(body["node_kinds"])
    applies = applies_where(body)
    for node in places(reach(actor, body), {*wanted, *AREA_KINDS}):
        if node["kind"] in AREA_KINDS:
            areas[node["id"]] = node
        if node["kind"] in wanted and applies(node["path"]):
            kept.append(node)
    return kept, areas


def active_counts(definition_ids: list[int]) -> dict[tuple[int, int], int]:
    """(definition id, node id) → active entries, of the directories ``definition_ids``
    (one prepared query, grouped on the (definition, node, retired_at) index)."""
    if not definition_ids:
        return {}

    def build(**slots: Any) -> Any:
        return (
            DirectoryEntry.select(
                DirectoryEntry.definition, DirectoryEntry.node, fn.COUNT(DirectoryEntry.id)
            )
            .where(
                DirectoryEntry.definition.in_(padded_slots("definition", slots))
                & DirectoryEntry.retired_at.is_null()
            )
            .group_by(DirectoryEntry.definition, DirectoryEntry.node)
        )

    ids = padded("definition", sorted(set(definition_ids)))
    rows = prepared_cursor(("directories.active_counts", len(ids)), build, **ids)
    return {(d, n): int(c) for d, n, c in rows}


# Above this many nodes ``counts_at`` counts the directory's entries at every node and
# keeps the asked ones: an IN list of 1,243 ids (a district's places) cost more than the
# directory's entries grouped, and its size is bounded by the statement's parameters.
COUNT_EVERY_NODE_ABOVE = 200


def counts_at(version: DefinitionVersion, node_ids: list[int]) -> dict[int, int]:
    """Active entries of the directory per node id, of the nodes ``node_ids``: one
    prepared query, the ids an IN list padded to a power of two (``padded``), or for more
    than ``COUNT_EVERY_NODE_ABOVE`` nodes the counts at every node, the others left out."""
    if not node_ids:
        return {}
    every = len(node_ids) > COUNT_EVERY_NODE_ABOVE

    def build(**slots: Any) -> Any:
        wanted = DirectoryEntry.definition == slots["definition"]
        if not every:
            wanted &= DirectoryEntry.node.in_(padded_slots("node", slots))
        return (
            DirectoryEntry.select(DirectoryEntry.node, fn.COUNT(DirectoryEntry.id))
            .where(wanted & DirectoryEntry.retired_at.is_null())
            .group_by(DirectoryEntry.node)
        )

    ids = {} if every else padded("node", sorted(node_ids))
    rows = prepared_cursor(
        ("directories.counts_at", every, len(ids)),
        build,
        definition=version.definition_id,
        **ids,
    )
    asked = set(node_ids)
    return {node_id: int(n) for node_id, n in rows if node_id in asked}


# What a directory's page shows of an entry: its answers and, retired, why and when.
ENTRY_COLUMNS = (
    DirectoryEntry.id,
    DirectoryEntry.data,
    DirectoryEntry.retire_reason,
    DirectoryEntry.retired_at,
)


def _entries_query(definition: Any, node: Any, retired: bool) -> Any:
    where = (DirectoryEntry.definition == definition) & (DirectoryEntry.node == node)
    where &= DirectoryEntry.retired_at.is_null(not retired)
    return (
        DirectoryEntry.select(*ENTRY_COLUMNS)
        .where(where)
        .order_by(DirectoryEntry.title, DirectoryEntry.id)
        .limit(1000)
        .dicts()
    )


def entries_at(
    version: DefinitionVersion, node: OrgNode, *, retired: bool = False
) -> list[dict[str, Any]]:
    """The entries kept at ``node``, active (or only the retired), by title, as dicts of
    ``ENTRY_COLUMNS`` (a prepared statement each)."""
    return list(
        prepared(
            ("directories.entries_at", retired),
            lambda definition, node: _entries_query(definition, node, retired),
            definition=version.definition_id,
            node=node.id,
        )
    )


def get_entry(actor: Actor, entry_id: int) -> tuple[DirectoryEntry, OrgNode]:
    """:raises NotFound: no such entry, or not one ``actor`` reads (no existence leak)."""
    row = (
        DirectoryEntry.select(DirectoryEntry, OrgNode)
        .join(OrgNode)
        .where(DirectoryEntry.id == entry_id)
        .first()
    )
    if row is None or not may_read(actor, body_of(row), row.node):
        raise NotFound(_("Not found."))
    return row, row.node


def personal_kinds(body: Mapping[str, Any]) -> dict[str, str]:
    """Personal answer name → its widget kind (a phone is masked differently)."""
    return {s.name: s.kind for s in forms.field_specs(body["schema"]) if s.personal}


def sum_labels(body: Mapping[str, Any]) -> dict[str, str]:
    """The number fields of the entry form that the facts sum, with their labels."""
    return {
        s.name: s.label
        for s in forms.field_specs(body["schema"])
        if s.value_type in ("integer", "number")
        and not s.options
        and not s.personal
        and not s.children
    }


def shown_data(body: Mapping[str, Any], data: Mapping[str, Any], whole: bool) -> dict[str, Any]:
    """An entry's answers as the reader may see them: personal ones masked unless ``whole``."""
    if whole:
        return dict(data)
    kinds = personal_kinds(body)
    return {k: mask(v, kinds[k]) if k in kinds else v for k, v in data.items()}


def clean(body: Mapping[str, Any], node: OrgNode, actor: Actor, data: Any) -> dict[str, Any]:
    """The answers checked against the entry form, as a listing's are (listings.clean).

    :raises Invalid: paths ``data/...``.
    """
    return listings.clean(body, node, actor, data)


def _title(body: Mapping[str, Any], cleaned: Mapping[str, Any]) -> str:
    return str(cleaned.get(body["title_field"], "") or "")[:300]


def _audit(action: str, entry: DirectoryEntry, actor: Actor, now: dt.datetime, **kw: Any) -> None:
    audit.record(action, at=now, actor=actor.user, target=f"directory_entry:{entry.id}", **kw)


def add(actor: Actor, key: str, node: OrgNode, data: Any, *, now: dt.datetime) -> DirectoryEntry:
    """Add an entry to directory ``key`` at ``node``.

    :raises NotFound: no such directory. :raises Forbidden: the actor keeps no such
        directory here. :raises Invalid: the answers do not pass the form.
    """
    version = version_of(key)
    body = version.body
    if not may_edit(actor, body, node):
        raise Forbidden(_("You may not add entries here."))
    cleaned = clean(body, node, actor, data)
    with write_transaction():
        entry = DirectoryEntry.create(
            definition=version.definition_id,
            version=version,
            node=node,
            node_path=node.path,
            title=_title(body, cleaned),
            data=cleaned,
            created_by=actor.user,
            created_at=now,
        )
        _audit(
            "directory.add",
            entry,
            actor,
            now,
            after={"directory": key, "node": node.key, "data": cleaned},
        )
    return entry


def _write(entry: DirectoryEntry, **changes: Any) -> None:
    """:raises Conflict: the entry changed or was retired since it was read."""
    changed = (
        DirectoryEntry.update(lock=DirectoryEntry.lock + 1, **changes)
        .where(
            (DirectoryEntry.id == entry.id)
            & (DirectoryEntry.lock == entry.lock)
            & DirectoryEntry.retired_at.is_null()
        )
        .execute()
    )
    if not changed:
        raise Conflict(_("Someone else was quicker, or it changed meanwhile; reload the page."))
    for name, value in changes.items():
        setattr(entry, name, value)
    entry.lock += 1


def edit(
    actor: Actor, entry: DirectoryEntry, node: OrgNode, data: Any, *, now: dt.datetime
) -> None:
    """Change an active entry's answers (against the directory's current form).

    :raises Forbidden, Invalid, Conflict:
    """
    version = version_of(entry.definition.key)
    body = version.body
    if not may_edit(actor, body, node):
        raise Forbidden(_("You may not edit entries here."))
    if entry.retired_at is not None:
        raise Conflict(_("This entry has been retired."))
    cleaned = clean(body, node, actor, data)
    before = dict(entry.data or {})
    with write_transaction():
        _write(
            entry,
            version=version.id,
            title=_title(body, cleaned),
            data=cleaned,
            updated_by=actor.user,
            updated_at=now,
        )
        _audit(
            "directory.edit", entry, actor, now, before={"data": before}, after={"data": cleaned}
        )


def retire(
    actor: Actor, entry: DirectoryEntry, node: OrgNode, reason: Any, *, now: dt.datetime
) -> None:
    """Retire an entry (it stays on record, counted no more). :raises Invalid: no reason."""
    body = body_of(entry)
    if not may_edit(actor, body, node):
        raise Forbidden(_("You may not edit entries here."))
    if entry.retired_at is not None:
        raise Conflict(_("This entry has been retired."))
    text = str(reason or "").strip()
    if not text:
        message = _("Say why the entry is retired.")
        raise Invalid(message, [FieldProblem("reason", message)])
    with write_transaction():
        _write(entry, retired_by=actor.user, retired_at=now, retire_reason=text[:500])
        _audit(
            "directory.retire",
            entry,
            actor,
            now,
            before={"retired": False},
            after={"retired": True, "reason": text[:500]},
        )

"""Org nodes as dashboards show them: without their files (``scope.NODE_COLUMNS``), read
as plain rows by prepared statements and made into nodes directly (peewee's per-row
conversion cost a district's dashboard more than the statements)."""

from __future__ import annotations

import json
from typing import Any

from engine.core.memo import memoized
from engine.org.actors import Actor
from engine.org.scope import AREA_KINDS, NODE_COLUMNS, may_review
from engine.store.db import backend
from engine.store.models import OrgNode
from engine.store.prepared import prepared_cursor

_NAMES = tuple(c.name for c in NODE_COLUMNS)  # id, key, name, kind, parent, path, keys


def _node(row: Any) -> OrgNode:
    """A node of ``NODE_COLUMNS``'s row, as a select of those columns makes it."""
    node = OrgNode(__no_default__=1)
    node.__data__.update(zip(_NAMES, row))
    keys = node.__data__["keys"]
    if isinstance(keys, str):
        node.__data__["keys"] = json.loads(keys)
    return node


def nodes_by_key(keys: list[str]) -> dict[str, OrgNode]:
    """``scope.nodes_by_key`` without the nodes' files: the nodes of ``keys`` that exist, by
    key; a request reads each key once, so a page may ask for every key it shows first."""
    known: dict[str, OrgNode | None] = memoized("shown nodes_by_key", dict)
    missing = [key for key in dict.fromkeys(keys) if key not in known]
    if missing:
        known.update(dict.fromkeys(missing))
        rows = prepared_cursor(  # built once per number of keys
            ("shown nodes_by_key", len(missing)),
            lambda **keys: OrgNode.select(*NODE_COLUMNS).where(
                OrgNode.key.in_(list(keys.values()))
            ),
            **{f"key{i}": key for i, key in enumerate(missing)},
        )
        known.update((row[1], _node(row)) for row in rows)
    return {key: node for key in keys if (node := known.get(key)) is not None}


def _children(node: Any) -> Any:
    which = (OrgNode.parent == node) & OrgNode.kind.in_(AREA_KINDS)
    return OrgNode.select(*NODE_COLUMNS).where(which).order_by(OrgNode.id)


def _children_and_siblings(node: Any, parent: Any, kind: Any) -> Any:
    which = (OrgNode.parent == node) & OrgNode.kind.in_(AREA_KINDS)
    which |= (OrgNode.parent == parent) & (OrgNode.kind == kind)
    return OrgNode.select(*NODE_COLUMNS).where(which).order_by(backend().unindexed(OrgNode.id))


def reviewable_children_and_siblings(
    actor: Actor, node: OrgNode
) -> tuple[list[OrgNode], list[int]]:
    """The area children of ``node`` whose dashboards ``actor`` may open (without their
    files: ``NODE_COLUMNS``, made into nodes directly), and the ids of ``node``'s siblings
    of its own kind (``node`` among them; none for a root), in one prepared statement."""
    parent_id = node.parent_id
    if parent_id is None:
        rows = list(prepared_cursor("shown children_of_root", _children, node=node.id))
    else:
        rows = list(
            prepared_cursor(
                "shown children_and_siblings",
                _children_and_siblings,
                node=node.id,
                parent=parent_id,
                kind=node.kind,
            )
        )
    # row: id, key, name, kind, parent, path, keys
    children = [
        child
        for row in rows
        if row[4] == node.id and row[3] in AREA_KINDS
        if may_review(actor, child := _node(row))
    ]
    siblings = [
        row[0]
        for row in rows
        if parent_id is not None and row[4] == parent_id and row[3] == node.kind
    ]
    return children, siblings

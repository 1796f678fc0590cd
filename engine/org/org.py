"""The org tree: district → street (街道) → community (社区) → compound (小区) → building."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.core.errors import NotFound
from engine.core.i18n import gettext as _
from engine.store.models import OrgNode

NODE_KINDS = ("district", "street", "community", "compound", "building", "department")


def ancestor_ids(node_path: str) -> list[int]:
    """Node ids on a materialized path, root first: "/1/5/23/" → [1, 5, 23]."""
    return [int(part) for part in node_path.strip("/").split("/") if part]


def area_of(path: str) -> int:
    """The area of a node path (``Backend.path_area`` in SQL): the id of the node below
    the root on it (a street), 0 for the root itself. Stored counts and histograms kept
    per area serve who sees whole areas."""
    ids = path.strip("/").split("/")
    return int(ids[1]) if len(ids) > 1 else 0


def is_area(path: str) -> bool:
    """Whether the node path is an area's own (the node below a root)."""
    return len(path.strip("/").split("/")) == 2


def node_by_key(key: str, *fields: Any) -> OrgNode:
    """The node with ``key``, only ``fields`` of it when given (a page that shows a name
    need not decode the node's file).

    :raises NotFound: no such node.
    """
    node = OrgNode.select(*fields).where(OrgNode.key == key).get_or_none()
    if node is None:
        raise NotFound(_("Org node %(key)s does not exist.") % {"key": key})
    return node


def upsert_tree(nodes: Iterable[Mapping[str, Any]], parent: OrgNode | None = None) -> int:
    """Create or update ``nodes`` (with their ``children``) by key; returns how many.

    Loading the same tree twice changes nothing; a moved node gets its new path.
    """
    count = 0
    for spec in nodes:
        node = OrgNode.get_or_none(OrgNode.key == spec["key"])
        fields = {"name": spec["name"], "kind": spec["kind"], "parent": parent}
        if node is None:
            node = OrgNode.create(
                key=spec["key"], path="", keys=[], profile=spec.get("profile") or {}, **fields
            )
        else:
            for name, value in fields.items():
                setattr(node, name, value)
            if "profile" in spec and spec["profile"] != node.profile:
                node.profile = spec["profile"]
                node.profile_lock += 1  # a form opened before this load is now stale
        base_path = parent.path if parent else "/"
        node.path = f"{base_path}{node.id}/"
        node.keys = (list(parent.keys) if parent else []) + [node.key]
        node.save()
        count += 1 + upsert_tree(spec.get("children") or [], node)
    return count


def subtree(node: OrgNode) -> Any:
    """The node and everything below it, as a query."""
    from engine.org.scope import path_under

    return OrgNode.select().where(path_under(OrgNode.path, node.path))


def compound_of(node: OrgNode) -> OrgNode | None:
    """The compound a node belongs to (itself, or a building's parent), if any."""
    current: OrgNode | None = node
    while current is not None and current.kind != "compound":
        current = current.parent
    return current

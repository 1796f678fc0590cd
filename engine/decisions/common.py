"""What meetings and opinion collections share: their definitions at a node, scope, answers."""

from __future__ import annotations

import operator
from collections.abc import Mapping
from functools import reduce
from typing import Any

import forms
from engine.core import i18n
from engine.core.errors import FieldProblem, Forbidden, Invalid, NotFound
from engine.core.i18n import gettext as _
from engine.definitions.definitions import (
    Runtime,
    applies_at,
    current_version,
    current_versions,
    remember_scope_path,
    runtime,
)
from engine.org import permissions
from engine.org.actors import Actor
from engine.org.org import node_by_key
from engine.org.scope import NODE_COLUMNS, path_like, path_pattern, path_under
from engine.store.models import Definition, DefinitionVersion, OrgNode
from engine.store.prepared import prepared

SEES = "decisions"  # the capability to see a compound's meetings and collections
PAGE_SIZE = 50  # meetings or collections on one page of /work/decisions


def may_use(rt: Runtime, node: OrgNode) -> bool:
    """Whether definition ``rt`` is used at ``node`` (its kinds and its scope)."""
    return node.kind in rt.body.get("node_kinds", ["compound"]) and applies_at(rt.body, node.path)


def governing(
    actor: Actor,
    kind: str,
    type_key: str,
    node_key: str,
    roles_key: str,
    *,
    unknown: str,
    not_here: str,
    forbidden: str,
) -> tuple[Definition, DefinitionVersion, Runtime, OrgNode]:
    """The definition of ``kind`` named ``type_key``, its current version and runtime, and the
    node ``node_key``, once the actor holds one of its ``roles_key`` roles there.

    ``unknown``, ``not_here`` and ``forbidden`` are the messages (``%(type)s`` and
    ``%(node)s`` filled in) for a missing definition, a node it is not used at, and an
    actor without the role.

    :raises NotFound: unknown definition or node.
    :raises Invalid: the definition is not used at the node (path ``node``).
    :raises Forbidden: the actor holds none of the roles at the node.
    """
    definition = Definition.get_or_none((Definition.key == type_key) & (Definition.kind == kind))
    if definition is None or not definition.current:
        raise NotFound(unknown)
    node = node_by_key(node_key)
    version = current_version(definition)
    rt = runtime(version)
    words = {"type": rt.body["name"], "node": node.name}
    if not may_use(rt, node):
        message = not_here % words
        raise Invalid(message, [FieldProblem("node", message)])
    if not any(actor.reaches(r, node.path) for r in rt.body[roles_key]):
        raise Forbidden(forbidden % words)
    return definition, version, rt, node


def usable(kind: str, node: OrgNode, actor: Actor, roles_key: str) -> list[Runtime]:
    """The current ``kind`` definitions ``actor`` may use at ``node`` by their ``roles_key``."""
    found = []
    for version in current_versions(kind):
        rt = runtime(version)
        if may_use(rt, node) and any(actor.reaches(r, node.path) for r in rt.body[roles_key]):
            found.append(rt)
    return found


def in_reach(actor: Actor, field: Any) -> Any:
    """A condition on a node-path column: the nodes where ``actor`` sees deliberation."""
    roles = permissions.roles_of(SEES)
    paths = sorted({g.node_path for g in actor.grants if g.role in roles})
    if not paths:
        return field == "#nowhere/"
    return reduce(operator.or_, [path_under(field, p) for p in paths])


def reach_patterns(actor: Actor) -> dict[str, str]:
    """``in_reach`` as values for a prepared statement: ``p0``, ``p1``… → the pattern of
    each subtree where ``actor`` sees deliberation (empty: nowhere)."""
    return {f"p{i}": path_pattern(p) for i, p in enumerate(reach_paths(actor))}


def reach_paths(actor: Actor) -> list[str]:
    """The paths of the subtrees where ``actor`` sees deliberation, sorted."""
    roles = permissions.roles_of(SEES)
    return sorted({g.node_path for g in actor.grants if g.role in roles})


def in_patterns(field: Any, patterns: Mapping[str, Any]) -> Any:
    """A condition on a node-path column: under one of ``patterns`` (slots or values)."""
    return reduce(operator.or_, [path_like(field, p) for p in patterns.values()])


def nodes_with_scopes(ids: list[int], kinds: tuple[str, ...]) -> dict[int, OrgNode]:
    """The nodes ``ids`` (without their files: ``NODE_COLUMNS``) by id, read in one query
    with the scope nodes of the current definitions of ``kinds``, whose paths are kept for
    this request (``scope_path`` then reads none)."""
    scopes = sorted(
        {
            v.body["scope"]
            for kind in kinds
            for v in current_versions(kind)
            if isinstance(v.body.get("scope"), str)
        }
    )
    if not ids:
        return {}
    values = {f"i{n}": i for n, i in enumerate(ids)}
    values.update({f"k{n}": k for n, k in enumerate(scopes)})
    shape = ("decisions.nodes_with_scopes", len(ids), len(scopes))
    found = list(prepared(shape, _nodes_with_scopes, **values))
    by_key = {n.key: n.path for n in found}
    for key in scopes:
        remember_scope_path(key, by_key.get(key))
    wanted = set(ids)
    return {n.id: n for n in found if n.id in wanted}


def _nodes_with_scopes(**values: Any) -> Any:
    ids = [v for k, v in values.items() if k.startswith("i")]
    keys = [v for k, v in values.items() if k.startswith("k")]
    return OrgNode.select(*NODE_COLUMNS).where(OrgNode.id.in_(ids) | OrgNode.key.in_(keys))


def validate(
    schema: Mapping[str, Any], data: Any, context: Mapping[str, Any], prefix: str
) -> dict[str, Any]:
    """Answers to a definition's form, validated on the server (conditions included).

    :raises Invalid: with one problem per field, at ``<prefix>/<field>``.
    """
    if not isinstance(data, Mapping):
        message = _("Answers must be a JSON object.")
        raise Invalid(message, [FieldProblem(prefix, message)])
    cleaned, errors = forms.validate(
        schema, dict(data), context=dict(context), gettext=i18n.gettext
    )
    if errors:
        raise Invalid(
            _("Some answers need fixing."),
            [FieldProblem(f"{prefix}/{e.path}" if e.path else prefix, e.message) for e in errors],
        )
    return dict(cleaned)


def text(value: Any, name: str, *, limit: int, required: bool = True) -> str:
    """A one-line text field, stripped. :raises Invalid: missing or too long (path ``name``)."""
    result = value.strip() if isinstance(value, str) else ""
    if required and not result:
        message = _("This field is required.")
        raise Invalid(message, [FieldProblem(name, message)])
    if len(result) > limit:
        message = _("At most %(n)s characters.") % {"n": limit}
        raise Invalid(message, [FieldProblem(name, message)])
    return result

"""Definitions and their immutable published versions (the compiled runtime: engine.definitions.runtimes)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from peewee import Case

import rules
from engine.core.errors import NotFound
from engine.core.memo import memoized, remember
from engine.definitions.runtimes import Runtime, clear_runtime_cache, runtime
from engine.org.actors import Actor
from engine.org.scope import ids_in
from engine.store import fetched
from engine.store.db import database
from engine.store.models import Definition, DefinitionVersion, OrgNode, Pack
from engine.store.prepared import forget_answers, prepared_cursor, with_columns

__all__ = ["Runtime", "clear_runtime_cache", "runtime"]  # re-exported: the compiled runtime


def digest(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def known_roles() -> set[str]:
    roles: set[str] = set()
    for pack in Pack.select(Pack.roles):
        roles.update((pack.roles or {}).keys())
    return roles


def known_role_labels() -> dict[str, str]:
    """Role key → label of every role a pack declares (checks name roles by label)."""
    labels: dict[str, str] = {}
    for pack in Pack.select(Pack.roles):
        labels.update({k: (v or {}).get("label") or k for k, v in (pack.roles or {}).items()})
    return labels


def known_units() -> set[str]:
    return {key for (key,) in OrgNode.select(OrgNode.key).tuples()}


NOWHERE = "#nowhere/"  # no org path starts so


def scope_path(body: Mapping[str, Any]) -> str | None:
    """The org path a definition's ``scope`` names; None when it has none (the whole district).

    A scope naming no node (deleted since) yields a path no node lies under: the definition
    applies nowhere rather than everywhere.
    """
    scope = body.get("scope") if isinstance(body, Mapping) else None
    if scope is None:
        return None
    if not isinstance(scope, str):
        return NOWHERE

    def load() -> str:  # once per request: a page asks for every definition at every node
        node = OrgNode.get_or_none(OrgNode.key == scope)
        return node.path if node is not None else NOWHERE

    return memoized(("scope_path", scope), load)


def remember_scope_path(key: str, path: str | None) -> None:
    """Keep for this request the path of the scope node ``key`` (None: no such node), read
    along with other nodes (see ``scope_path``)."""
    remember(("scope_path", key), path if path is not None else NOWHERE)


def applies_at(body: Mapping[str, Any], node_path: str) -> bool:
    """Whether a definition with this body is used at the node at ``node_path``: everywhere
    without ``scope``, else at its scope node and below it.

    Every place a definition is offered or used asks this — raising on the pages and the API,
    the raisable and listed types, the designer's try-it nodes, a node's profile — so a street's
    definition never applies in another street.
    """
    return applies_where(body)(node_path)


def applies_where(body: Mapping[str, Any]) -> Callable[[str], bool]:
    """:func:`applies_at` for one body at many nodes: the scope's path looked up once (a
    directory's list tests it at each of a district's thousand places)."""
    path = scope_path(body)
    if path is None:
        return lambda node_path: True
    return lambda node_path: node_path.startswith(path)


def applies_for(actor: Actor, body: Mapping[str, Any]) -> bool:
    """Whether a definition with this body applies anywhere ``actor`` works: at a node one of
    their grants reaches (:func:`applies_at`), or its scope lies inside such a reach."""
    path = scope_path(body)
    return path is None or any(
        g.node_path.startswith(path) or path.startswith(g.node_path) for g in actor.grants
    )


def current_version(definition: Definition | str) -> DefinitionVersion:
    """The newest published version of a definition (by key or object). Its body is shared
    with other requests (versions never change): read it, never change it.

    :raises NotFound: unknown or never published.
    """
    if isinstance(definition, str):
        found = Definition.get_or_none(Definition.key == definition)
        if found is None:
            raise NotFound(f"definition {definition!r} does not exist")
        definition = found
    found_definition = definition

    def load() -> DefinitionVersion | None:
        query = _versions_select().where(
            (DefinitionVersion.definition == found_definition)
            & (DefinitionVersion.number == found_definition.current)
        )
        return next(iter(_with_bodies(query.limit(1))), None)

    version = memoized(("current_version", definition.id, definition.current), load)
    if version is None:
        raise NotFound(f"definition {definition.key!r} has no published version")
    return version


# Published versions never change: their parsed bodies are kept in the process by id and
# digest (a database re-created with the same ids holds other bodies under other digests),
# so a page listing definitions neither reads nor decodes bodies it decoded before.
_BODIES: dict[tuple[int, str], Any] = {}


def _versions_select(*extra: Any) -> Any:
    """``DefinitionVersion.select(DefinitionVersion, *extra)`` reading the body only of
    versions whose body is not kept (one statement, warm or cold); see ``_with_bodies``."""
    kept = sorted({version_id for version_id, _ in _BODIES})
    if not kept:
        return DefinitionVersion.select(DefinitionVersion, *extra)
    body = Case(None, [(ids_in(DefinitionVersion.id, kept), None)], DefinitionVersion.body)
    fields = [f for f in DefinitionVersion._meta.sorted_fields if f.name != "body"]
    return DefinitionVersion.select(*fields, body.alias("body_text"), *extra)


def _with_bodies(query: Any) -> list[DefinitionVersion]:
    """The versions of ``_versions_select``, each with its body: a kept one, else the one
    read (kept for next time), else (an id kept with another digest) read once more."""
    versions = list(query)
    missing = []
    for version in versions:
        key = (version.id, version.digest)
        if "body_text" in version.__dict__:  # peewee sets a column that is no field so
            text = version.__dict__.pop("body_text")
            if text is not None:
                _BODIES[key] = json.loads(text)
        elif "body" in version.__data__:
            _BODIES[key] = version.__data__["body"]
        if key not in _BODIES:
            missing.append(version.id)
    if missing:
        read = DefinitionVersion.select(
            DefinitionVersion.id, DefinitionVersion.digest, DefinitionVersion.body
        ).where(DefinitionVersion.id.in_(missing))
        for version_id, digest, body in read.tuples():
            _BODIES[(version_id, digest)] = body
    if len(_BODIES) > 5000:
        _BODIES.clear()  # bounded; kept bodies are only a shortcut
    for version in versions:
        # Through __data__: the version is not marked as changed.
        version.__data__["body"] = _BODIES.get((version.id, version.digest))
    return versions


def clear_body_cache() -> None:
    """Forget kept bodies (``clear_runtime_cache`` does it too), kept models and the kept
    answers of size checks (``prepared.kept_answers``)."""
    _BODIES.clear()
    fetched.clear()
    _STATEMENTS.clear()
    forget_answers()


# The statements of ``_current_of`` by shape (kinds or ids, order), kept bodies and backend:
# peewee took 0.27 ms to build the SQL of one that runs in 0.09 ms, on every page that
# reads current versions.
_STATEMENTS: dict[tuple[Any, ...], tuple[Any, str, list[Any]]] = {}


def _current_rows(kinds: tuple[str, ...], ids: list[int] | None, order: Any = None) -> list[Any]:
    """``_with_bodies(_current_of(*kinds, ids=ids).order_by(order))``, its SQL built once."""
    if ids is None:
        return _current_of_kinds(kinds, order)
    return _current_models(kinds, ids, order)


# The columns of a current version and its definition, but the version's body (kept by
# ``_BODIES``); a kept instance is used again while they are all the same.
_LIGHT = (
    DefinitionVersion.id,
    DefinitionVersion.digest,
    DefinitionVersion.number,
    DefinitionVersion.published_at,
    DefinitionVersion.published_by,
    Definition.id,
    Definition.pack,
    Definition.key,
    Definition.kind,
    Definition.name,
    Definition.draft,
    Definition.current,
)


def _current_of_kinds(kinds: tuple[str, ...], order: Any) -> list[Any]:
    """The current versions of ``kinds``: the plain columns read, each version (with its
    definition) the instance kept in the process for the same columns (``fetched``);
    any missing or changed, all read as models and kept."""
    ordered = (order.model.__name__, order.name) if order is not None else None

    def build() -> Any:
        query = DefinitionVersion.select(*_LIGHT).join(
            Definition,
            on=(
                (DefinitionVersion.definition == Definition.id)
                & (DefinitionVersion.number == Definition.current)
            ),
        )
        query = query.where(Definition.kind.in_(kinds))
        return query.order_by(order) if order is not None else query

    rows = [tuple(r) for r in prepared_cursor(("current of kinds", kinds, ordered), build)]
    keyed = [(("current version", row[0]), row) for row in rows]
    found = fetched.kept_all(keyed)
    if found is not None:
        return found
    versions = _current_models(kinds, None, order)
    by_id = {key[1]: row for key, row in keyed}
    for version in versions:
        if version.id in by_id:
            fetched.keep(("current version", version.id), by_id[version.id], version)
    return versions


def _current_models(kinds: tuple[str, ...], ids: list[int] | None, order: Any = None) -> list[Any]:
    """``_current_rows`` read as models (with their bodies)."""
    kept = tuple(sorted({version_id for version_id, _ in _BODIES}))
    ordered = (order.model.__name__, order.name) if order is not None else None
    key = (kinds, tuple(ids) if ids is not None else None, ordered, kept, type(database.obj))
    entry = _STATEMENTS.get(key)
    if entry is None:
        query = _current_of(*kinds, ids=ids)
        if order is not None:
            query = query.order_by(order)
        sql, params = query.sql()
        if len(_STATEMENTS) > 256:
            _STATEMENTS.clear()  # bounded: shapes are few, kept sets change on publishing
        entry = _STATEMENTS[key] = (query, sql, list(params))
    query, sql, params = entry
    # its columns resolved once too (a version joined with its definition: model instances)
    rows = with_columns(
        query._get_cursor_wrapper(database.execute_sql(sql, params)), ("current_rows", key)
    )
    return _with_bodies(rows)


def _current_of(*kinds: str, ids: list[int] | None = None) -> Any:
    """The current versions of the definitions of ``kinds`` or ``ids``, each with its
    definition (bodies through ``_with_bodies``)."""
    query = _versions_select(Definition).join(
        Definition,
        on=(
            (DefinitionVersion.definition == Definition.id)
            & (DefinitionVersion.number == Definition.current)
        ),
    )
    if ids is not None:
        return query.where(Definition.id.in_(ids))
    return query.where(Definition.kind.in_(kinds))


def preload_versions_of(definitions: list[Definition]) -> None:
    """Read the current version of each of ``definitions`` in one query, for this
    request's ``current_version`` (a list of definitions with their bodies)."""
    ids = [d.id for d in definitions if d.current]
    if not ids:
        return
    for version in _current_rows((), ids):
        remember(("current_version", version.definition_id, version.number), version)


def preload_current_versions(*kinds: str) -> None:
    """Read the current versions of several kinds in one query, for this request's
    ``current_versions`` (a page that needs three kinds runs one statement, not three)."""
    by_kind: dict[str, list[DefinitionVersion]] = {kind: [] for kind in kinds}
    for version in _current_rows(kinds, None, Definition.key):  # each kind by key
        by_kind[version.definition.kind].append(version)
    for kind, by_key in by_kind.items():
        remember(("current_versions", kind, True), by_key)
        remember(("current_versions", kind, False), sorted(by_key, key=_definition_id))


def _definition_id(version: DefinitionVersion) -> int:
    return version.definition_id  # type: ignore[no-any-return]


def current_versions(kind: str, *, by_key: bool = False) -> list[DefinitionVersion]:
    """The current version of every published definition of ``kind`` (each with its
    definition), in id order or by key: one query, read once per request.

    The bodies are shared with other requests (versions never change): read them, never
    change them.
    """

    def load() -> list[DefinitionVersion]:
        return _current_rows((kind,), None, Definition.key if by_key else Definition.id)

    return memoized(("current_versions", kind, by_key), load)


def evaluate(rule: Any, doc: Mapping[str, Any]) -> Any:
    """Evaluate a definition's rule with the compiled evaluator."""
    return rules.compile(rule)(doc)


def _current_ids_of(kind: Any) -> Any:
    return (
        Definition.select(Definition.id, Definition.key, DefinitionVersion.id)
        .join(
            DefinitionVersion,
            on=(
                (DefinitionVersion.definition == Definition.id)
                & (DefinitionVersion.number == Definition.current)
            ),
        )
        .where(Definition.kind == kind)
        .order_by(Definition.id)
    )


def current_bodies(kind: str) -> list[tuple[int, str, Mapping[str, Any]]]:
    """(definition id, key, body) of the current version of every published definition
    of ``kind``, in id order: the ids in one prepared statement, each body its compiled
    runtime's (kept per process: versions never change) — for a page that needs a few
    keys of the bodies, not the versions as models. Read the bodies, never change them."""
    rows = prepared_cursor("definitions.current_bodies", _current_ids_of, kind=kind)
    return [(def_id, key, runtime(version_id).body) for def_id, key, version_id in rows]

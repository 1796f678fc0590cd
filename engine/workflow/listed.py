"""What lists name beside their rows: definitions and org nodes, read in one query each
and made into models only when their rows changed since last read (per process)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from functools import partial
from typing import Any

from peewee import (
    JOIN,
    AutoField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from engine.core.memo import memoized
from engine.store.db import database
from engine.store.models import Definition, DefinitionVersion, OrgNode
from engine.store.prepared import bind, statement

# A list names an item's node: its file (``profile``, a large JSON document) is left out.
NODE_FIELDS = [f for f in OrgNode._meta.sorted_fields if f.name != "profile"]


# Lists show definitions by name; their draft and published bodies (large JSON documents)
# are left out. The body of a version is its cached runtime's (``runtimes.runtime``).
DEFINITION_FIELDS = [f for f in Definition._meta.sorted_fields if f.name != "draft"]
VERSION_FIELDS = [f for f in DefinitionVersion._meta.sorted_fields if f.name != "body"]


def definitions() -> dict[int, Definition]:
    """Every definition by id with its current version (``d.published``, None if never
    published), read once per request in one query (a few dozen rows); without their
    draft and body (``DEFINITION_FIELDS``, ``VERSION_FIELDS``)."""

    def query() -> Any:
        return (
            Definition.select(*DEFINITION_FIELDS, *VERSION_FIELDS)
            .join(
                DefinitionVersion,
                JOIN.LEFT_OUTER,
                on=(
                    (DefinitionVersion.definition == Definition.id)
                    & (DefinitionVersion.number == Definition.current)
                ),
                attr="published",
            )
            .order_by(Definition.id)
        )

    def load() -> dict[int, Definition]:
        built, sql, params = statement("definitions", query)
        cursor = database.execute_sql(sql, list(params))
        rows = cursor.fetchall()
        kept = _DEFINITIONS.get(type(database.obj))
        if kept is not None and kept[0] == rows:
            return kept[1]
        found = {}
        for d in built._get_cursor_wrapper(_Fetched(cursor.description, rows)):
            if d.published is not None and d.published.id is None:
                d.published = None
            found[d.id] = d
        _DEFINITIONS[type(database.obj)] = (rows, found)
        return found

    return memoized("definitions", load)


# The definitions as last read, by backend: their rows as the database gave them, and the
# models made of them. A request whose rows are the same reuses the models (31 rows made
# 62 models, 0.5 ms a page). They are shared between requests: read them, never change them.
_DEFINITIONS: dict[Any, tuple[list[Any], dict[int, Definition]]] = {}


class _Fetched:
    """Rows already fetched, as the cursor peewee's models are made from."""

    def __init__(self, description: Any, rows: list[Any]) -> None:
        self.description = description
        self._rows = iter(rows)

    def fetchone(self) -> Any:
        return next(self._rows, None)

    def close(self) -> None:
        pass


# Nodes as last read, by backend and id: the row as the database gave it and the model
# made of it (``nodes_by_id``); at most ``NODES_KEPT``.
_NODES: dict[tuple[Any, int], tuple[Any, OrgNode]] = {}
NODES_KEPT = 10_000


# ``nodes_by_id``'s statement without its condition, by backend: peewee built the whole
# statement again for each list of ids (a third of a millisecond an inbox).
_NODES_STATEMENT: dict[Any, tuple[Any, str]] = {}
_NODE_ID = '"t1"."id"'


def _nodes_statement(backend_type: Any) -> tuple[Any, str]:
    entry = _NODES_STATEMENT.get(backend_type)
    if entry is None:
        query = OrgNode.select(*NODE_FIELDS)
        sql, params = query.sql()
        assert not params and f"{_NODE_ID}" in sql and " WHERE " not in sql
        entry = _NODES_STATEMENT[backend_type] = (query, sql)
    return entry


def nodes_by_id(ids: set[int]) -> dict[int, OrgNode]:
    """The nodes with these ids, without their files (``NODE_FIELDS``), in one query. A
    node whose row reads as it did before is the model made of it then (an inbox names
    up to fifty nodes: 0.5–0.8 ms of models a page). The models are shared between
    requests: read them, never change them."""
    if not ids:
        return {}
    backend_type = type(database.obj)
    query, sql = _nodes_statement(backend_type)
    listed = ",".join(str(int(i)) for i in sorted(ids))
    cursor = database.execute_sql(f"{sql} WHERE {_NODE_ID} IN ({listed})", [])
    found: dict[int, OrgNode] = {}
    fresh = []
    for raw in cursor.fetchall():
        kept = _NODES.get((backend_type, raw[0]))
        if kept is not None and kept[0] == raw:
            found[raw[0]] = kept[1]
        else:
            fresh.append(raw)
    if fresh:
        if len(_NODES) + len(fresh) > NODES_KEPT:
            _NODES.clear()
        for raw, node in zip(
            fresh, query._get_cursor_wrapper(_Fetched(cursor.description, fresh)), strict=True
        ):
            _NODES[(backend_type, node.id)] = (raw, node)
            found[node.id] = node
    return found


def nodes_read(key: Hashable, build: Callable[..., Any], **values: Any) -> list[OrgNode]:
    """The nodes ``build(**slots)`` reads (a query of ``NODE_FIELDS``, its SQL built once
    per ``key`` as ``prepared.statement``), in its order; a node whose row reads as it did
    before is the model made of it then (as ``nodes_by_id``: shared, never change them)."""
    built, sql, params = statement(key, build, *values)
    cursor = database.execute_sql(sql, bind(params, values))
    backend_type = type(database.obj)
    rows = cursor.fetchall()
    fresh = [raw for raw in rows if _NODES.get((backend_type, raw[0]), (None,))[0] != raw]
    if fresh and len(_NODES) + len(fresh) > NODES_KEPT:
        _NODES.clear()
        fresh = rows
    if fresh:
        made = built._get_cursor_wrapper(_Fetched(cursor.description, fresh))
        for raw, node in zip(fresh, made, strict=True):
            _NODES[(backend_type, node.id)] = (raw, node)
    return [_NODES[(backend_type, raw[0])][1] for raw in rows]


class Row:
    """A list's row without a model: its columns as attributes (a foreign key's by its id
    name, ``node_id``), converted as the model's fields convert them. A page that only
    shows a few columns of fifty rows spent more on making models than on reading them."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__ = values


# Fields whose database value already is the Python one (an integer, a text): these
# types exactly, not their subclasses (a JSON text is decoded).
_AS_READ = frozenset((AutoField, IntegerField, CharField, TextField, ForeignKeyField))


def _converter(field: Any) -> Any:
    """What turns ``field``'s database value into its Python one; None: nothing to do."""
    if type(field) is ForeignKeyField:
        field = field.rel_field
    if type(field) in _AS_READ:
        return None
    if type(field) is DateTimeField:
        return partial(_datetime, field.python_value)
    return field.python_value


def _datetime(python_value: Any, value: Any) -> Any:
    """A stored time as peewee reads it; SQLite's text by ``fromisoformat`` (peewee tries
    ``strptime`` formats: 5 µs a value)."""
    if type(value) is str and len(value) >= 19 and value[10] == " ":
        try:
            found = dt.datetime.fromisoformat(value)
        except ValueError:
            return python_value(value)
        if found.tzinfo is None:
            return found
    return python_value(value)


def rows_of(rows: list[Any], fields: tuple[Any, ...]) -> list[Row]:
    """``rows`` (tuples of ``fields``' columns, as a cursor returns them) as ``Row``s."""
    names = [f.object_id_name if isinstance(f, ForeignKeyField) else f.name for f in fields]
    convert = [(i, c) for i, c in enumerate(map(_converter, fields)) if c is not None]
    out = []
    for raw in rows:
        if convert:
            raw = list(raw)
            for i, python_value in convert:
                if raw[i] is not None:
                    raw[i] = python_value(raw[i])
        out.append(Row(dict(zip(names, raw))))
    return out

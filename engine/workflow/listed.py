"""What lists name beside their rows: definitions and org nodes, read in one query each
and made into models only when their rows changed since last read (per process)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from peewee import (
    JOIN,
    AutoField,
    CharField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from engine.core.memo import memoized
from engine.store import fetched
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
        # The models are kept with the rows they were made of (``engine.store.fetched``): a
        # request whose rows are the same reuses them (31 rows made 62 models, 0.5 ms a
        # page). They are shared between requests: read them, never change them.
        built, sql, params = statement("definitions", query)
        cursor = database.execute_sql(sql, list(params))
        rows = tuple(cursor.fetchall())

        def build() -> dict[int, Definition]:
            found = {}
            for d in built._get_cursor_wrapper(_Fetched(cursor.description, rows)):
                if d.published is not None and d.published.id is None:
                    d.published = None
                found[d.id] = d
            return found

        return fetched.build_once(("definitions", type(database.obj)), rows, build)

    return memoized("definitions", load)


class _Fetched:
    """Rows already fetched, as the cursor peewee's models are made from."""

    def __init__(self, description: Any, rows: list[Any]) -> None:
        self.description = description
        self._rows = iter(rows)

    def fetchone(self) -> Any:
        return next(self._rows, None)

    def close(self) -> None:
        pass


def nodes_by_id(ids: set[int]) -> dict[int, OrgNode]:
    """The nodes with these ids, without their files (``NODE_FIELDS``), in one query (the
    ids written into the SQL: any number of them is one statement). A node whose row
    reads as it did before is the model made of it then (an inbox names up to fifty
    nodes: 0.5–0.8 ms of models a page). The models are shared between requests: read
    them, never change them."""
    if not ids:
        return {}
    built, sql, params = statement("listed.nodes", lambda: OrgNode.select(*NODE_FIELDS))
    assert not params and " WHERE " not in sql and sql.startswith('SELECT "t1"."id"')
    listed = ",".join(str(int(i)) for i in sorted(ids))
    cursor = database.execute_sql(f'{sql} WHERE "t1"."id" IN ({listed})', [])
    return {node.id: node for node in _kept_nodes(built, cursor)}


def nodes_read(key: Hashable, build: Callable[..., Any], **values: Any) -> list[OrgNode]:
    """The nodes ``build(**slots)`` reads (a query of ``NODE_FIELDS``, its SQL built once
    per ``key`` as ``prepared.statement``), in its order; a node whose row reads as it did
    before is the model made of it then (as ``nodes_by_id``: shared, never change them)."""
    built, sql, params = statement(key, build, *values)
    return _kept_nodes(built, database.execute_sql(sql, bind(params, values)))


def _kept_nodes(built: Any, cursor: Any) -> list[OrgNode]:
    """The nodes of ``cursor``'s rows (``built``'s columns), in order: each the model kept
    for its row (``engine.store.fetched``, by backend and id), the others made in one pass
    and kept."""
    backend_type = type(database.obj)
    rows = cursor.fetchall()
    found = [fetched.kept(("node", backend_type, raw[0]), raw) for raw in rows]
    fresh = [raw for raw, node in zip(rows, found, strict=True) if node is None]
    if fresh:
        made = {}
        for raw, node in zip(
            fresh, built._get_cursor_wrapper(_Fetched(cursor.description, fresh)), strict=True
        ):
            fetched.keep(("node", backend_type, node.id), raw, node)
            made[node.id] = node
        found = [
            node if node is not None else made[raw[0]]
            for raw, node in zip(rows, found, strict=True)
        ]
    return found


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
    return field.python_value


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

"""Prepared statements: a query whose shape does not change is built once per process.

peewee builds a statement's SQL by walking the query's expression tree on every
execution, which costs a page more than the database spends answering it. A query
whose shape does not change between requests (the session's user, the unread count,
an item by id) is built once per process and backend with a ``Slot`` where each
value goes; later runs only fill the values in.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from peewee import (
    ModelCursorWrapper,
    ModelDictCursorWrapper,
    ModelObjectCursorWrapper,
    ModelTupleCursorWrapper,
    Node,
)

from engine.core.memo import KeptAWhile
from engine.store.db import database


class Slot(Node):  # type: ignore[misc]
    """A named value of a prepared query, filled in at each run (see ``prepared``)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def __sql__(self, ctx: Any) -> Any:
        # The converter in force is the compared field's (e.g. a datetime's format).
        ctx._values.append(_Hole(self.name, ctx.state.converter))
        return ctx.literal(ctx.state.param or "?")


@dataclass(frozen=True)
class _Hole:
    name: str
    converter: Callable[[Any], Any] | None


_statements: dict[Hashable, tuple[Any, str, tuple[Any, ...]]] = {}
# What peewee works out from a statement's result columns before its first row (which
# field converts each column), kept per statement: the columns are the statement's own.
_columns: dict[Hashable, dict[str, Any]] = {}
# The cursor wrappers whose ``initialize`` reads only the cursor's description and the
# query (its columns, model and joins), which a prepared statement keeps: tuples, dicts,
# model instances (one model's, or several joined; both worked out again on every run).
_RESOLVED_ONCE = (
    ModelTupleCursorWrapper,
    ModelDictCursorWrapper,
    ModelObjectCursorWrapper,
    ModelCursorWrapper,
)


def prepared(key: Hashable, build: Callable[..., Any], **values: Any) -> Any:
    """The rows of ``build(**slots)`` run with ``values`` in its slots, as the query's
    own cursor wrapper (models, tuples or dicts, fields converted as peewee does).

    ``key`` names the query's shape: ``build`` runs once per key and backend, so it must
    make the same SQL whatever the values; everything that varies is a ``Slot``.
    """
    query, sql, params = statement(key, build, *values)
    cursor = database.execute_sql(sql, bind(params, values))
    return with_columns(query._get_cursor_wrapper(cursor), (key, type(database.obj)))


def prepared_cursor(key: Hashable, build: Callable[..., Any], **values: Any) -> Any:
    """``prepared``'s rows as the database cursor hands them: plain tuples, nothing
    converted (for counts and ids read by the thousand)."""
    _, sql, params = statement(key, build, *values)
    return database.execute_sql(sql, bind(params, values))


def with_columns(wrapper: Any, slot: Hashable) -> Any:
    """``wrapper`` with its columns resolved as for the statement's earlier runs: peewee
    resolved them again on every run (the session lookup: 61 → 48 µs, its sixteen columns;
    an item with its type, node and raiser: about 150 µs). ``slot`` names the statement
    (its query object the same on every run: a prepared one's, or a module's constant)."""
    if type(wrapper) not in _RESOLVED_ONCE or wrapper.cursor.description is None:
        return wrapper
    kept = _columns.get(slot)
    if kept is None:
        if len(_columns) > 4096:
            _columns.clear()  # bounded: statements are few, but a caller may key by data
        before = set(vars(wrapper))
        wrapper.initialize()
        kept = _columns[slot] = {k: v for k, v in vars(wrapper).items() if k not in before}
    else:
        vars(wrapper).update(kept)
    wrapper.initialized = True
    return wrapper


def statement(key: Hashable, build: Callable[..., Any], *names: str) -> tuple[Any, str, Any]:
    """``prepared``'s query, SQL and parameters (holes where the slots ``names`` go), built
    once per ``key`` and backend: for a caller that runs the SQL itself."""
    slot = (key, type(database.obj))
    entry = _statements.get(slot)
    if entry is None:
        query = build(**{name: Slot(name) for name in names})
        sql, params = query.sql()
        entry = (query, sql, tuple(params))
        _statements[slot] = entry
    return entry


def bind(params: Any, values: dict[str, Any], *, partial: bool = False) -> list[Any]:
    """A built statement's parameters with each ``Slot``'s hole filled from ``values``
    (``partial``: holes without a value stay, to be filled later)."""
    return [
        (p.converter(values[p.name]) if p.converter else values[p.name])
        if type(p) is _Hole and (not partial or p.name in values)
        else p
        for p in params
    ]


# How long the answers of checks choosing how a statement reads are kept (``kept_answers``)
ANSWERS_KEPT_SECONDS = 600.0
ANSWERS_KEPT = 4096  # at most, per process
_answers = KeptAWhile(ANSWERS_KEPT_SECONDS, ANSWERS_KEPT)


def kept_answers(sql: str, params: list[Any]) -> tuple[Any, ...]:
    """The one row of ``sql`` (checks that choose which of two ways a statement reads the
    same rows by, as a subtree's size: ``queues.deadline_arms``), kept per database,
    statement and values for ``ANSWERS_KEPT_SECONDS``: an answer a little old costs at
    most a slower way for that while, never other rows. Worked out in the statement they
    chose for, the checks cost every page (a street's list with its closed items at the
    ten-year million: 0.12 ms, and 0.05 per arm left unread)."""
    return _answers.get(
        (database.obj, sql, tuple(params)),
        lambda: tuple(database.execute_sql(sql, params).fetchone()),
    )


def forget_answers() -> None:
    """Forget the kept answers (tests that change what the checks count)."""
    _answers.clear()


def padded(name: str, values: Sequence[Any]) -> dict[str, Any]:
    """``values`` (at least one) as the slots ``name0``, ``name1`` … of an ``IN`` list whose
    length is the next power of two, the last value repeated: a list of any length up to
    ``n`` then runs one of log2(n) statements, each built once (``padded_slots`` in the
    build). The key of the prepared query must hold the padded length (``len()`` of this)."""
    size = 1
    while size < len(values):
        size *= 2
    filled = [*values, *[values[-1]] * (size - len(values))]
    return {f"{name}{i}": value for i, value in enumerate(filled)}


def padded_slots(name: str, slots: dict[str, Any]) -> list[Any]:
    """The slots ``padded(name, …)`` made, in order, for the query's ``IN`` list."""
    found = []
    while f"{name}{len(found)}" in slots:
        found.append(slots[f"{name}{len(found)}"])
    return found

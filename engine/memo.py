"""A memo that lives as long as one web request: what a page looks up several times
(the packs' role settings, a subtree's node ids) is read once.

Outside a request (the CLI, the sweep, engine tests) nothing is kept and every lookup
reads the database. A write transaction empties the memo, so a request that changes
the org tree or a pack reads the new state afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from peewee import Node

T = TypeVar("T")

_memo: ContextVar[dict[Hashable, Any] | None] = ContextVar("sanfang_request_memo", default=None)


def begin() -> None:
    """Start an empty memo for the current request."""
    _memo.set({})


def end() -> None:
    """Drop the current request's memo."""
    _memo.set(None)


def clear() -> None:
    """Forget what was kept (after a write), keeping the memo on."""
    memo = _memo.get()
    if memo is not None:
        memo.clear()


def peek(key: Hashable) -> Any:
    """What this request keeps for ``key``, None when nothing."""
    memo = _memo.get()
    return None if memo is None else memo.get(key)


def remember(key: Hashable, value: Any) -> None:
    """Keep ``value`` for ``key`` in this request (read along with something else)."""
    memo = _memo.get()
    if memo is not None:
        memo[key] = value


def memoized(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, once per request for ``key``; every time outside a request."""
    memo = _memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]  # type: ignore[no-any-return]


# --- prepared statements ----------------------------------------------------------
#
# peewee builds a statement's SQL by walking the query's expression tree on every
# execution, which costs a page more than the database spends answering it. A query
# whose shape does not change between requests (the session's user, the unread count,
# an item by id) is built once per process and backend with a ``Slot`` where each
# value goes; later runs only fill the values in.


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


def prepared(key: Hashable, build: Callable[..., Any], **values: Any) -> Any:
    """The rows of ``build(**slots)`` run with ``values`` in its slots, as the query's
    own cursor wrapper (models, tuples or dicts, fields converted as peewee does).

    ``key`` names the query's shape: ``build`` runs once per key and backend, so it must
    make the same SQL whatever the values; everything that varies is a ``Slot``.
    """
    from engine.db import database

    slot = (key, type(database.obj))
    entry = _statements.get(slot)
    if entry is None:
        query = build(**{name: Slot(name) for name in values})
        sql, params = query.sql()
        entry = (query, sql, tuple(params))
        _statements[slot] = entry
    query, sql, params = entry
    bound = [
        (p.converter(values[p.name]) if p.converter else values[p.name]) if type(p) is _Hole else p
        for p in params
    ]
    return query._get_cursor_wrapper(database.execute_sql(sql, bound))

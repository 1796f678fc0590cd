"""Model instances kept in the process, each with the row it was built from.

Building a peewee model instance per row (two for a row with its joined model) costs a
page more than reading the row. For rows that rarely change — a definition's current
version with its definition — a page reads the plain columns, and a kept instance is
used again while the columns it was built from are the same: keyed by the row's id, with
the row itself as the check, so a changed row is never served from here.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

_KEPT: dict[Hashable, tuple[tuple[Any, ...], Any]] = {}
LIMIT = 10_000  # instances kept at most (bounded: a shortcut, never the only copy); the
# org nodes lists name (``listed``) are most of them


def kept(key: Hashable, row: tuple[Any, ...]) -> Any:
    """The instance kept for ``key`` if it was built from ``row``, else None."""
    entry = _KEPT.get(key)
    return entry[1] if entry is not None and entry[0] == row else None


def keep(key: Hashable, row: tuple[Any, ...], instance: Any) -> None:
    """Keep ``instance`` for ``key``, built from ``row``."""
    if len(_KEPT) >= LIMIT:
        _KEPT.clear()
    _KEPT[key] = (row, instance)


def kept_all(keys_and_rows: list[tuple[Hashable, tuple[Any, ...]]]) -> list[Any] | None:
    """The kept instances of every (key, row), in order; None when any is missing or stale."""
    found = []
    for key, row in keys_and_rows:
        instance = kept(key, row)
        if instance is None:
            return None
        found.append(instance)
    return found


def clear() -> None:
    """Forget every kept instance (tests; a restored backup)."""
    _KEPT.clear()


def build_once(key: Hashable, row: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    """The kept instance of ``key`` built from ``row``, else ``build()`` kept."""
    instance = kept(key, row)
    if instance is None:
        instance = build()
        keep(key, row, instance)
    return instance

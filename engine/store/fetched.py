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


class Shelf:
    """Values kept in the process by key, each with what it was made from (``row``, compared
    whole with ``==``): a changed row is never served from here. Bounded: past ``limit``
    entries the shelf is emptied (a shortcut, never the only copy)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._kept: dict[Hashable, tuple[Any, Any]] = {}

    def kept(self, key: Hashable, row: Any) -> Any:
        """The value kept for ``key`` if it was made from ``row``, else None."""
        entry = self._kept.get(key)
        return entry[1] if entry is not None and entry[0] == row else None

    def keep(self, key: Hashable, row: Any, value: Any) -> None:
        """Keep ``value`` for ``key``, made from ``row``."""
        if len(self._kept) >= self.limit:
            self._kept.clear()
        self._kept[key] = (row, value)

    def build_once(self, key: Hashable, row: Any, build: Callable[[], Any]) -> Any:
        """The value kept for ``key`` made from ``row``, else ``build()`` kept."""
        value = self.kept(key, row)
        if value is None:
            value = build()
            self.keep(key, row, value)
        return value

    def clear(self) -> None:
        """Forget every kept value."""
        self._kept.clear()


# instances kept at most: the org nodes lists name (``listed``) are most of them
_SHELF = Shelf(10_000)
kept = _SHELF.kept
keep = _SHELF.keep
build_once = _SHELF.build_once


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
    _SHELF.clear()

"""Figures shown "as of" a time: worked out at most a few minutes before they are read.

A supervisor's statistics (a quarter's evaluation, the median time to resolve) move little
in minutes and cost most of their page's time at a million items. ``AsOf`` keeps each
value in this process with the time it was worked out, per key, and works it out again
once it is older than the reader allows (``max_age`` seconds; 0 works it out every time).
The page says when (``figures as of 21:40``) and offers to work them out now.

A key holds everything the value depends on besides the data and the clock: the reader's
grants, the period, the database. Two processes keep their own values, each at most
``max_age`` old.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from engine.store.db import database

T = TypeVar("T")


class AsOf(Generic[T]):
    """Values per key with the time each was worked out, at most ``most`` of them (all
    forgotten when full)."""

    def __init__(self, most: int = 256) -> None:
        self.most = most
        self._kept: dict[Hashable, tuple[dt.datetime, T]] = {}

    def get(
        self, key: Hashable, work: Callable[[], T], *, now: dt.datetime, max_age: float
    ) -> tuple[T, dt.datetime]:
        """The value kept for ``key`` if worked out at most ``max_age`` seconds before
        ``now`` (never one from after ``now``: a clock set back), else ``work()`` kept
        as of ``now``; and when it was worked out."""
        key = (key, type(database.obj), database.database)
        kept = self._kept.get(key)
        if kept is None or max_age <= 0 or not 0 <= (now - kept[0]).total_seconds() <= max_age:
            if len(self._kept) >= self.most:
                self._kept.clear()
            kept = self._kept[key] = (now, work())
        return kept[1], kept[0]

    def clear(self) -> None:
        self._kept.clear()

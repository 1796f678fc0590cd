"""A memo that lives as long as one web request: what a page looks up several times
(the packs' role settings, a subtree's node ids) is read once.

Outside a request (the CLI, the sweep, engine tests) nothing is kept and every lookup
reads the database. A write transaction empties the memo, so a request that changes
the org tree or a pack reads the new state afterwards.

``KeptAWhile`` keeps values across requests for some seconds: for answers that only
steer how a statement reads (a subtree's size), never what it finds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from typing import Any, TypeVar

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


class KeptAWhile:
    """Values kept in the process ``seconds`` each, computed again once older; at most
    ``most`` of them (all forgotten past that: a kept value is only a shortcut)."""

    def __init__(self, seconds: float, most: int) -> None:
        self.seconds = seconds
        self.most = most
        self._kept: dict[Hashable, tuple[float, Any]] = {}

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, kept for ``key`` ``seconds``."""
        now = time.monotonic()
        hit = self._kept.get(key)
        if hit is not None and now - hit[0] < self.seconds:
            return hit[1]  # type: ignore[no-any-return]
        value = compute()
        if len(self._kept) >= self.most:
            self._kept.clear()
        self._kept[key] = (now, value)
        return value

    def clear(self) -> None:
        self._kept.clear()

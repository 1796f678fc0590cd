"""What changed while a form was open (optimistic locking as the user sees it).

A form that edits something others may change carries two hidden values: the lock
(version) it was shown with, which the engine compares in its UPDATE, and ``seen``,
the newest audit event about the thing it had shown. When the save loses (409), or
whenever the form comes back while others changed the thing, the page shows the
events since ``seen`` (who, when, what) next to the user's answers, which stay in the
form, and from then on carries the current lock: the user has been shown the change,
so sending again takes it over knowingly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import request

from engine.core.errors import Conflict
from engine.store.models import Event, Item
from engine.trail import audit


@dataclass(frozen=True)
class Staleness:
    """The hidden values a form is rendered with, and what its user has not seen yet."""

    lock: int
    seen: int
    since: list[Event] = field(default_factory=list)
    conflict: Conflict | None = None

    @property
    def status(self) -> int | None:
        """409 when the save lost to another one, else None (the page decides)."""
        return 409 if self.conflict is not None else None


def staleness(
    current_lock: int,
    lock_field: str,
    *,
    target: str | None = None,
    item: Item | None = None,
    conflict: Conflict | None = None,
) -> Staleness:
    """The form's hidden values and the events since it was shown.

    :param current_lock: the lock stored now (re-read after a lost save).
    :param lock_field: the name the form posts its lock under.
    :param conflict: the engine's refusal of a stale save, if it refused.
    """
    about: dict[str, Any] = {"item": item} if item is not None else {"target": target}
    if request.method != "POST":
        return Staleness(current_lock, audit.latest_id(**about))
    seen = request.form.get("seen", type=int)
    since = audit.since(seen, **about) if seen is not None else []
    posted = request.form.get(lock_field, type=int)
    shown = bool(since) or conflict is not None or posted is None
    return Staleness(
        current_lock if shown else posted,
        audit.latest_id(**about) if seen is None else seen,
        since,
        conflict,
    )

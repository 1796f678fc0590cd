"""The names of the events webhooks may subscribe to, and how a subscription matches."""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase

# Every event the outbox forwards; a subscription names these or a "*" pattern over them.
EVENTS = (
    "notification",
    "item.raised",
    "item.transition",
    "item.summoned",
    "item.reported_in",
    "item.completed",
    "item.declined",
    "item.summons_cancelled",
)

# Audit actions forwarded as item events ("transition.<key>" and "route" are handled apart).
EVENT_OF_ACTION = {
    "item.raise": "item.raised",
    "summons.report_in": "item.reported_in",
    "summons.complete": "item.completed",
    "summons.decline": "item.declined",
    "summons.cancel": "item.summons_cancelled",
}


def event_of_action(action: str) -> str | None:
    """The webhook event an audit action is forwarded as, or None if it is not forwarded."""
    if action.startswith("transition."):
        return "item.transition"
    if action == "route":
        return "item.summoned"
    return EVENT_OF_ACTION.get(action)


def matches(patterns: Iterable[str], event: str) -> bool:
    """Whether ``event`` is one ``patterns`` subscribe to (``*`` is a wildcard)."""
    return any(fnmatchcase(event, pattern) for pattern in patterns)


def unknown_pattern(pattern: str) -> bool:
    """A pattern that matches no event at all: almost certainly a typo."""
    return not any(fnmatchcase(event, pattern) for event in EVENTS)

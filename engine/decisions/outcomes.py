"""What a resolution (决议) or an opinion (意见) turns into: the outcome kinds.

A meeting or opinion definition lists its ``outcomes`` (docs/pack-format.md); each names a
kind registered here. ``item`` raises an item of a type, its answers computed by rules over
the source, and links the two both ways. ``poll`` (open a poll of a definition) is declared
but has no runner until the poll kind registers one with :func:`register`; an outcome whose
kind has no runner is not offered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import rules
from engine.core.errors import FieldProblem, Invalid, NotFound
from engine.core.i18n import gettext as _
from engine.org.actors import Actor
from engine.store.decision_tables import ItemOrigin
from engine.store.models import Item, OrgNode
from engine.trail import audit
from engine.workflow import items


@dataclass(frozen=True)
class Source:
    """What an outcome is taken from: a resolution of a meeting, or an opinion of a collection.

    :ivar doc: what the outcome's rules read (``resolution``/``meeting`` or ``opinion``/``collection``).
    """

    kind: str  # resolution, opinion
    id: int
    node: OrgNode
    doc: Mapping[str, Any]
    meeting_id: int | None = None
    collection_id: int | None = None
    title: str = ""  # the meeting's or the collection's, as the item page names its origin


@dataclass(frozen=True)
class Taken:
    """What an outcome made: an item, or another record named by ``target`` (``poll:7``)."""

    item: Item | None = None
    target: str | None = None


Runner = Callable[[Actor, Mapping[str, Any], Source, dt.datetime], Taken]
Offerable = Callable[[Actor, Mapping[str, Any], OrgNode], bool]


@dataclass(frozen=True)
class OutcomeKind:
    run: Runner | None
    offerable: Offerable | None = None


def _raise_item(actor: Actor, spec: Mapping[str, Any], source: Source, now: dt.datetime) -> Taken:
    data: dict[str, Any] = {}
    for name, rule in spec.get("data", {}).items():
        try:
            data[name] = rules.compile(rule)(dict(source.doc))
        except rules.RuleError as exc:
            message = _("The outcome %(label)s cannot be computed: %(error)s") % {
                "label": spec["label"],
                "error": exc.message,
            }
            raise Invalid(message, [FieldProblem(f"outcome/data/{name}", message)]) from exc
    item = items.raise_item(actor, spec["type"], source.node.key, data, now=now)
    ItemOrigin.create(
        item=item,
        kind=source.kind,
        meeting=source.meeting_id,
        collection=source.collection_id,
        source=source.id,
    )
    audit.record(
        "item.origin",
        at=now,
        actor=actor.user,
        item=item,
        target=f"{source.kind}:{source.id}",
        after={
            "kind": source.kind,
            "id": source.id,
            "meeting": source.meeting_id,
            "collection": source.collection_id,
            "title": source.title,
            "outcome": spec["key"],
        },
    )
    return Taken(item=item)


def _may_raise(actor: Actor, spec: Mapping[str, Any], node: OrgNode) -> bool:
    from engine.definitions.definitions import applies_at, current_versions

    # Every item type's current version, read once per request (a page offers several
    # outcomes: a lookup of the definition and its version each was two queries apiece).
    version = next(
        (v for v in current_versions("item_type") if v.definition.key == spec.get("type")),
        None,
    )
    if version is None:
        return False
    body = version.body
    return (
        node.kind in body.get("node_kinds", ["compound"])
        and applies_at(body, node.path)
        and any(actor.reaches(role, node.path) for role in body.get("raise_roles", []))
    )


OUTCOME_KINDS: dict[str, OutcomeKind] = {
    "item": OutcomeKind(_raise_item, _may_raise),
    "poll": OutcomeKind(None),  # the poll kind registers its runner
}


def register(kind: str, run: Runner, offerable: Offerable | None = None) -> None:
    """Give outcome ``kind`` (declared in the pack schema) its runner."""
    OUTCOME_KINDS[kind] = OutcomeKind(run, offerable)


def offered(
    actor: Actor, outcomes: list[Mapping[str, Any]], node: OrgNode
) -> list[Mapping[str, Any]]:
    """The outcomes ``actor`` may take at ``node``: their kind runs, and allows them."""
    found = []
    for spec in outcomes:
        kind = OUTCOME_KINDS.get(spec["kind"])
        if kind is None or kind.run is None:
            continue
        if kind.offerable is None or kind.offerable(actor, spec, node):
            found.append(spec)
    return found


def take(
    actor: Actor, outcomes: list[Mapping[str, Any]], key: str, source: Source, *, now: dt.datetime
) -> Taken:
    """Take the outcome ``key`` on ``source``; the caller holds the transaction.

    :raises NotFound: no such outcome offered to the actor.
    """
    spec = next((o for o in offered(actor, outcomes, source.node) if o["key"] == key), None)
    if spec is None:
        raise NotFound(_("No such outcome."))
    run = OUTCOME_KINDS[spec["kind"]].run
    assert run is not None  # offered() keeps only kinds that run
    return run(actor, spec, source, now)


def origin_of(item: Item) -> ItemOrigin | None:
    """The resolution or opinion ``item`` came from, if any (one query)."""
    return ItemOrigin.get_or_none(ItemOrigin.item == item)

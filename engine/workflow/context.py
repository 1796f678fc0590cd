"""The rule document of an item as an actor sees it, read from the database (built by engine.workflow.kernel)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from engine.org.actors import Actor
from engine.store.models import Assignment, Item, OrgNode
from engine.workflow import kernel


def node_doc(node: OrgNode) -> dict[str, Any]:
    return kernel.node_doc(node)


def actor_doc(actor: Actor | None, node_path: str = "/") -> dict[str, Any]:
    if actor is None:
        return kernel.actor_doc(None)
    return kernel.actor_doc(actor.user.username, actor.roles_at(node_path))


def assignment_counts(
    item: Item, now: dt.datetime, assignments: Iterable[Assignment] | None = None
) -> dict[str, int]:
    rows = (
        Assignment.select().where(Assignment.item == item) if assignments is None else assignments
    )
    return kernel.summons_counts(rows, now)


def item_doc(
    item: Item,
    *,
    actor: Actor | None,
    now: dt.datetime,
    form: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    assignments: Iterable[Assignment] | None = None,
) -> dict[str, Any]:
    """The rule document for ``item`` as ``actor`` sees it at ``now`` (:func:`engine.workflow.kernel.rule_doc`).

    :param assignments: all the item's summonses, when the caller has them already.
    """
    return kernel.rule_doc(
        kernel.ItemFacts.of(item, item.definition.key),
        item.node,
        data=item.data if data is None else data,
        form=form,
        now=now,
        actor=actor_doc(actor, item.node_path),
        counts=assignment_counts(item, now, assignments),
    )


def new_item_doc(
    node: OrgNode, data: Mapping[str, Any], *, type_key: str, actor: Actor | None, now: dt.datetime
) -> dict[str, Any]:
    """The rule document for an item being raised (no id, no summons yet)."""
    facts = kernel.ItemFacts(None, type_key, None, 0, None, now, now)
    return kernel.rule_doc(facts, node, data=data, now=now, actor=actor_doc(actor, node.path))

"""Gates in a workflow (党组织先议先审): the decision a gate's role took, with its reasons.

A gate is data in an item type (a state's ``gate``, its transitions' ``decision``): the
kernel plans the decision with the move (``engine/workflow/kernel.py``), the item writer records it
here in the same transaction, and the item page lists an item's decisions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.org.actors import Actor
from engine.store.decision_tables import GateDecision
from engine.store.models import Item, User
from engine.trail import audit


def record(item: Item, decision: dict[str, Any], *, actor: Actor, now: dt.datetime) -> GateDecision:
    """Record a gate decision planned by the kernel and audit it (``gate.decide``)."""
    row = GateDecision.create(
        item=item,
        node_path=item.node_path,
        state=decision["state"],
        transition=decision["transition"],
        decision=decision["decision"],
        reasons=decision["reasons"],
        by=actor.user,
        at=now,
    )
    audit.record(
        "gate.decide",
        at=now,
        actor=actor.user,
        item=item,
        target=f"item:{item.id}",
        after=dict(decision),
    )
    return row


def decisions_of(item: Item) -> list[GateDecision]:
    """The item's gate decisions, oldest first, with who took them (one query)."""
    return list(
        GateDecision.select(GateDecision, User)
        .join(User, on=(GateDecision.by == User.id))
        .where(GateDecision.item == item)
        .order_by(GateDecision.at, GateDecision.id)
    )

"""Facts of deliberation per org node (docs/facts.md: ``meetings``, ``opinions``, ``gates``):
meetings held and their resolutions, opinions collected, gate decisions (先议先审).

Each table is read once, grouped by the node its rows belong to, and rolled up to every
area node above, like the items (engine/metrics/facts.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from peewee import fn

from engine.store.decision_tables import (
    GateDecision,
    Meeting,
    Opinion,
    OpinionCollection,
    Resolution,
)
from engine.store.models import Item


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def compute(
    node_ids: list[int],
    ancestors: Mapping[int, list[int]],
    compounds_under: Mapping[int, list[int]],
) -> dict[int, dict[str, Any]]:
    """The ``meetings``, ``opinions`` and ``gates`` sections of each of ``node_ids``.

    :param ancestors: node id → itself (if an area) and every area node above it.
    :param compounds_under: area node id → the compounds of its subtree.
    """
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(node_id: int, name: str, value: Any) -> None:
        for anc in ancestors.get(node_id, ()):
            counts[anc][name] += int(value or 0)

    held_at: set[int] = set()
    meetings = Meeting.select(Meeting.node, Meeting.state, fn.COUNT(Meeting.id)).group_by(
        Meeting.node, Meeting.state
    )
    for node_id, state, n in meetings.tuples():
        add(node_id, f"meetings.{state}", n)
        if state == "held":
            held_at.add(node_id)
    resolutions = (
        Resolution.select(Meeting.node, fn.COUNT(Resolution.id), fn.COUNT(Resolution.item))
        .join(Meeting)
        .group_by(Meeting.node)
    )
    for node_id, n, raised in resolutions.tuples():
        add(node_id, "meetings.resolutions", n)
        add(node_id, "meetings.items", raised)
    collections = OpinionCollection.select(
        OpinionCollection.node, fn.COUNT(OpinionCollection.id)
    ).group_by(OpinionCollection.node)
    for node_id, n in collections.tuples():
        add(node_id, "opinions.collections", n)
    answers = (
        Opinion.select(OpinionCollection.node, fn.COUNT(Opinion.id), fn.COUNT(Opinion.item))
        .join(OpinionCollection)
        .group_by(OpinionCollection.node)
    )
    for node_id, n, items in answers.tuples():
        add(node_id, "opinions.answers", n)
        add(node_id, "opinions.items", items)
    gates = (
        GateDecision.select(Item.node, GateDecision.decision, fn.COUNT(GateDecision.id))
        .join(Item)
        .group_by(Item.node, GateDecision.decision)
    )
    for node_id, decision, n in gates.tuples():
        add(node_id, "gates.decided", n)
        add(node_id, f"gates.by_decision.{decision}", n)
    # A compound counts as deliberating when a meeting was held at it or at one of its buildings.
    held_compounds = {a for node_id in held_at for a in ancestors.get(node_id, ())}
    out: dict[int, dict[str, Any]] = {}
    for node_id in node_ids:
        c = counts.get(node_id, {})
        compounds = compounds_under.get(node_id, [])
        with_meetings = sum(1 for k in compounds if k in held_compounds)
        by_decision = {
            k.split(".", 2)[2]: v for k, v in c.items() if k.startswith("gates.by_decision.")
        }
        out[node_id] = {
            "meetings": {
                "held": c.get("meetings.held", 0),
                "planned": c.get("meetings.planned", 0),
                "resolutions": c.get("meetings.resolutions", 0),
                "items": c.get("meetings.items", 0),
                "compounds": with_meetings,
                "compound_rate": _rate(with_meetings, len(compounds)),
            },
            "opinions": {
                "collections": c.get("opinions.collections", 0),
                "answers": c.get("opinions.answers", 0),
                "items": c.get("opinions.items", 0),
            },
            "gates": {"decided": c.get("gates.decided", 0), "by_decision": by_decision},
        }
    return out

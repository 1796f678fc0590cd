"""Facts about votes (docs/facts.md, ``polls``): held, participation, electronic share.

One grouped scan of polls and one of ballots, by the compound a poll is held at, rolled
up in Python to every area above it (as engine/metrics/facts.py does for items).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from peewee import Case, fn

from engine.store.polls import Ballot, Poll, PollUnit

FIELDS = (
    "polls",
    "held",
    "open",
    "quorate",
    "passed",
    "units",
    "units_voted",
    "ballots",
    "electronic",
)


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def poll_facts(ancestors: dict[int, list[int]]) -> dict[int, dict[str, Any]]:
    """The ``polls`` facts document of every area node with a vote in its subtree.

    :param ancestors: node id -> the area nodes it counts towards (itself included).
    """
    per_node: dict[int, list[int]] = defaultdict(lambda: [0] * len(FIELDS))
    polls_query = Poll.select(
        Poll.node,
        fn.COUNT(Poll.id),
        fn.SUM(Case(None, [(Poll.closed, 1)], 0)),
        fn.SUM(Case(None, [(Poll.closed, 0)], 1)),
    ).group_by(Poll.node)
    for node_id, count, held, still_open in polls_query.tuples():
        row = per_node[node_id]
        row[0], row[1], row[2] = int(count), int(held or 0), int(still_open or 0)
    closed = Poll.select(Poll.node, Poll.result).where(Poll.closed)
    for node_id, result in closed.tuples():
        row = per_node[node_id]
        row[3] += bool(result and result.get("quorum"))
        row[4] += bool(result and result.get("passed"))
    units = (
        PollUnit.select(Poll.node, fn.COUNT(PollUnit.id))
        .join(Poll, on=(PollUnit.poll == Poll.id))
        .where(Poll.closed)
        .group_by(Poll.node)
    )
    for node_id, count in units.tuples():
        per_node[node_id][5] += int(count)
    cast = (
        Ballot.select(
            Poll.node,
            Poll.closed,
            fn.COUNT(Ballot.id),
            fn.SUM(Case(None, [(Ballot.channel == "online", 1)], 0)),
        )
        .join(Poll, on=(Ballot.poll == Poll.id))
        .group_by(Poll.node, Poll.closed)
    )
    for node_id, is_closed, count, online in cast.tuples():
        row = per_node[node_id]
        if is_closed:
            row[6] += int(count)
        row[7] += int(count)
        row[8] += int(online or 0)
    summed: dict[int, list[int]] = defaultdict(lambda: [0] * len(FIELDS))
    compounds: dict[int, int] = defaultdict(int)
    for node_id, row in per_node.items():
        for anc_id in ancestors.get(node_id, ()):
            into = summed[anc_id]
            for i, value in enumerate(row):
                into[i] += value
            compounds[anc_id] += bool(row[1])
    out: dict[int, dict[str, Any]] = {}
    for node_id, row in summed.items():
        values = dict(zip(FIELDS, row, strict=True))
        out[node_id] = {
            "total": values["polls"],
            "held": values["held"],
            "open": values["open"],
            "quorate": values["quorate"],
            "passed": values["passed"],
            "ballots": values["ballots"],
            "electronic": values["electronic"],
            "evote_share": _rate(values["electronic"], values["ballots"]),
            "participation_rate": _rate(values["units_voted"], values["units"]),
            "compounds_held": compounds[node_id],
        }
    return out


EMPTY = {
    "total": 0,
    "held": 0,
    "open": 0,
    "quorate": 0,
    "passed": 0,
    "ballots": 0,
    "electronic": 0,
    "evote_share": None,
    "participation_rate": None,
    "compounds_held": 0,
}

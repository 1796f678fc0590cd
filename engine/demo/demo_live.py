"""The demo's live board (实时预警看板): a few matters of each type with ``live_board``,
raised in the last hours at compounds of different streets and still open, so the board
has clocks to show — some still within their deadline, some already overdue.

How many is the pack's to say (demo.json ``live_board_open``); its own generator keeps the
district's other draws as they were.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from typing import Any

from engine.definitions.definitions import applies_at, current_versions
from engine.demo.demo import answer_pool
from engine.org.actors import actor_for
from engine.store.models import Grant, OrgNode, User
from engine.workflow import items


def raise_open(pools: Mapping[str, Any], nodes: list[OrgNode], *, now: dt.datetime) -> int:
    """Raise ``live_board_open`` open matters of each live-board type; the number raised."""
    count = int(pools.get("live_board_open", 0))
    if not count or not nodes:
        return 0
    rng = random.Random("live-board")
    draw = answer_pool(rng, pools, now)
    raised = 0
    by_street: dict[str, list[OrgNode]] = {}
    for node in nodes:  # one compound per street in turn, so every street shows up
        by_street.setdefault(node.path.split("/")[2], []).append(node)
    spread = [n for group in zip(*by_street.values(), strict=False) for n in group]
    for version in current_versions("item_type"):
        body = version.body
        if not body.get("live_board"):
            continue
        places = [n for n in spread if applies_at(body, n.path)][:count]
        for node in places:
            user = (
                User.select()
                .join(Grant)
                .where((Grant.node == node.id) & (Grant.role == "commissioner"))
                .first()
            )
            if user is None:
                continue
            ago = dt.timedelta(minutes=rng.choice((6, 18, 35, 52, 95, 140, 200)))
            items.raise_item(
                actor_for(user), body["key"], node.key, draw(body["schema"]), now=now - ago
            )
            raised += 1
    return raised

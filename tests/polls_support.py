"""Households with registered areas and a poll at the seed's 绿洲花园 (lvzhouhuayuan)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.store.models import OrgNode, User
from engine.store.tables import Household

NOW = dt.datetime(2026, 11, 27, 1, 0)
COMPOUND = "lvzhouhuayuan"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def make_households(units: list[dict[str, Any]], compound: str = COMPOUND) -> list[Household]:
    """One household per entry: ``building`` (1-based index), ``room``, ``area`` (hundredths),
    optional ``owner_key``, ``developer_held``, ``account`` (username)."""
    node = OrgNode.get(OrgNode.key == compound)
    buildings = list(OrgNode.select().where(OrgNode.parent == node).order_by(OrgNode.id))
    made = []
    for unit in units:
        account = unit.get("account")
        made.append(
            Household.create(
                building=buildings[unit.get("building", 1) - 1],
                compound=node,
                room=unit["room"],
                owner_name=unit.get("owner_name", "业主"),
                registered_area=unit["area"],
                owner_key=unit.get("owner_key", ""),
                developer_held=unit.get("developer_held", False),
                owner_user=User.get(User.username == account) if account else None,
                updated_at=NOW,
            )
        )
    return made


def resident(username: str, compound: str = COMPOUND) -> User:
    """A resident account of the compound (made when the seed has none by that name)."""
    from engine.store.models import Grant

    user = User.get_or_none(User.username == username)
    if user is None:
        user = User.create(username=username, name=username, password_hash="!")
        Grant.create(user=user, role="resident", node=OrgNode.get(OrgNode.key == compound))
    return user


def units_of(
    count: int, *, area: int = 10000, prefix: str = "1-", accounts: bool = False
) -> list[dict[str, Any]]:
    out = []
    for i in range(count):
        unit: dict[str, Any] = {"room": f"{prefix}{101 + i}", "area": area, "building": 1 + i % 4}
        if accounts:
            unit["account"] = resident(f"owner{prefix}{i}").username
        out.append(unit)
    return out

"""Residents' channels (协商铃 and any item type residents raise and are offered): accounts
registered, items raised and solved, per compound, community, street (issue 14)."""

from __future__ import annotations

from engine.metrics import dashboard, facts
from engine.store.models import Grant, User
from tests.engine.conftest import NOW, make_node


def _resident(name: str, *nodes, active: bool = True) -> User:
    user = User.create(username=name, name=name, password_hash="x", active=active)
    for node in nodes:
        Grant.create(user=user, role="resident", node=node)
    return user


def test_users_rings_and_solved_share(little):
    a, b = little["a"], little["b"]
    building = make_node("a-1", "building", a)
    _resident("r1", a)
    _resident("r2", building, a)  # two homes in the same compound: one account
    _resident("r3", b)
    _resident("gone", a, active=False)  # a closed account does not count
    Grant.create(user=User.get(User.username == "r3"), role="commissioner", node=a)
    docs = facts.compute_all(now=NOW)
    users = {k: docs[little[k].id]["residents"]["users"] for k in ("a", "b", "community", "street")}
    assert users == {"a": 2, "b": 1, "community": 3, "street": 3}
    usage = {u.type_key: u for u in dashboard.usage(docs[little["community"].id])}
    # bells at A: 4 raised, 3 resolved; a repair at B, open
    assert (usage["bell"].raised, usage["bell"].resolved, usage["bell"].resolution_rate) == (
        4,
        3,
        75.0,
    )
    assert (usage["repair"].raised, usage["repair"].resolved) == (1, 0)
    assert usage["bell"].name == "小区协商铃"


def test_the_channels_are_what_the_definitions_declare(app):
    channels = {v.body["key"]: v.body for v in dashboard.resident_channels()}
    assert {"bell", "repair"} <= set(channels)
    assert "whistle" not in channels  # residents do not blow the whistle
    assert "disclosure-question" not in channels  # raised from a statement, not listed
    assert all("resident" in b["raise_roles"] and b.get("listed", True) for b in channels.values())
    assert dashboard.usage(None) == []

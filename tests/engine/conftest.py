"""A small hand-made district for facts, checklists and indices: every number known."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from engine.definitions.definitions import current_version
from engine.store.models import Assignment, Item, OrgNode

NOW = dt.datetime(2026, 11, 27, 1, 0, 0)
H = dt.timedelta(hours=1)


def make_node(
    key: str, kind: str, parent: OrgNode | None, profile: dict[str, Any] | None = None
) -> OrgNode:
    node = OrgNode.create(
        key=key, name=key.upper(), kind=kind, parent=parent, path="", keys=[], profile=profile or {}
    )
    node.path = f"{parent.path if parent else '/'}{node.id}/"
    node.keys = [*(parent.keys if parent else []), key]
    node.save()
    return node


def make_item(
    node: OrgNode,
    type_key: str = "bell",
    *,
    state: str,
    raised_hours_ago: float,
    closed: bool = False,
    due_in_hours: float | None = None,
    resolved_after: float | None = None,
    satisfaction: int | None = None,
    reopened: int = 0,
) -> Item:
    version = current_version(type_key)
    raised = NOW - raised_hours_ago * H
    return Item.create(
        definition=version.definition_id,
        version=version,
        node=node,
        node_path=node.path,
        title="t",
        state=state,
        raised_at=raised,
        state_since=raised,
        due_at=None if due_in_hours is None else NOW + due_in_hours * H,
        resolved_at=None if resolved_after is None else raised + resolved_after * H,
        resolution_seconds=None if resolved_after is None else int(resolved_after * 3600),
        satisfaction=satisfaction,
        closed=closed,
        reopen_count=reopened,
    )


def make_summons(
    item: Item,
    unit: OrgNode,
    *,
    report_late: bool | None,
    done_late: bool | None,
    open_: bool = False,
    next_due_in: float | None = None,
) -> Assignment:
    start = item.raised_at
    return Assignment.create(
        item=item,
        unit=unit,
        unit_path=unit.path,
        role="department",
        table="whistle",
        summoned_at=start,
        report_due_at=start + 4 * H,
        handle_due_at=start + 48 * H,
        reported_at=None if report_late is None else start + (6 if report_late else 2) * H,
        done_at=None if done_late is None else start + (60 if done_late else 24) * H,
        state="done" if done_late is not None else "reported",
        open=open_,
        next_due_at=None if next_due_in is None else NOW + next_due_in * H,
    )


FULL = {
    "has_party_org": True,
    "commissioner_name": "甲",
    "committee_type": "业委会",
    "committee_members": 5,
    "committee_party_members": 3,
    "professional_property": True,
    "property_company": "某物业",
    "buildings": 10,
    "building_leader_system": True,
    "building_leaders": 8,
    "party_member_buildings": 5,
    "households": 300,
    "fee_collection_rate": 90.0,
    "finance_disclosure_online": True,
    "in_service_party_members": 10,
    "in_service_party_members_reported": 9,
    "property_petitions": 7,
    "property_petitions_last_year": 10,
    "service_points": [{"name": "服务点"}],
}
BARE = {
    "has_party_org": False,
    "committee_type": "无",
    "buildings": 10,
    "households": 100,
    "fee_collection_rate": 70.0,
    "in_service_party_members": 10,
    "in_service_party_members_reported": 10,
    "property_petitions": 3,
    "property_petitions_last_year": 10,
}


@pytest.fixture
def little(app: Any) -> dict[str, OrgNode]:
    """Street S → community C → compounds A (full file) and B (bare file); a department D.

    A: 4 bells — resolved in 2 h (rated 5), in 10 h (rated 3, reopened once), in 30 h
    (not rated), and one open and overdue. B: one open repair not yet due.
    A's two summons of D: reported on time and done on time; reported late, done late.
    """
    district = OrgNode.get(OrgNode.kind == "district")
    street = make_node("s", "street", district)
    community = make_node("c", "community", street)
    a = make_node("a", "compound", community, FULL)
    b = make_node("b", "compound", community, BARE)
    dept = make_node("d", "department", district)
    first = make_item(
        a, state="closed", raised_hours_ago=50, closed=True, resolved_after=2, satisfaction=5
    )
    make_item(
        a,
        state="closed",
        raised_hours_ago=50,
        closed=True,
        resolved_after=10,
        satisfaction=3,
        reopened=1,
    )
    second = make_item(a, state="resolved", raised_hours_ago=50, resolved_after=30, due_in_hours=20)
    make_item(a, state="handling", raised_hours_ago=50, due_in_hours=-1)
    make_item(b, "repair", state="submitted", raised_hours_ago=1, due_in_hours=5)
    make_summons(first, dept, report_late=False, done_late=False)
    make_summons(second, dept, report_late=True, done_late=True)
    return {"street": street, "community": community, "a": a, "b": b, "dept": dept}

"""Year-over-year item facts (同比) cut at local (Asia/Shanghai) year boundaries."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.metrics import facts, yearly
from engine.store.models import Item, OrgNode
from tests.engine.conftest import make_node


def _raise(node, at: dt.datetime) -> None:
    from engine.definitions.definitions import current_version

    version = current_version("bell")
    Item.create(
        definition=version.definition_id,
        version=version,
        node=node,
        node_path=node.path,
        title="t",
        state="collected",
        raised_at=at,
        state_since=at,
    )


def test_bounds_are_local_midnight():
    # 2026-01-01 00:00 in Shanghai is 2025-12-31 16:00 UTC
    b = yearly.bounds(dt.datetime(2026, 3, 1, 4, 0))
    assert b.this_start == dt.datetime(2025, 12, 31, 16, 0)
    assert b.last_start == dt.datetime(2024, 12, 31, 16, 0)
    assert b.last_same == dt.datetime(2025, 3, 1, 4, 0)
    assert b.this_year == 2026
    # 29 February back one year is the 28th; 2028-02-29 12:00 local = 04:00 UTC
    assert yearly.bounds(dt.datetime(2028, 2, 29, 4, 0)).last_same == dt.datetime(2027, 2, 28, 4, 0)
    # 2026-12-31 17:00 UTC is already 2027 in Shanghai
    assert yearly.bounds(dt.datetime(2026, 12, 31, 17, 0)).this_year == 2027


def test_year_facts_at_the_boundary(app):
    district = OrgNode.get(OrgNode.kind == "district")
    street = make_node("ys", "street", district)
    compound = make_node("yc", "compound", make_node("ycm", "community", street))
    utc = dt.datetime
    # last year (2025 local): 2025-01-01 00:30 local = 2024-12-31 16:30 UTC, counts for 2025
    for at in (utc(2024, 12, 31, 16, 30), utc(2025, 3, 1), utc(2025, 5, 31), utc(2025, 9, 1)):
        _raise(compound, at)
    _raise(
        compound, utc(2024, 12, 31, 15, 30)
    )  # 2024-12-31 23:30 local: the year before, not counted
    # this year (2026 local): 2025-12-31 16:30 UTC is 2026-01-01 00:30 local
    _raise(compound, utc(2025, 12, 31, 16, 30))
    _raise(compound, utc(2026, 4, 1))
    now = utc(2026, 6, 1, 0, 0)  # 08:00 local on 1 June 2026
    doc = facts.compute_all(now=now)
    for node in (compound, street):
        bell = doc[node.id]["by_type"]["bell"]
        assert (bell["this_year"], bell["last_year"], bell["last_year_to_date"]) == (2, 4, 3)
        assert bell["year_change_rate"] == -33.33  # (2 - 3) / 3
    # a minute before local midnight of New Year: everything in 2026 is "this year"
    late = facts.compute_all(now=utc(2026, 12, 31, 15, 59))[street.id]["by_type"]["bell"]
    assert (late["this_year"], late["last_year"], late["last_year_to_date"]) == (2, 4, 4)
    assert late["year_change_rate"] == -50.0
    # a minute after it: the 2026 items are last year's
    new = facts.compute_all(now=utc(2026, 12, 31, 16, 1))[street.id]["by_type"]["bell"]
    assert (new["this_year"], new["last_year"], new["last_year_to_date"]) == (0, 2, 0)
    assert new["year_change_rate"] is None  # nothing by 00:01 on New Year's day last year


@pytest.fixture(params=["by path", "on the type's index"])
def monthly_way(request, monkeypatch):
    """``yearly.monthly`` reads the items one of two ways, chosen in its statement by size:
    a subtree with fewer items than the type has since last year is read on the path
    index (the tests' small trees), otherwise the type's items on their index, each tested
    for its path (a cap of 0 on the type's count makes every subtree the larger)."""
    from engine.store import prepared
    from engine.store.db import database

    if request.param != "by path":
        monkeypatch.setattr(yearly, "MONTHLY_TYPE_CAP", 0)
    key = ("yearly.monthly", type(database.obj))
    prepared._statements.pop(key, None)  # the cap is in the built statement
    yield request.param
    prepared._statements.pop(key, None)


def test_monthly_counts_by_local_month(app, monthly_way):
    district = OrgNode.get(OrgNode.kind == "district")
    street = make_node("ms", "street", district)
    other = make_node("mo", "street", district)
    compound = make_node("mc", "compound", make_node("mcm", "community", street))
    _raise(compound, dt.datetime(2026, 1, 31, 16, 30))  # 1 February local
    _raise(compound, dt.datetime(2025, 1, 10))
    found = yearly.monthly("bell", [street, other], now=dt.datetime(2026, 3, 1))
    assert found[street.id]["this"][1] == 1 and sum(found[street.id]["this"]) == 1
    assert found[street.id]["last"][0] == 1
    assert sum(found[other.id]["this"]) == 0


def test_monthly_cuts_at_each_local_month_and_counts_every_area_above(app, monthly_way):
    """Months are found by bisection on their UTC starts: an item a second before a local
    month starts is the month before's; an area counts the items of every node under it,
    and nested areas both count them."""
    district = OrgNode.get(OrgNode.kind == "district")
    street = make_node("ys", "street", district)
    community = make_node("ysc", "community", street)
    compound = make_node("ysm", "compound", community)
    _raise(compound, dt.datetime(2026, 5, 31, 15, 59, 59))  # 31 May 23:59:59 local
    _raise(compound, dt.datetime(2026, 5, 31, 16, 0))  # 1 June 00:00 local
    _raise(community, dt.datetime(2025, 12, 31, 15, 59, 59, 500000))  # last year, December
    _raise(community, dt.datetime(2024, 12, 31, 16, 0))  # 1 January last year local
    found = yearly.monthly("bell", [street, community, compound], now=dt.datetime(2026, 7, 1))
    assert found[compound.id]["this"][4:6] == [1, 1] and sum(found[compound.id]["last"]) == 0
    for area in (street, community):
        assert found[area.id]["this"][4:6] == [1, 1]
        assert found[area.id]["last"][11] == 1 and found[area.id]["last"][0] == 1
        assert sum(found[area.id]["last"]) == 2


def test_an_area_with_its_children_as_plain_rows(app):
    district = OrgNode.get(OrgNode.kind == "district")
    street = make_node("ya", "street", district)
    first, second = make_node("ya1", "community", street), make_node("ya2", "community", street)
    make_node("ya1c", "compound", first)  # a grandchild: not listed
    found, children = yearly.area_with_children("ya")
    assert found is not None and (found.id, found.name, found.path) == (
        street.id,
        street.name,
        street.path,
    )
    assert [(c.id, c.key, c.kind) for c in children] == [
        (first.id, "ya1", "community"),
        (second.id, "ya2", "community"),
    ]
    assert yearly.area_with_children("no-such-area") == (None, [])


def test_the_trend_type_is_the_current_body_of_an_item_type_asking_for_one(app):
    from engine.definitions.definitions import current_versions

    asking = [v for v in current_versions("item_type") if v.body.get("year_over_year")]
    assert asking
    for version in asking:
        assert yearly.trend_type(version.definition.key) == version.body
    assert yearly.trend_type("bell") is None  # an item type that asks for no trend
    assert yearly.trend_type("no-such-type") is None

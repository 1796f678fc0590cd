"""An item's summonses (items.assignments_of) are the models peewee makes of the same
rows: every value converted alike, the unit along, nothing marked as changed."""

from __future__ import annotations

import datetime as dt

from engine.store.models import Assignment, OrgNode
from engine.workflow import items
from tests.review_data import NOW, make_item, summons


def test_assignments_read_as_peewee_models(app):
    item = make_item("lvzhouhuayuan")
    first = summons(item, "dept-zhifa", NOW - dt.timedelta(hours=5))
    summons(item, "dept-zhifa", NOW)
    Assignment.update(reported_at=NOW, reply="已处理 <ok>", open=False).where(
        Assignment.id == first.id
    ).execute()
    expected = list(
        Assignment.select(
            Assignment, OrgNode.id, OrgNode.key, OrgNode.name, OrgNode.kind, OrgNode.path
        )
        .join(OrgNode)
        .where(Assignment.item == item.id)
        .order_by(Assignment.id)
    )
    got = items.assignments_of(item)
    assert len(got) == len(expected) == 2
    for ours, theirs in zip(got, expected, strict=True):
        assert ours.__data__ == theirs.__data__
        assert {k: type(v) for k, v in ours.__data__.items()} == {
            k: type(v) for k, v in theirs.__data__.items()
        }
        assert ours.unit.__data__ == theirs.unit.__data__
        assert ours._dirty == theirs._dirty == set()
        assert ours.unit._dirty == set() and ours.unit_id == theirs.unit_id
    assert got[0].open is False and got[0].reported_at == NOW and got[1].open is True

"""A small hand-made dataset of summons with known times, for the review tests."""

from __future__ import annotations

import datetime as dt

from engine.definitions.definitions import current_version
from engine.store.models import Assignment, Definition, Item, OrgNode

NOW = dt.datetime(2026, 11, 27, 1, 0, 0)
H = dt.timedelta(hours=1)


def make_item(
    node_key: str,
    *,
    satisfaction: int | None = None,
    reopen: int = 0,
    due: dt.datetime | None = None,
    closed: bool = False,
    title: str = "测试事项",
) -> Item:
    definition = Definition.get(Definition.key == "bell")
    node = OrgNode.get(OrgNode.key == node_key)
    return Item.create(
        definition=definition,
        version=current_version(definition),
        node=node,
        node_path=node.path,
        title=title,
        state="handling",
        data={"category": "其他", "summary": title},
        raised_at=NOW - 30 * 24 * H,
        state_since=NOW - 30 * 24 * H,
        due_at=due,
        satisfaction=satisfaction,
        reopen_count=reopen,
        closed=closed,
    )


def summons(
    item: Item,
    unit_key: str,
    summoned: dt.datetime,
    *,
    reported: float | None = None,
    done: float | None = None,
    report_h: float = 4,
    handle_h: float = 72,
    urged: int = 0,
) -> Assignment:
    """A department's summons; ``reported``/``done`` are hours after ``summoned``."""
    unit = OrgNode.get(OrgNode.key == unit_key)
    reported_at = summoned + reported * H if reported is not None else None
    done_at = summoned + done * H if done is not None else None
    state = "done" if done_at else ("reported" if reported_at else "summoned")
    report_due, handle_due = summoned + report_h * H, summoned + handle_h * H
    return Assignment.create(
        item=item,
        unit=unit,
        unit_path=unit.path,
        role="department",
        table="whistle",
        summoned_at=summoned,
        report_due_at=report_due,
        handle_due_at=handle_due,
        reported_at=reported_at,
        done_at=done_at,
        state=state,
        open=done_at is None,
        next_due_at=None if done_at else (handle_due if reported_at else report_due),
        urge_count=urged,
    )


def build() -> dict[str, Item]:
    """区公安分局 (dept-gaj) at 绿洲花园 (朝晖街道), 区综合行政执法局 (dept-zhifa) at
    长征桥路小区 (小河街道); the numbers are worked out in test_review_evaluation.py."""
    day = dt.datetime(2026, 11, 1)
    i1 = make_item("lvzhouhuayuan", satisfaction=5, title="一号")
    i2 = make_item("lvzhouhuayuan", satisfaction=2, reopen=1, title="二号")
    i3 = make_item("lvzhouhuayuan", due=NOW - 5 * H, title="三号")
    i4 = make_item("lvzhouhuayuan", due=NOW + 5 * H, title="四号")
    i5 = make_item("lvzhouhuayuan", title="上季度")
    summons(i1, "dept-gaj", day, reported=2, done=48)  # on time, on time
    summons(i2, "dept-gaj", day + 24 * H, reported=6, done=80, urged=2)  # late, late
    summons(i3, "dept-gaj", day + 48 * H)  # never reported: late, late
    summons(i4, "dept-gaj", NOW - 2 * H)  # still within its deadlines
    summons(i1, "dept-gaj", day + 96 * H, reported=1, done=10)  # same item again, on time
    summons(i5, "dept-gaj", dt.datetime(2026, 9, 15), reported=1, done=2)  # previous quarter
    z1 = make_item("changzhengqiaolu", title="执法一")
    z2 = make_item("changzhengqiaolu", title="执法二")
    summons(z1, "dept-zhifa", day + 9 * 24 * H, reported=1, done=24)
    summons(z2, "dept-zhifa", day + 10 * 24 * H, reported=3, done=30)
    return {"i1": i1, "i2": i2, "i3": i3, "i4": i4, "z1": z1, "z2": z2}

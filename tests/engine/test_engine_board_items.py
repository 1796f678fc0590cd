"""The items behind a count of the overdue board by department: the open items in view on
which that department's summons are late, each once, the one late longest first."""

from __future__ import annotations

from engine.accounts.users import upsert_user
from engine.store.models import Assignment, OrgNode
from engine.supervision import board_items
from tests.review_data import NOW, H, make_item, summons


def _unit(key: str) -> OrgNode:
    return OrgNode.get(OrgNode.key == key)


def _titles(actor, unit: str, **kwargs) -> list[str]:
    rows = board_items.overdue_items(actor, "department", _unit(unit), now=NOW, **kwargs)
    return [row["title"] for row in rows]


def _late_cases() -> None:
    """Summons of 区公安分局 (dept-gaj) and 区综合行政执法局 (dept-zhifa), each to report in
    within 4 hours."""
    once = make_item("lvzhouhuayuan", due=NOW + 50 * H, title="迟一次")
    summons(once, "dept-gaj", NOW - 14 * H)  # late since NOW - 10 h
    twice = make_item("lvzhouhuayuan", due=NOW - 1 * H, title="迟两次")
    summons(twice, "dept-gaj", NOW - 8 * H)  # late since NOW - 4 h
    summons(twice, "dept-gaj", NOW - 24 * H)  # late since NOW - 20 h: the item's place
    summons(make_item("lvzhouhuayuan", title="未超期"), "dept-gaj", NOW - 1 * H)
    summons(make_item("lvzhouhuayuan", title="已办结", closed=True), "dept-gaj", NOW - 30 * H)
    summons(make_item("lvzhouhuayuan", title="已完成"), "dept-gaj", NOW - 40 * H, done=2)
    summons(make_item("lvzhouhuayuan", title="别的部门"), "dept-zhifa", NOW - 40 * H)
    both = make_item("lvzhouhuayuan", title="两个部门")
    summons(both, "dept-gaj", NOW - 1 * H)  # not late
    summons(both, "dept-zhifa", NOW - 20 * H)  # late since NOW - 16 h
    elsewhere = make_item("changzhengqiaolu", title="小河街道")
    summons(elsewhere, "dept-gaj", NOW - 9 * H)  # late since NOW - 5 h
    # an earlier summons of the unit that is done does not take the item's place
    summons(elsewhere, "dept-gaj", NOW - 90 * H, reported=1, done=2)


def test_a_departments_late_items_once_each_late_longest_first(app, actor_of):
    _late_cases()
    assert _titles(actor_of("ducha"), "dept-gaj") == ["迟两次", "迟一次", "小河街道"]
    assert _titles(actor_of("ducha"), "dept-gaj", limit=2) == ["迟两次", "迟一次"]
    assert _titles(actor_of("ducha"), "dept-zhifa") == ["别的部门", "两个部门"]
    assert _titles(actor_of("ducha"), "dept-lgbj") == []


def test_a_departments_late_items_in_the_viewers_scope(app, actor_of):
    _late_cases()
    chaohui, xiaohe = _unit("chaohui"), _unit("xiaohe")
    assert _titles(actor_of("chaohui-ducha"), "dept-gaj") == ["迟两次", "迟一次"]
    assert _titles(actor_of("ducha"), "dept-gaj", within=xiaohe) == ["小河街道"]
    assert _titles(actor_of("ducha"), "dept-gaj", within=chaohui) == ["迟两次", "迟一次"]
    assert _titles(actor_of("chaohui-ducha"), "dept-gaj", within=xiaohe) == []
    grants = [{"role": "supervisor", "node": "hushu"}]
    upsert_user("hushu-ducha", "湖墅督导", "demo1234", grants, now=NOW)
    assert _titles(actor_of("hushu-ducha"), "dept-gaj") == []
    # a department sees the items it was summoned on, and only its own summons: not the
    # other department's late one on an item both were summoned on
    gaj = actor_of("dept-gaj-user")
    assert _titles(gaj, "dept-gaj") == ["迟两次", "迟一次", "小河街道"]
    assert _titles(gaj, "dept-zhifa") == []
    assert _titles(actor_of("dept-zhifa-user"), "dept-zhifa") == ["别的部门", "两个部门"]


def test_the_department_list_matches_its_late_summons_counted_by_hand(app, actor_of):
    """Against the definition, on every summons: open items with an open summons of the
    unit past its deadline, ordered by the earliest such deadline."""
    _late_cases()
    unit = _unit("dept-gaj")
    earliest: dict[int, tuple] = {}
    for a in Assignment.select().where(Assignment.unit == unit):
        if a.open and a.next_due_at is not None and a.next_due_at < NOW and not a.item.closed:
            key = (a.next_due_at, a.id)
            earliest[a.item_id] = min(earliest.get(a.item_id, key), key)
    expected = sorted(earliest, key=earliest.__getitem__)
    rows = board_items.overdue_items(actor_of("ducha"), "department", unit, now=NOW)
    assert [row["id"] for row in rows] == expected and len(expected) == 3

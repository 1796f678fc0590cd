"""The inbox pages the union of an actor's ways of seeing items, each read on its own
index in deadline order; the pages must equal one ordered query over the union."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from engine.store.models import OrgNode, User
from engine.workflow import queues
from tests.engine.conftest import make_item

H = dt.timedelta(hours=1)


@pytest.fixture
def spread(app):
    """Items in the commissioner's compound, raised by them elsewhere and handed to them,
    with tied, missing and past deadlines, some closed."""
    rng = random.Random(5)
    home = OrgNode.get(OrgNode.key == "lvzhouhuayuan")
    away = OrgNode.get(OrgNode.key == "changzhengqiaolu")
    xifang = User.get(User.username == "xifang")
    for n in range(140):
        node = home if n % 3 else away
        due = None if n % 7 == 0 else rng.choice([-30, -5, 0, 0, 12, 48, 200]) + rng.randint(0, 3)
        item = make_item(
            node, state="collected", raised_hours_ago=10, due_in_hours=due, closed=n % 11 == 0
        )
        if node is away and n % 2:
            item.raised_by = xifang  # raised by the commissioner in another compound
        elif node is away and n % 5 == 0:
            item.handler = xifang  # handed to the commissioner by a supervisor
        item.save()


@pytest.mark.parametrize(
    "filters",
    [queues.Filters(), queues.Filters(open_only=False), queues.Filters(state="collected")],
)
def test_merged_pages_equal_one_ordered_query(spread, actor_of, filters):
    actor = actor_of("xifang")
    expected = [i.id for i in queues.items_query(actor, filters)]
    assert len(expected) > 2 * queues.PAGE_SIZE  # three pages at least, the last one short
    got: list[int] = []
    for page in range(1, len(expected) // queues.PAGE_SIZE + 3):
        got += [i.id for i in queues.inbox(actor, filters, page=page)]
    assert got == expected


def test_inbox_rows_leave_the_answers_out(spread, actor_of):
    rows = queues.inbox(actor_of("xifang"))
    assert rows and all(row.data is None for row in rows)

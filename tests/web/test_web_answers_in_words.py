"""Stored answers read as people write them on the item page: a date-time answer of the
raising form and of a transition's form shows as 11月27日 14:00, never as ISO text."""

from __future__ import annotations

import re

from engine.store.models import Item


def test_date_time_answers_read_in_words(client, auth):
    auth.login("lvzhou-yezhu1")
    raised = client.post(
        "/r/new/repair",
        data={
            "category": "水电",
            "location": "3幢",
            "description": "楼道灯坏了",
            "preferred_time": "2026-11-27T14:00",
        },
    )
    assert raised.status_code == 303, raised.get_data(as_text=True)[:1500]
    item_id = int(re.search(r"/r/items/(\d+)", raised.headers["Location"]).group(1))
    assert Item.get_by_id(item_id).data["preferred_time"].startswith("2026-11-27T14:00")
    auth.logout()
    auth.login("lvzhouhuayuan-wy")
    for key, data in (
        ("accept", {}),
        ("start", {"worker": "王师傅", "expected_finish": "2026-11-28T09:30"}),
    ):
        version = Item.get_by_id(item_id).lock
        done = client.post(
            f"/work/items/{item_id}/t/{key}", data={**data, "version": version, "_submit": "1"}
        )
        assert done.status_code in (200, 303), done.get_data(as_text=True)[:1500]
    assert Item.get_by_id(item_id).state == "repairing"
    page = client.get(f"/work/items/{item_id}").get_data(as_text=True)
    assert "期望上门时间" in page and "11月27日 14:00" in page
    assert "预计完成时间" in page and "11月28日 09:30" in page and "王师傅" in page
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", page)
    auth.logout()
    auth.login("lvzhou-yezhu1")
    mine = client.get(f"/r/items/{item_id}").get_data(as_text=True)
    assert "11月27日 14:00" in mine and not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", mine)

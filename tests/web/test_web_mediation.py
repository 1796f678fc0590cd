"""A mediation case (物业纠纷调解) clicked through the pages: a resident asks for it, the
party secretary records two sessions, the signed agreement, the follow-up visit."""

from __future__ import annotations

import io
import re

from engine.core import clock
from engine.metrics import facts
from engine.store.models import Event, Item
from tests.polls_support import PNG


def _post(client, item: Item, key: str, data: dict, **kw):
    fresh = Item.get_by_id(item.id)
    return client.post(
        f"/work/items/{item.id}/t/{key}", data={"version": str(fresh.lock), **data}, **kw
    )


def test_a_case_end_to_end_through_the_pages(client, auth):
    auth.login("lvzhou-yezhu1")
    assert "物业纠纷调解" in client.get("/r/").get_data(as_text=True)  # residents may ask for it
    response = client.post(
        "/r/new/mediation",
        data={
            "category": "停车管理",
            "summary": "地下车位收费标准和物业有争议",
            "source": "居民申请调解",
            "parties-0-name": "何琳",
            "parties-0-identity": "业主",
            "parties-0-phone": "13812345678",
            "parties-1-name": "林明静",
            "parties-1-identity": "物业服务企业",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    item = Item.get_by_id(int(re.search(r"/r/items/(\d+)", response.headers["Location"]).group(1)))
    assert item.data["parties"][0]["name"] == "何琳"
    auth.logout()

    auth.login("lvzhouhuayuan-wy")  # the property company sees the parties masked
    page = client.get(f"/work/items/{item.id}").get_data(as_text=True)
    assert "何*" in page and "何琳" not in page and "13812345678" not in page
    auth.logout()

    auth.login("lvzhouhuayuan-dzz")
    page = client.get(f"/work/items/{item.id}").get_data(as_text=True)
    assert "受理调解" in page and "预防化解" in page
    assert _post(client, item, "accept", {"mediator": "赵平春"}).status_code == 303
    bad = _post(client, item, "session", {"date": "2026-11-28", "attendees": "双方"})
    assert bad.status_code == 422 and "field-error" in bad.get_data(as_text=True)
    for day in ("2026-11-28", "2026-12-02"):
        ok = _post(
            client,
            item,
            "session",
            {
                "date": day,
                "attendees": "党支部书记、业委会主任、物业项目经理、双方",
                "notes": "听取双方意见,核对收费依据",
            },
        )
        assert ok.status_code == 303, ok.get_data(as_text=True)[:3000]
    assert Item.get_by_id(item.id).data["sessions"] == 2
    agreed = _post(
        client,
        item,
        "agree",
        {
            "agreement": "物业按物价备案标准收取车位费,多收部分在下月物业费中抵扣",
            "signed": (io.BytesIO(PNG), "signed.png"),
        },
        content_type="multipart/form-data",
    )
    assert agreed.status_code == 303, agreed.get_data(as_text=True)[:3000]
    item = Item.get_by_id(item.id)
    assert item.state == "follow_up"
    taken = Event.select().where(Event.item == item.id).order_by(Event.id.desc()).first()
    assert len(taken.after["form"]["signed"]) == 1  # the signed agreement, kept on the timeline
    page = client.get(f"/work/items/{item.id}").get_data(as_text=True)
    assert "协议履行回访" in page and "签字协议照片" in page
    assert (
        _post(
            client, item, "visit", {"fulfilled": "已履行", "visit_notes": "回访双方,已抵扣"}
        ).status_code
        == 303
    )
    item = Item.get_by_id(item.id)
    assert item.state == "success" and item.closed and item.resolved_at is not None
    auth.logout()

    auth.login("lvzhou-yezhu1")  # the resident reads the outcome
    assert "调解成功" in client.get(f"/r/items/{item.id}").get_data(as_text=True)

    # the street's dashboard counts it among the mediations that succeeded (调解成功)
    facts.refresh(now=clock.now())
    auth.logout()
    auth.login("chaohui-ducha")
    board = client.get("/review/n/chaohui").get_data(as_text=True)
    assert (
        "物业纠纷调解" in board and "调解成功 1 · 调解不成(引导诉讼/仲裁) 0 · 预防化解 0" in board
    )

"""Regular meetings over HTTP (issue 14): a street's tripartite office convenes and records
its joint meeting on /work/decisions, the page shows each cadence and this period's state
within its query budget, and the designer sets a meeting definition's cadence."""

from __future__ import annotations

import re

import pytest

from engine.core import clock
from engine.metrics import facts
from engine.store.decision_tables import Meeting
from engine.store.models import Definition
from tests.conftest import NOW  # 2026-11-27 09:00 in Shanghai


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def status_of(page: str, name: str) -> str:
    """The state pill of the cadence row of meeting ``name``."""
    found = re.search(
        r'<tr class="cadence-(\w+)">\s*<td>' + re.escape(name) + r"</td>(.*?)</tr>", page, re.DOTALL
    )
    assert found, name
    return found.group(1) + " " + re.sub(r"<[^>]+>", " ", found.group(2))


def test_a_street_convenes_and_records_its_joint_meeting(client, auth, assert_max_queries):
    auth.login("dongxin-zhan")  # 东新街道's station staff: the street's supervisor
    page = client.get("/work/decisions").get_data(as_text=True)
    assert "例会制度" in page
    assert "/work/meetings/new/street-office-meeting?node=dongxin" in page
    assert "/work/meetings/new/station-meeting?node=dongxin" in page  # 三同 mechanism
    row = status_of(page, "街道三方办联席会议")
    assert row.startswith("late") and "每月1次" in row and "2026年11月" in row
    assert "已逾期" in row

    form = client.get("/work/meetings/new/street-office-meeting?node=dongxin")
    assert form.status_code == 200 and "街道三方办联席会议" in form.get_data(as_text=True)
    response = client.post(
        "/work/meetings/new/street-office-meeting",
        data={
            "node": "dongxin",
            "title": "十一月街道三方办联席会议",
            "held_at": "2026-11-20T14:30",
            "place": "街道办事处三楼会议室",
            "agenda": "通报各小区三方协同情况\n研究物业信访投诉集中小区整改",
            "invited": ["supervisor", "department", "party", "property"],
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    meeting_id = int(re.search(r"/work/meetings/(\d+)", response.headers["Location"]).group(1))
    response = client.post(
        f"/work/meetings/{meeting_id}/minutes",
        data={
            "lock": "1",
            "attendance-supervisor": "3",
            "attendance-department": "5",
            "attendance-party": "6",
            "attendance-property": "4",
            "host": "街道分管领导",
            "summary": "街道召开联席会议,研究讨论三方工作,职能部门逐一回应小区难题。",
            "topics": "物业信访投诉集中小区整改",
            "_submit": "1",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    meeting = Meeting.get_by_id(meeting_id)
    assert meeting.state == "held" and meeting.node.key == "dongxin"
    assert meeting.attendance["department"] == 5
    with assert_max_queries(8, "decisions page of a street"):
        page = client.get("/work/decisions").get_data(as_text=True)
    row = status_of(page, "街道三方办联席会议")
    assert row.startswith("held") and "本期已召开" in row
    assert status_of(page, "物业综合管理工作站“三同”例会").startswith("late")

    facts.refresh(now=NOW)
    auth.logout()
    auth.login("ducha")  # the district's supervisor sees every street's on-time share
    with assert_max_queries(8, "decisions page of the district"):
        page = client.get("/work/decisions").get_data(as_text=True)
    assert 'id="cadence-rollups"' in page and "按期召开率" in page
    assert "街道三方办联席会议" in page


def test_only_who_may_convene_gets_the_street_meeting(client, auth):
    auth.login("xifang")  # a compound's commissioner
    page = client.get("/work/decisions").get_data(as_text=True)
    assert "street-office-meeting" not in page
    assert status_of(page, "三方联动月会").startswith("late")  # her compound's monthly meeting
    response = client.post(
        "/work/meetings/new/street-office-meeting",
        data={"node": "dongxin", "title": "越权", "held_at": "2026-11-20T14:30", "agenda": "x"},
    )
    assert response.status_code in (403, 404)
    assert Meeting.select().count() == 0
    auth.logout()
    auth.login("dongxinyuan-sqsfb")  # 东新园社区's tripartite office
    page = client.get("/work/decisions").get_data(as_text=True)
    assert "/work/meetings/new/community-office-meeting?node=dongxinyuanshequ" in page
    assert "street-office-meeting?node=" not in page


def test_the_designer_sets_a_meetings_cadence(client, auth):
    auth.login("admin")
    response = client.post(
        "/admin/designer/new",
        data={
            "kind": "meeting",
            "name": "楼道议事会",
            "key": "louyi",
            "raise_roles": "committee",
            "node_kinds": "compound",
        },
    )
    assert response.status_code == 303
    page = client.get("/admin/designer/louyi/form").get_data(as_text=True)
    assert 'name="period"' in page and "每季度" in page and "不定期召开" in page
    saved = client.post("/admin/designer/louyi/cadence", data={"period": "quarter", "count": "2"})
    assert saved.status_code == 303
    assert Definition.get(Definition.key == "louyi").draft["cadence"] == {
        "period": "quarter",
        "count": 2,
    }
    page = client.get("/admin/designer/louyi/form").get_data(as_text=True)
    assert '<option value="quarter" selected>' in page and 'value="2"' in page
    refused = client.post("/admin/designer/louyi/cadence", data={"period": "month", "count": "99"})
    assert refused.status_code == 422 and "每期召开次数" in refused.get_data(as_text=True)
    refused = client.post("/admin/designer/louyi/cadence", data={"period": "weekly"})
    assert refused.status_code == 422 and "召开周期" in refused.get_data(as_text=True)
    assert Definition.get(Definition.key == "louyi").draft["cadence"]["count"] == 2
    assert client.post("/admin/designer/louyi/publish").status_code == 303
    definition = Definition.get(Definition.key == "louyi")
    from engine.definitions.definitions import current_version

    assert current_version(definition).body["cadence"] == {"period": "quarter", "count": 2}
    # Back to "when needed": the cadence goes.
    assert client.post("/admin/designer/louyi/cadence", data={"period": ""}).status_code == 303
    assert "cadence" not in Definition.get(Definition.key == "louyi").draft
    # Other kinds have no cadence.
    assert client.post("/admin/designer/bell/cadence", data={"period": "month"}).status_code == 404

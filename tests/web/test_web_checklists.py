"""Checklists per compound: the generated row form (with a conditional field), progress,
permissions, the roll-up by community and street, the audit trail and the facts."""

from __future__ import annotations

from typing import Any

from engine.metrics import facts
from engine.records import checklists
from engine.store.models import Event, OrgNode
from engine.store.tables import ChecklistRow
from tests.conftest import NOW

ROW = {
    "content": "加装电梯意见征集",
    "owner_unit": "小区党组织",
    "deadline": "2026-12-31",
    "status": "推进中",
}


def post_row(client: Any, compound: str, list_key: str, **answers: Any) -> Any:
    return client.post(
        f"/lists/c/{compound}/{list_key}/new", data={**ROW, **answers, "_submit": "1"}
    )


def test_row_through_the_generated_form_with_a_conditional_field(client, auth):
    auth.login("xifang")
    page = client.get("/lists/c/lvzhouhuayuan/task-list/new")
    assert page.status_code == 200 and 'name="content"' in page.text
    assert 'name="blocker"' not in page.text  # hidden until the status is 受阻
    refused = post_row(client, "lvzhouhuayuan", "task-list", status="受阻")
    assert refused.status_code == 422 and 'name="blocker"' in refused.text
    assert ChecklistRow.select().count() == 0
    saved = post_row(client, "lvzhouhuayuan", "task-list", status="受阻", blocker="部分业主反对")
    assert saved.status_code == 303
    row = ChecklistRow.get()
    assert row.data["blocker"] == "部分业主反对" and row.done == 0 and row.deadline == "2026-12-31"
    # the hidden field goes once the status no longer asks for it
    client.post(
        f"/lists/row/{row.id}",
        data={**ROW, "status": "已完成", "blocker": "x", "lock": "1", "_submit": "1"},
    )
    row = ChecklistRow.get()
    assert row.done == 1 and "blocker" not in row.data and row.lock == 2
    events = list(
        Event.select().where(Event.target == f"checklist-row:{row.id}").order_by(Event.id)
    )
    assert [e.action for e in events] == ["checklist.row.add", "checklist.row.update"]
    assert events[1].before["status"] == "受阻" and events[1].after["status"] == "已完成"
    page = client.get("/lists/c/lvzhouhuayuan")
    assert "1/1" in page.text
    # its history in words: what was done, each field by its title, no action key
    history = client.get(f"/lists/row/{row.id}").text
    assert "添加了此行" in history and "修改了此行" in history
    assert "受阻 → 已完成" in history and "checklist.row" not in history


def test_another_compounds_commissioner_can_neither_see_nor_edit(client, auth):
    auth.login("xifang")
    post_row(client, "lvzhouhuayuan", "task-list")
    row = ChecklistRow.get()
    auth.logout()
    auth.login("changzhengxincun-zy")
    assert client.get("/lists/c/lvzhouhuayuan").status_code == 404
    assert client.get(f"/lists/row/{row.id}").status_code == 404
    assert (
        client.post(
            f"/lists/row/{row.id}", data={**ROW, "status": "已完成", "_submit": "1"}
        ).status_code
        == 404
    )
    assert post_row(client, "lvzhouhuayuan", "task-list").status_code == 404
    assert client.get("/lists/rollup/chaohui").status_code == 403
    assert ChecklistRow.get().data["status"] == "推进中"


def test_rollup_numbers_by_hand(client, auth, actor_of):
    xifang, zhang = actor_of("xifang"), actor_of("changzhengqiaolu-zy")
    lvzhou, qiaolu = OrgNode.get(key="lvzhouhuayuan"), OrgNode.get(key="changzhengqiaolu")
    # NOW is 2026-11-27 in Shanghai: a row due 2026-11-01 and not done is overdue
    checklists.add_row(xifang, "task-list", lvzhou, {**ROW, "deadline": "2026-11-01"}, now=NOW)
    checklists.add_row(
        xifang, "task-list", lvzhou, {**ROW, "status": "已完成", "deadline": "2026-11-01"}, now=NOW
    )
    checklists.add_row(xifang, "difficulty-list", lvzhou, ROW, now=NOW)
    checklists.add_row(zhang, "task-list", qiaolu, {**ROW, "deadline": "2026-10-01"}, now=NOW)
    district = OrgNode.get(key="gongshu")
    got = checklists.rollup(district, now=NOW)
    assert checklists.total(got[lvzhou.id]) == checklists.Progress(3, 1, 1)
    assert got[lvzhou.id]["task-list"] == checklists.Progress(2, 1, 1)
    assert checklists.total(got[OrgNode.get(key="chaohui").id]) == checklists.Progress(3, 1, 1)
    assert checklists.total(got[OrgNode.get(key="xiaohe").id]) == checklists.Progress(1, 0, 1)
    assert checklists.total(got[district.id]) == checklists.Progress(4, 1, 2)
    doc = facts.compute_all(now=NOW)
    assert doc[district.id]["checklists"]["completion_rate"] == 25.0
    assert doc[lvzhou.id]["checklists"]["by_list"]["task-list"] == {
        "rows": 2,
        "done": 1,
        "overdue": 1,
        "completion_rate": 50.0,
    }
    auth.login("chaohui-ducha")
    page = client.get("/lists/rollup/chaohui")
    assert page.status_code == 200 and "1/3" in page.text
    assert client.get("/lists/rollup/xiaohe").status_code == 404  # another street
    auth.logout()
    auth.login("ducha")
    assert "1/4" in client.get("/lists/rollup/gongshu").text


def test_unmeasurable_kpi_row_is_reported_and_reviewed(client, auth):
    from engine.store.tables import KpiReport

    auth.login("chaohui-ducha")
    page = client.get("/lists/kpi/tasks-2026")
    assert page.status_code == 200 and "kpi-street-office-staff" in page.text
    assert "kpi-commissioner" not in page.text  # measurable rows are computed, not reported
    client.post(
        "/lists/kpi/tasks-2026/street-office-staff/report", data={"unit": "chaohui", "note": ""}
    )
    assert KpiReport.select().count() == 0
    client.post(
        "/lists/kpi/tasks-2026/street-office-staff/report",
        data={"unit": "xiaohe", "note": "不是我的街道"},
    )
    assert KpiReport.select().count() == 0
    client.post(
        "/lists/kpi/tasks-2026/street-office-staff/report",
        data={"unit": "chaohui", "note": "已发文成立三方办"},
    )
    report = KpiReport.get()
    assert report.state == "reported"
    assert (
        client.post(f"/lists/kpi/review/{report.id}", data={"decision": "accept"}).status_code
        == 403
    )
    assert KpiReport.get().state == "reported"  # a street may not review its own report
    auth.logout()
    auth.login("dept-zzb-user")  # the row's lead unit
    client.post(f"/lists/kpi/review/{report.id}", data={"decision": "return", "note": "请补充文件"})
    assert KpiReport.get().state == "returned"
    auth.logout()
    auth.login("chaohui-ducha")
    client.post(
        "/lists/kpi/tasks-2026/street-office-staff/report",
        data={"unit": "chaohui", "note": "补充了发文"},
    )
    assert [r.state for r in KpiReport.select().order_by(KpiReport.id)] == ["returned", "reported"]


def test_row_evidence_is_readable_by_who_sees_the_row_only(client, auth):
    import io

    auth.login("xifang")
    response = client.post(
        "/lists/c/lvzhouhuayuan/task-list/new",
        data={
            **ROW,
            "_submit": "1",
            "evidence": (io.BytesIO(b"\x89PNG\r\n\x1a\n evidence"), "proof.png", "image/png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:1000]
    row = ChecklistRow.select().order_by(ChecklistRow.id.desc()).first()
    public_id = row.data["evidence"][0]
    auth.logout()
    for username, status in (
        ("chaohui-ducha", 200),
        ("lvzhouhuayuan-wy", 200),
        ("changzhengqiaolu-zy", 404),
    ):
        auth.login(username)
        with client.get(f"/files/{public_id}") as answer:
            assert answer.status_code == status, username
        auth.logout()

"""Excel imports: templates, a file with bad rows imports nothing and reports each row,
good files import, owner-change reminders, who may import where."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook, load_workbook

from engine.store.models import Event, Notification, OrgNode, User
from engine.store.tables import Household


def sheet(headers: list[str], *rows: list[Any]) -> io.BytesIO:
    book = Workbook()
    book.active.append(["说明"])
    book.active.append(headers)
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def upload(client: Any, kind: str, data: io.BytesIO) -> Any:
    return client.post(
        f"/import/{kind}", data={"file": (data, "x.xlsx")}, content_type="multipart/form-data"
    )


ORG = ["key", "name", "kind", "parent", "party_member"]
HOUSE = ["building", "room", "owner_name", "phone", "area"]


def test_templates_download_with_headers_and_an_example(client, auth):
    auth.login("admin")
    for kind, first in (("org", "key"), ("profiles", "compound"), ("households", "building")):
        response = client.get(f"/import/{kind}/template.xlsx")
        assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
        rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
        assert rows[1][0] == first and rows[2][0]  # note, header, example
    profile_headers = list(
        load_workbook(
            io.BytesIO(client.get("/import/profiles/template.xlsx").data)
        ).active.iter_rows(values_only=True)
    )[1]
    assert "households" in profile_headers and "has_party_org" in profile_headers
    auth.logout()
    auth.login("xifang")
    assert client.get("/import/org/template.xlsx").status_code == 403


def test_a_file_with_bad_rows_imports_nothing_and_reports_each(client, auth):
    auth.login("admin")
    nodes, events = OrgNode.select().count(), Event.select().count()
    response = upload(
        client,
        "org",
        sheet(
            ORG,
            ["newcomm", "新社区", "community", "chaohui", None],  # good
            ["newcomp", "新小区", "compound", "newcomm", None],  # good: its parent comes from row 3
            ["Bad Key", "坏键", "compound", "newcomm", None],  # row 5: key
            ["b-x", "楼", "building", "nowhere", None],  # row 6: parent
            ["c-x", "", "tower", "chaohui", None],  # row 7: name and kind
        ),
    )
    assert response.status_code == 422
    assert OrgNode.select().count() == nodes and Event.select().count() == events
    rejected = {(r, c) for r, c in _rejections(response.text)}
    assert rejected == {("5", "key"), ("6", "parent"), ("7", "name"), ("7", "kind")}

    response = upload(
        client,
        "profiles",
        sheet(
            ["compound", "households", "has_party_org", "committee_type"],
            ["lvzhouhuayuan", 500, "是", "业委会"],
            ["changzhengqiaolu", -5, "也许", "无"],  # row 4: households and has_party_org
            ["nowhere", 10, "是", "无"],  # row 5
            ["changzhengxincun", 10, "是", "自管会"],  # row 6: not an option
        ),
    )
    assert response.status_code == 422
    assert {(r, c) for r, c in _rejections(response.text)} == {
        ("4", "households"),
        ("4", "has_party_org"),
        ("5", "compound"),
        ("6", "committee_type"),
    }
    assert OrgNode.get(key="lvzhouhuayuan").profile["households"] != 500

    response = upload(
        client,
        "households",
        sheet(
            HOUSE,
            ["lvzhouhuayuan-b1", "1-101", "张三", "13800000000", 89.5],
            ["lvzhouhuayuan-b1", "1-101", "李四", None, None],  # row 4: same room twice
            ["lvzhouhuayuan-b1", "", "王五", "abc", -1],  # row 5: room, phone, area
        ),
    )
    assert response.status_code == 422 and Household.select().count() == 0
    assert {(r, c) for r, c in _rejections(response.text)} == {
        ("4", "room"),
        ("5", "room"),
        ("5", "phone"),
        ("5", "area"),
    }


def _rejections(html: str) -> list[tuple[str, str]]:
    import re

    body = html.split('class="table rejected"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr><td>(\d+|–)</td><td>([^<]*)</td>", body)


def test_good_files_import_and_an_owner_change_reminds_the_commissioner(client, auth):
    auth.login("admin")
    ok = upload(
        client,
        "org",
        sheet(
            ORG,
            ["newcomm", "新社区", "community", "chaohui", None],
            ["newcomp", "新小区", "compound", "newcomm", None],
            ["newcomp-b1", "1幢", "building", "newcomp", "王党员"],
        ),
    )
    assert ok.status_code == 200, ok.text
    building = OrgNode.get(key="newcomp-b1")
    assert (
        building.path.startswith(OrgNode.get(key="newcomm").path)
        and building.profile["party_member"] == "王党员"
    )
    assert (
        upload(
            client,
            "profiles",
            sheet(
                ["compound", "households", "has_party_org", "committee_type", "buildings"],
                ["lvzhouhuayuan", 500, "是", "业委会", 9],
            ),
        ).status_code
        == 200
    )
    profile = OrgNode.get(key="lvzhouhuayuan").profile
    assert profile["households"] == 500 and profile["buildings"] == 9
    assert Event.get(Event.target == "profile:lvzhouhuayuan").detail == {
        "source": "import",
        "version": 2,
    }
    first = upload(
        client,
        "households",
        sheet(
            HOUSE,
            ["lvzhouhuayuan-b1", "1-101", "张三", "13800000000", 89.5],
            ["lvzhouhuayuan-b1", "1-102", "李四", None, None],
        ),
    )
    assert first.status_code == 200 and Household.select().count() == 2
    xifang = User.get(username="xifang")
    assert Notification.select().where(Notification.user == xifang).count() == 0
    second = upload(
        client,
        "households",
        sheet(
            HOUSE,
            ["lvzhouhuayuan-b1", "1-101", "赵六", "13800000001", 89.5],
            ["lvzhouhuayuan-b1", "1-102", "李四", None, 70],
        ),
    )
    assert second.status_code == 200 and Household.select().count() == 2
    reminders = list(Notification.select().where(Notification.user == xifang))
    assert len(reminders) == 1 and "张三" in reminders[0].message and "赵六" in reminders[0].message
    other = User.get(username="changzhengxincun-zy")
    assert Notification.select().where(Notification.user == other).count() == 0


def test_a_supervisor_imports_only_inside_their_street(client, auth):
    auth.login("chaohui-ducha")
    bad = upload(
        client, "households", sheet(HOUSE, ["changzhengqiaolu-b1", "1-101", "张三", None, None])
    )
    assert bad.status_code == 422 and Household.select().count() == 0
    good = upload(
        client, "households", sheet(HOUSE, ["lvzhouhuayuan-b1", "1-101", "张三", None, None])
    )
    assert good.status_code == 200 and Household.select().count() == 1
    assert upload(client, "org", io.BytesIO(b"not a workbook")).status_code == 422


BUILDINGS = [f"lvzhouhuayuan-b{n}" for n in range(1, 7)]


def _households(count: int, owner: str = "业主") -> list[list[Any]]:
    return [
        [
            BUILDINGS[i % 6],
            f"{i // 6 // 10 + 1}-{i // 6 % 10 + 1:02d}01",
            f"{owner}{i}",
            "13800000000",
            80.0,
        ]
        for i in range(count)
    ]


def test_a_large_file_with_a_few_bad_rows_imports_nothing_then_imports_in_few_queries(
    client, auth, monkeypatch
):
    """2,000 households: three bad rows reject the file (each reported); the good file is
    written in a bounded number of queries, and a re-import reminds of each owner change."""
    auth.login("admin")
    rows = _households(2000)
    bad = [list(r) for r in rows]
    bad[10][3] = "abc"  # row 13: phone
    bad[999][0] = "nowhere-b1"  # row 1002: building
    bad[1500][1] = bad[1499][1]  # row 1503: not the same room twice (different building) ...
    bad[1500][0] = bad[1499][0]  # ... now it is
    response = upload(client, "households", sheet(HOUSE, *bad))
    assert response.status_code == 422 and Household.select().count() == 0
    assert set(_rejections(response.text)) == {
        ("13", "phone"),
        ("1002", "building"),
        ("1503", "room"),
    }

    from engine.store.db import database

    statements: list[str] = []
    execute = database.obj.execute_sql
    monkeypatch.setattr(
        database.obj,
        "execute_sql",
        lambda sql, *a, **k: statements.append(sql) or execute(sql, *a, **k),
    )
    assert upload(client, "households", sheet(HOUSE, *rows)).status_code == 200
    assert Household.select().count() == 2000
    assert (
        sum(s.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE")) for s in statements) < 60
    )

    xifang = User.get(username="xifang")
    changed = [list(r) for r in rows]
    for i in (5, 600, 1999):
        changed[i][2] = f"新业主{i}"
    statements.clear()
    assert upload(client, "households", sheet(HOUSE, *changed)).status_code == 200
    assert (
        sum(s.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE")) for s in statements) < 100
    )
    reminders = [n.message for n in Notification.select().where(Notification.user == xifang)]
    assert len(reminders) == 3 and any("业主600" in m and "新业主600" in m for m in reminders)
    assert Household.get(Household.owner_name == "新业主1999").area == 80.0
    assert Event.select().where(Event.action == "household.owner_change").count() == 3


VOTERS = [*HOUSE, "registered_area", "owner_key", "developer_held", "account"]


def test_households_carry_what_a_vote_counts(client, auth):
    """Registered area exactly (hundredths of a m²), the owner for the headcount, the
    developer's unsold units and the resident account that votes."""
    auth.login("admin")
    bad = upload(
        client,
        "households",
        sheet(
            VOTERS,
            ["lvzhouhuayuan-b1", "1-101", "张三", None, None, "89.355", "", "否", ""],
            ["lvzhouhuayuan-b1", "1-102", "李四", None, None, "-3", "", "也许", ""],
            ["lvzhouhuayuan-b1", "1-103", "王五", None, None, "80", "", "", "nobody"],
        ),
    )
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422 and Household.select().count() == 0
    for column in ("registered_area", "developer_held", "account"):
        assert column in page
    good = upload(
        client,
        "households",
        sheet(
            VOTERS,
            ["lvzhouhuayuan-b1", "1-101", "张三", None, None, 89.35, "zs", "否", "lvzhou-yezhu1"],
            ["lvzhouhuayuan-b1", "1-102", "张三", None, None, "120", "zs", "", ""],
            ["lvzhouhuayuan-b2", "1-101", "建设单位", None, None, "75.5", "", "是", ""],
        ),
    )
    assert good.status_code == 200, good.get_data(as_text=True)[:300]
    rows = {(h.building.key, h.room): h for h in Household.select()}
    first = rows[("lvzhouhuayuan-b1", "1-101")]
    assert first.registered_area == 8935 and first.owner_key == "zs"
    assert first.owner_user.username == "lvzhou-yezhu1"
    assert rows[("lvzhouhuayuan-b1", "1-102")].registered_area == 12000
    assert rows[("lvzhouhuayuan-b2", "1-101")].developer_held is True

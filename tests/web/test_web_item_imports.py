"""Item imports: petitions from the provincial platform's export, by the definition's
``import`` section; bad rows are reported by column and nothing is written."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import load_workbook

from engine.store.models import Definition, Event, Item
from tests.web.test_web_imports import _rejections, sheet, upload

HEAD = ["信件编号", "来信日期", "所属小区", "问题类别", "诉求摘要", "信访人", "办理状态"]


def _petitions() -> list[Item]:
    return list(
        Item.select().join(Definition).where(Definition.key == "petition").order_by(Item.id)
    )


def test_the_template_has_the_platforms_headers(client, auth):
    auth.login("chaohui-ducha")
    page = client.get("/import/")
    assert "物业信访件" in page.get_data(as_text=True)
    response = client.get("/import/items-petition/template.xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[1][0] == "所属小区" and rows[2][0] and rows[2][1]  # header, example
    assert {"所属小区", "信件编号", "来信日期", "问题类别", "诉求摘要"} <= set(rows[1])
    assert client.get("/import/items-bell/template.xlsx").status_code == 404  # not importable


def test_bad_rows_import_nothing_and_name_their_column(client, auth):
    auth.login("chaohui-ducha")
    events = Event.select().count()
    response = upload(
        client,
        "items-petition",
        sheet(
            HEAD,
            [
                "ZJ2026-0001",
                dt.datetime(2026, 3, 2),
                "绿洲花园",
                "物业费收缴",
                "物业费上涨未公示",
                "何琳",
                "已办结",
            ],
            ["ZJ2026-0002", "不是日期", "绿洲花园", "物业费收缴", "电梯经常停运", "", ""],
            ["ZJ2026-0003", "2026-03-04", "没有这个小区", "停车管理", "车位被占", "", ""],
            ["ZJ2026-0004", "2026-03-05", "绿洲花园", "乱填的类别", "楼道堆物", "", ""],
            ["ZJ2026-0001", "2026-03-06", "绿洲花园", "其他纠纷", "重复的件号", "", ""],
            ["ZJ2026-0006", "2099-01-01", "绿洲花园", "其他纠纷", "未来的日期", "", ""],
        ),
    )
    assert response.status_code == 422
    found = set(_rejections(response.get_data(as_text=True)))
    assert {
        ("4", "来信日期"),
        ("5", "所属小区"),
        ("6", "问题类别"),
        ("7", "信件编号"),
        ("8", "来信日期"),
    } <= found
    assert not any(row == "3" for row, _c in found)  # the good row
    assert _petitions() == [] and Event.select().count() == events


def test_good_rows_import_with_their_date_and_again_are_skipped(client, auth):
    auth.login("chaohui-ducha")
    rows = [
        [
            "ZJ2025-0101",
            dt.datetime(2025, 5, 6),
            "绿洲花园",
            "物业服务质量",
            "保洁不到位",
            "曹勇",
            "",
        ],
        [
            "ZJ2026-0102",
            "2026-01-01",
            "lvzhouhuayuan",
            "维修资金使用",
            "维修资金使用不透明",
            "",
            "",
        ],
    ]
    response = upload(client, "items-petition", sheet(HEAD, *rows))
    assert response.status_code == 200, _rejections(response.get_data(as_text=True))
    made = _petitions()
    assert [p.data["platform_no"] for p in made] == ["ZJ2025-0101", "ZJ2026-0102"]
    # received on 6 May 2025 and 1 January 2026, local midnight
    assert made[0].raised_at == dt.datetime(2025, 5, 5, 16, 0)
    assert made[1].raised_at == dt.datetime(2025, 12, 31, 16, 0)
    assert made[0].state == "received" and made[0].raised_by.username == "chaohui-ducha"
    again = upload(client, "items-petition", sheet(HEAD, *rows))
    assert again.status_code == 200 and "2 条已导入过" in again.get_data(as_text=True)
    assert len(_petitions()) == 2


def test_only_where_one_may_raise(client, auth):
    auth.login("chaohui-ducha")  # a street supervisor: not another street's compound
    other = Item.select().count()
    response = upload(
        client,
        "items-petition",
        sheet(
            HEAD, ["ZJ2026-0201", "2026-02-02", "changzhengqiaolu", "其他纠纷", "别的街道", "", ""]
        ),
    )
    assert response.status_code == 422 and ("3", "所属小区") in _rejections(
        response.get_data(as_text=True)
    )
    assert Item.select().count() == other
    auth.logout()
    auth.login("xifang")
    assert client.get("/import/items-petition/template.xlsx").status_code == 403

"""The /work landing queue: commissioners land on their items, departments on their
summons list (paged by deadline); the header's unread count is capped."""

from __future__ import annotations

import datetime as dt
import re

from engine.store.models import Notification, User
from tests.review_data import NOW, make_item, summons

H = dt.timedelta(hours=1)


def _summons_rows(page: str) -> list[str]:
    block = page.split('id="summons-rows"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"#(\d+) ", block)


def test_department_lands_on_its_summons_list_paged_by_deadline(client, auth):
    # 55 open summons of 区综合行政执法局, deadlines 1..55 hours after NOW, created out of order.
    made = {}
    for n in [*range(30, 56), *range(1, 30)]:
        item = make_item("changzhengqiaolu", title=f"执法{n:02d}")
        made[n] = summons(item, "dept-zhifa", NOW + (n - 4) * H, report_h=4).item_id
    other = summons(make_item("lvzhouhuayuan", title="公安的"), "dept-gaj", NOW).item_id

    auth.login("dept-zhifa-user")
    first = client.get("/work/").get_data(as_text=True)
    assert re.search(r'view=summons" class="on"', first)
    ids = [int(i) for i in _summons_rows(first)]
    assert ids == [made[n] for n in range(1, 51)]  # nearest deadline first, a page of 50
    assert other not in ids and "公安的" not in first
    assert "view=summons&amp;page=2" in first
    second = client.get("/work/?view=summons&page=2").get_data(as_text=True)
    assert [int(i) for i in _summons_rows(second)] == [made[n] for n in range(51, 56)]
    # The items it was summoned to are one tab away, still scoped, below a preview of the
    # nearest summons deadlines and a link to them all.
    items = client.get("/work/?view=items").get_data(as_text=True)
    assert 'id="inbox-rows"' in items and "执法01" in items and "公安的" not in items
    preview = [int(i) for i in _summons_rows(items)]
    assert preview == [made[n] for n in range(1, 11)]
    assert 'href="/work/?view=summons">查看全部召集单</a>' in items
    # HTMX refresh of the summons rows only.
    fragment = client.get(
        "/work/?view=summons&all=1", headers={"HX-Request": "true", "HX-Target": "summons-rows"}
    )
    text = fragment.get_data(as_text=True)
    assert text.lstrip().startswith('<div id="summons-rows">') and "<html" not in text


def test_the_summons_preview_links_to_all_only_when_there_are_more(client, auth):
    made = [
        summons(make_item("changzhengqiaolu", title=f"执法{n}"), "dept-zhifa", NOW + n * H).item_id
        for n in range(1, 11)
    ]
    auth.login("dept-zhifa-user")
    items = client.get("/work/?view=items").get_data(as_text=True)
    assert [int(i) for i in _summons_rows(items)] == made  # the ten, all of them
    assert "查看全部召集单" not in items


def test_commissioner_lands_on_items(client, auth):
    make_item("lvzhouhuayuan", title="绿洲的事", due=NOW + 3 * H)
    auth.login("xifang")
    page = client.get("/work/").get_data(as_text=True)
    assert 'id="inbox-rows"' in page and "绿洲的事" in page
    assert "view=summons" not in page  # never summoned: no empty summons tab


def test_unread_count_is_capped(client, auth):
    user = User.get(User.username == "xifang")
    Notification.insert_many(
        [{"user": user.id, "message": f"n{i}", "created_at": NOW} for i in range(120)]
    ).execute()
    auth.login("xifang")
    bell = client.get("/notifications/unread", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert '<span class="badge">99+</span>' in bell
    Notification.update(read=True).where(Notification.message != "n0").execute()
    bell = client.get("/notifications/unread", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert '<span class="badge">1</span>' in bell


def test_the_web_app_reuses_pooled_connections(client, auth):
    from playhouse.pool import PooledDatabase

    from engine.store.db import backend, database

    assert isinstance(database.obj, PooledDatabase)
    assert (backend().name == "postgresql") == database.obj.__class__.__name__.startswith(
        "PooledPostgres"
    )
    auth.login("xifang")
    opened = set()
    for _ in range(5):
        assert client.get("/work/").status_code == 200
        assert database.is_closed()  # handed back after each request ...
        opened |= {id(conn) for _, _, conn in database.obj._connections}
    assert len(opened) == 1  # ... and taken again by the next one


def test_a_company_at_several_compounds_raises_at_each_by_its_name(client, auth):
    """One 发起事项 button per compound, each named by the compound, never by its key."""
    auth.login("chaohui-wuye")
    page = client.get("/work/").get_data(as_text=True)
    for key, name in (("jingduyuanxiaoqu", "京都苑"), ("chaowanggongyu", "潮王公寓")):
        assert f'href="/work/new?node={key}">发起事项 · {name}</a>' in page
    assert "· jingduyuanxiaoqu<" not in page


def test_list_rows_show_urges_and_lateness_with_titles_escaped(client, auth):
    """The item list's and the summons list's rows (their words worked out in
    ``pages.work``, shown by the templates) escape their titles and show the urge badge
    and the overdue flag where due."""
    late = make_item("lvzhouhuayuan", title="<b>漏水</b>", due=NOW - H)
    late.urge_count = 2
    late.save()
    make_item("lvzhouhuayuan", title="按时的", due=dt.datetime(2099, 1, 1))
    auth.login("xifang")
    page = client.get("/work/?view=items").get_data(as_text=True)
    rows = page.split('id="inbox-rows"', 1)[1].split("</table>", 1)[0]
    late_row = next(r for r in rows.split("<tr")[1:] if "漏水" in r)
    assert "&lt;b&gt;漏水&lt;/b&gt;" in late_row and "<b>漏水" not in rows
    assert 'class="overdue"' in late_row and '<span class="urged">督办 ×2</span>' in late_row
    assert '<span class="overdue-flag">已逾期</span>' in late_row
    on_time = next(r for r in rows.split("<tr")[1:] if "按时的" in r)
    assert "overdue" not in on_time and "urged" not in on_time
    assert f'href="/work/items/{late.id}"' in late_row

    summoned = summons(make_item("changzhengqiaolu", title="<i>占道</i>"), "dept-zhifa", NOW)
    summoned.urge_count = 1
    summoned.save()
    auth.login("dept-zhifa-user")
    page = client.get("/work/?view=summons").get_data(as_text=True)
    rows = page.split('id="summons-rows"', 1)[1].split("</table>", 1)[0]
    row = next(r for r in rows.split("<tr")[1:] if "占道" in r)
    assert f"#{summoned.item_id} &lt;i&gt;占道&lt;/i&gt;" in row
    assert '<span class="urged">督办 ×1</span>' in row and "overdue-flag" in row
    assert "区综合行政执法局" in row and 'class="pill pill-summoned"' in row

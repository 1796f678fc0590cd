"""/review pages: the overdue board, evaluation table, sorting, drill-downs, Excel export,
supervision actions — each scoped to what the user may see."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook

from engine.accounts.users import upsert_user
from engine.core import clock
from engine.org.actors import actor_for
from engine.store.models import Event, Item, User
from engine.supervision import board as boards
from engine.supervision import evaluation, overview
from pages.review import actions as actions_page
from pages.review import board as page
from tests.review_data import NOW, H, build, make_item, summons

Q4 = {"from": "2026-10-01", "to": "2026-12-31"}


@pytest.fixture
def data(app, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    upsert_user(
        "xiaohe-ducha", "小河督导", "demo1234", [{"role": "supervisor", "node": "xiaohe"}], now=NOW
    )
    return build()


def _xlsx(response):
    sheet = load_workbook(io.BytesIO(response.data)).active
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def test_evaluation_table_sorts_on_the_server_and_htmx_gets_the_table_alone(client, auth, data):
    auth.login("ducha")
    page = client.get("/review/evaluation", query_string={**Q4, "sort": "score", "dir": "desc"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in html and "<html" in html
    assert html.index("区综合行政执法局") < html.index("区公安分局")  # 96 before 52.5
    shown = re.sub(r"<[^>]*>", "", html)  # the period as people write dates
    assert "2026年10月1日 – 2026年12月31日" in shown and "2026-10-01" not in shown
    fragment = client.get(
        "/review/evaluation",
        query_string={**Q4, "sort": "score", "dir": "asc"},
        headers={"HX-Request": "true", "HX-Target": "evaluation-table"},
    )
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and text.lstrip().startswith("{%") is False
    assert text.index("区公安分局") < text.index("区综合行政执法局")
    by_name = client.get(
        "/review/evaluation",
        query_string={**Q4, "sort": "name", "dir": "asc"},
        headers={"HX-Request": "true", "HX-Target": "evaluation-table"},
    ).get_data(as_text=True)
    assert 'aria-sort="ascending"' in by_name


def test_excel_export_holds_the_rows_of_the_table(client, auth, data):
    auth.login("ducha")
    args = {**Q4, "sort": "score", "dir": "desc"}
    response = client.get("/review/evaluation.xlsx", query_string=args)
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    rows = _xlsx(response)
    assert rows[0][0].startswith("2026-10-01")
    header, body = rows[1], rows[2:]
    assert len(header) == 11
    assert [r[0] for r in body][:2] == ["区综合行政执法局", "区公安分局"]
    gaj = body[1]
    assert gaj[1:] == [5, 50.0, 2.0, 50.0, 48.0, 3.5, 25.0, 2, 52.5, "待改进"]
    html = client.get("/review/evaluation", query_string=args).get_data(as_text=True)
    order = sorted((html.index(r[0]), r[0]) for r in body)
    assert [name for _, name in order] == [r[0] for r in body]


def test_department_sees_only_itself_in_evaluation_drill_downs_and_export(client, auth, data):
    auth.login("dept-gaj-user")
    html = client.get("/review/evaluation", query_string=Q4).get_data(as_text=True)
    assert "区公安分局" in html and "区综合行政执法局" not in html
    assert [r[0] for r in _xlsx(client.get("/review/evaluation.xlsx", query_string=Q4))[2:]] == [
        "区公安分局"
    ]
    assert client.get("/review/evaluation/dept-gaj/summoned", query_string=Q4).status_code == 200
    assert client.get("/review/evaluation/dept-zhifa/summoned", query_string=Q4).status_code == 404
    assert client.get("/review/overdue").status_code == 403  # the board is for supervisors


def test_drill_down_is_paged(client, auth, data, monkeypatch):
    """A page of summonses at a time, with links to the pages either side; the heading
    counts what the page lists (it said 500 where the table said thousands)."""
    from pages.review import evaluation as page_module

    monkeypatch.setattr(page_module, "PAGE", 2)
    auth.login("ducha")
    url = "/review/evaluation/dept-gaj/summoned"
    seen = []
    for number, titles, heading in [
        (1, ["一号", "二号"], "1–2"),
        (2, ["三号", "一号"], "3–4"),
        (3, ["四号"], "5–5"),
    ]:
        html = client.get(url, query_string={**Q4, "page": number}).get_data(as_text=True)
        rows = re.findall(r'<a href="/work/items/\d+">([^<]+)</a>', html)
        assert rows == titles, (number, rows)
        assert f'<small class="muted">{heading}</small>' in html
        assert ("上一页" in html) == (number > 1) and ("下一页" in html) == (number < 3)
        seen += rows
    assert seen == ["一号", "二号", "三号", "一号", "四号"]
    for odd in ("0", "-3", "abc"):  # read as the first page
        html = client.get(url, query_string={**Q4, "page": odd}).get_data(as_text=True)
        assert re.findall(r'<a href="/work/items/\d+">([^<]+)</a>', html) == ["一号", "二号"]
    whole = client.get("/review/evaluation/dept-gaj/reopened", query_string=Q4)
    assert '<small class="muted">1</small>' in whole.get_data(as_text=True)
    # the period as people write dates, not as ISO dates
    shown = re.sub(r"<[^>]*>", "", html)
    assert "2026年10月1日 – 2026年12月31日" in shown and "2026-10-01" not in shown


def test_street_supervisor_sees_only_its_street(client, auth, data):
    auth.login("xiaohe-ducha")
    body = _xlsx(
        client.get("/review/evaluation.xlsx", query_string={**Q4, "sort": "name", "dir": "asc"})
    )[2:]
    summoned = {r[0]: r[1] for r in body}
    assert summoned["区综合行政执法局"] == 2 and summoned["区公安分局"] == 0
    drill = client.get("/review/evaluation/dept-gaj/summoned", query_string=Q4).get_data(
        as_text=True
    )
    assert "一号" not in drill
    board = client.get("/review/overdue", query_string={"level": "street"}).get_data(as_text=True)
    assert "小河街道" in board and "朝晖街道" not in board
    assert client.get("/review/overdue/street/chaohui").status_code == 404
    assert client.get("/review/overdue/compound/lvzhouhuayuan").status_code == 404
    departments = client.get("/review/overdue/department/dept-gaj").get_data(as_text=True)
    assert "三号" not in departments


def test_board_counts_drill_down_to_the_overdue_items(client, auth, data):
    auth.login("chaohui-ducha")
    html = client.get("/review/overdue", query_string={"level": "compound"}).get_data(as_text=True)
    assert "绿洲花园" in html and "/review/overdue/compound/lvzhouhuayuan" in html
    items = client.get("/review/overdue/compound/lvzhouhuayuan").get_data(as_text=True)
    assert "三号" in items and "四号" not in items  # 三号 is past due, 四号 is not
    by_dept = client.get("/review/overdue", query_string={"level": "department"}).get_data(
        as_text=True
    )
    assert "/review/overdue/department/dept-gaj" in by_dept
    late = client.get("/review/overdue/department/dept-gaj").get_data(as_text=True)
    assert "三号" in late and "二号" not in late
    assert "/review/summons/" in late  # the late summons itself, with its own urge form


def test_urge_from_the_board_with_htmx_replaces_the_form(client, auth, data):
    auth.login("chaohui-ducha")
    item = data["i3"]
    response = client.post(
        f"/review/items/{item.id}/urge",
        data={"message": "今天必须处理"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "urge-form" in response.get_data(as_text=True)
    assert Item.get_by_id(item.id).urge_count == 1
    empty = client.post(
        f"/review/items/{item.id}/urge", data={"message": ""}, headers={"HX-Request": "true"}
    )
    assert "field-error" in empty.get_data(as_text=True)
    page = client.get(f"/work/items/{item.id}").get_data(as_text=True)
    assert "今天必须处理" in page and 'class="urged"' in page


def test_reroute_and_reassign_through_the_pages(client, auth, data):
    auth.login("chaohui-ducha")
    item = make_item("lvzhouhuayuan", title="需要改派")
    page = client.get(f"/work/items/{item.id}").get_data(as_text=True)
    assert 'id="supervise"' in page
    response = client.post(
        f"/review/items/{item.id}/reroute", data={"units": ["dept-xfdd"], "reason": "涉及消防通道"}
    )
    assert response.status_code == 303
    assert Event.select().where((Event.item == item) & (Event.action == "item.reroute")).exists()
    form = client.get("/review/reassign", query_string={"from": "xifang"}).get_data(as_text=True)
    assert "需要改派" in form
    # each commissioner by name and the compounds they serve, never by login name
    assert "席芳(绿洲花园)" in form and "(xifang)" not in form
    moved = client.post(
        "/review/reassign",
        data={
            "from": "xifang",
            "to": "zhongshanhuayuan-zy",
            "reason": "专员休假",
            "items": [str(item.id)],
        },
    )
    assert moved.status_code == 303
    assert Item.get_by_id(item.id).handler.username == "zhongshanhuayuan-zy"
    assert Item.get_by_id(data["i3"].id).handler_id is None  # not ticked: stays


@pytest.mark.parametrize(
    "path",
    [
        "/review/overdue",
        "/review/reassign",
        "/review/overdue/street/chaohui",
    ],
)
@pytest.mark.parametrize("username", ["xifang", "lvzhou-yezhu1", "dept-gaj-user"])
def test_supervisor_pages_refuse_others(client, auth, data, username, path):
    auth.login(username)
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("username", ["xifang", "dept-gaj-user"])
def test_supervision_actions_refuse_others(client, auth, data, username):
    auth.login(username)
    item = data["i3"]
    assert client.post(f"/review/items/{item.id}/urge", data={"message": "x"}).status_code == 403
    assert (
        client.post(
            f"/review/items/{item.id}/reroute", data={"units": ["dept-gaj"], "reason": "x"}
        ).status_code
        == 403
    )
    assert Item.get_by_id(item.id).urge_count == 0


def test_a_broken_score_rule_is_a_message_not_a_500(client, auth, data):
    from engine.authoring.publishing import publish
    from engine.store.models import Definition, Pack

    body = {
        "key": "department",
        "kind": "evaluation",
        "name": "坏规则",
        "score": {"/": [1, {"-": [{"var": "urged"}, {"var": "urged"}]}]},
    }
    publish(Pack.get(), body, now=NOW, by=None)
    assert Definition.get(Definition.key == "department").current == 2
    auth.login("ducha")
    page = client.get("/review/evaluation", query_string=Q4)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "坏规则（第 2 版）的评分规则计算失败：除数为零" in text, text[:3000]
    assert "department v2" not in text and "/score" not in text


def test_bad_dates_fall_back_to_this_quarter(client, auth, data):
    auth.login("ducha")
    page = client.get("/review/evaluation", query_string={"from": "yesterday", "to": "2026-01-01"})
    assert page.status_code == 200 and "2026-10-01" in page.get_data(as_text=True)


def test_drill_down_marks_late_steps_as_the_deadlines_say(app):
    """A report-in or a finish is late when it came after its deadline, or did not come and
    the deadline passed before the summons ended (or before now); nothing is late without a
    deadline. The cells are worked out in the view (``drill_cells``)."""
    import datetime as dt

    from engine.supervision.evaluation import DrillRow
    from pages.review.evaluation import drill_cells

    hour = dt.timedelta(hours=1)
    due = NOW - 10 * hour

    def row(state, reported=None, done=None, report_due=due, handle_due=due):
        return DrillRow(
            7, "一号", state, NOW - 20 * hour, report_due, reported, handle_due, done, 5, 0, 2
        )

    cases = {
        "reported in time, done late": (row("done", due - hour, due + hour), (False, True)),
        "reported late, done in time": (row("done", due + hour, due), (True, False)),
        "not reported, deadline passed": (row("summoned"), (True, True)),
        "not reported, ended before the deadline": (
            row("cancelled", done=due - hour),
            (False, False),
        ),
        "no deadlines": (row("summoned", report_due=None, handle_due=None), (False, False)),
        "deadlines still ahead": (
            row("reported", NOW - hour, report_due=NOW + hour, handle_due=NOW + hour),
            (False, False),
        ),
    }
    with app.test_request_context("/"):
        for name, (r, (late_report, late_done)) in cases.items():
            cells = drill_cells([r], NOW)[0]
            assert (cells[7], cells[10]) == (late_report, late_done), name
            assert cells[1] == "/work/items/7" and cells[2] == "一号"
            shown = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")  # local time, no ISO "T"
            assert cells[6] == "–" if r.reported_at is None else shown.fullmatch(cells[6]), name
            assert cells[9] == "–" if r.state != "done" else shown.fullmatch(cells[9]), name
            assert shown.fullmatch(cells[4]) and cells[11:] == (5, "", 2), name


def test_the_reassign_list_reads_a_fixed_number_of_statements(client, auth, assert_max_queries):
    """A commissioner's open items on the reassign page, each with its compound's name:
    read with the items, not one statement per row."""
    titles = [f"改派清单{i}" for i in range(6)]
    for title in titles:
        make_item("lvzhouhuayuan", title=title)
    auth.login("chaohui-ducha")
    with assert_max_queries(8):
        page = client.get("/review/reassign", query_string={"from": "xifang"}).get_data(
            as_text=True
        )
    assert all(t in page for t in titles) and page.count("<td>绿洲花园</td>") >= len(titles)


def test_the_board_comes_in_pages_most_overdue_first(client, auth, data, monkeypatch):
    auth.login("ducha")
    level = {"level": "compound"}
    whole = client.get("/review/overdue", query_string=level).get_data(as_text=True)
    names = re.findall(r"<tr>\s*<td>([^<]+)</td>", whole)
    assert len(names) > 3 and "下一页" not in whole  # all on one page at 50 a page
    monkeypatch.setattr(page, "BOARD_PAGE", 2)
    shown = []
    for number in range(1, len(names) // 2 + 2):
        html = client.get("/review/overdue", query_string={**level, "page": number}).get_data(
            as_text=True
        )
        rows = re.findall(r"<tr>\s*<td>([^<]+)</td>", html)
        more = f"page={number + 1}" in html
        assert len(rows) == (2 if more else len(names) - len(shown))
        assert (f"第 {len(shown) + 1}–{len(shown) + len(rows)} 行，共 {len(names)} 行") in html
        shown += rows
        if not more:
            break
    assert shown == names  # the same rows in the same order, most overdue first
    counts = boards.board(actor_for(User.get(User.username == "ducha")), "compound", now=NOW)
    assert [r.node.name for r in counts] == names
    assert [r.overdue for r in counts] == sorted((r.overdue for r in counts), reverse=True)
    assert client.get("/review/overdue", query_string={**level, "page": 0}).status_code == 422


def test_many_commissioners_are_found_by_name_or_place_and_handed_over(
    client, auth, data, monkeypatch
):
    monkeypatch.setattr(actions_page, "PICK_FROM_LIST", 2)
    item = make_item("lvzhouhuayuan", title="找人改派")
    auth.login("chaohui-ducha")
    home = client.get("/review/reassign").get_data(as_text=True)
    assert 'name="q"' in home and "<select" not in home  # a search, not a list of all
    by_name = client.get("/review/reassign", query_string={"q": "席"}).get_data(as_text=True)
    assert "席芳(绿洲花园)" in by_name and "?from=xifang" in by_name
    by_place = client.get("/review/reassign", query_string={"q": "绿洲"}).get_data(as_text=True)
    assert "?from=xifang" in by_place and "?from=zhongshanhuayuan-zy" not in by_place
    literal = client.get("/review/reassign", query_string={"q": "%"}).get_data(as_text=True)
    assert "?from=" not in literal and "没有" in literal  # % is a character, not a wildcard
    # another street's commissioners are never found
    other = client.get("/review/reassign", query_string={"q": "刘颖建"}).get_data(as_text=True)
    assert "dongxinyuan-zy" not in other
    chosen = client.get("/review/reassign", query_string={"from": "xifang"}).get_data(as_text=True)
    assert "找人改派" in chosen and 'name="to_q"' in chosen and 'type="radio"' not in chosen
    targets = client.get(
        "/review/reassign", query_string={"from": "xifang", "to_q": "花园"}
    ).get_data(as_text=True)
    assert 'name="to" value="zhongshanhuayuan-zy"' in targets
    assert 'name="to" value="xifang"' not in targets  # 绿洲花园's own is not offered
    assert "?to_q=" in targets  # a refused form comes back with the same choices
    moved = client.post(
        "/review/reassign?to_q=中山",
        data={"from": "xifang", "to": "zhongshanhuayuan-zy", "reason": "专员休假"},
    )
    assert moved.status_code == 303
    assert Item.get_by_id(item.id).handler.username == "zhongshanhuayuan-zy"
    monkeypatch.setattr(actions_page, "FOUND", 1)  # more match than are shown: a word says so
    many = client.get("/review/reassign", query_string={"q": "花园"}).get_data(as_text=True)
    assert many.count("?from=") == 1 and "请输入更多" in many


def _summoned(html: str, name: str) -> str:
    """The summoned count in ``name``'s row of the evaluation table."""
    row = html.split(f">{name}<")[1].split("</tr>")[0]
    return re.sub(r"<[^>]*>", "", row.split("<td")[1].split(">", 1)[1]).strip()


def test_the_evaluation_is_kept_a_few_minutes_per_grants_and_says_since_when(
    app, client, auth, data, monkeypatch
):
    app.config["STATISTICS_MAX_AGE"] = 300
    evaluation._AS_OF.clear()
    auth.login("ducha")
    first = client.get("/review/evaluation", query_string=Q4).get_data(as_text=True)
    assert _summoned(first, "区综合行政执法局") == "2" and "统计时间 09:00" in first
    summons(make_item("changzhengqiaolu"), "dept-zhifa", NOW - 2 * H, reported=1)
    kept = client.get("/review/evaluation", query_string=Q4).get_data(as_text=True)
    assert _summoned(kept, "区综合行政执法局") == "2"  # the figures of 09:00, as it says
    # another reader with other grants never gets them: it works out its own
    auth.logout()
    auth.login("xiaohe-ducha")
    other = client.get("/review/evaluation", query_string=Q4).get_data(as_text=True)
    assert _summoned(other, "区综合行政执法局") == "3"
    auth.logout()
    auth.login("ducha")
    export = _xlsx(client.get("/review/evaluation.xlsx", query_string=Q4))
    assert {r[0]: r[1] for r in export[2:]}["区综合行政执法局"] == 3  # a document: as of now
    fresh = client.get("/review/evaluation", query_string={**Q4, "fresh": "1"})
    assert _summoned(fresh.get_data(as_text=True), "区综合行政执法局") == "3"
    summons(make_item("changzhengqiaolu"), "dept-zhifa", NOW - 2 * H, reported=1)
    later = NOW + dt.timedelta(seconds=301)
    monkeypatch.setattr(clock, "now", lambda: later)
    aged = client.get("/review/evaluation", query_string=Q4).get_data(as_text=True)
    assert _summoned(aged, "区综合行政执法局") == "4" and "统计时间 09:05" in aged


def test_kept_figures_are_handed_out_as_copies(app, data):
    actor = actor_for(User.get(User.username == "ducha"))
    period = evaluation.Period(dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    rows, at = evaluation.evaluate_as_of(actor, period, now=NOW, max_age=300)
    rows[0].score, rows[0].summoned = 99.0, -1  # as scoring writes its score
    again, kept_at = evaluation.evaluate_as_of(actor, period, now=NOW, max_age=300)
    assert kept_at == at == NOW and again[0].score is None and again[0].summoned != -1
    assert evaluation.evaluate_as_of(actor, period, now=NOW, max_age=0)[0] == again
    earlier = evaluation.Period(dt.date(2025, 1, 1), dt.date(2025, 3, 31))  # kept apart
    quiet, _ = evaluation.evaluate_as_of(actor, earlier, now=NOW, max_age=300)
    assert sum(r.summoned for r in quiet) == 0 < sum(r.summoned for r in again)


def _street_cells(client) -> tuple[list[str], str]:
    """朝晖街道's cells on /review/ (items, open, overdue, rate, median hours), and the page."""
    html = client.get("/review/").get_data(as_text=True)
    row = html.split(">朝晖街道<")[1].split("</tr>")[0]
    return [
        re.sub(r"<[^>]*>", "", cell.split(">", 1)[1]).strip() for cell in row.split("<td")[1:]
    ], html


def test_the_review_homes_medians_are_kept_a_few_minutes_and_its_counts_are_live(
    app, client, auth, data, monkeypatch
):
    app.config["STATISTICS_MAX_AGE"] = 300
    overview._MEDIANS.clear()
    auth.login("ducha")
    before, html = _street_cells(client)
    assert before[0] == "5" and before[4] == "–" and "解决用时中位数的统计时间：09:00" in html
    resolved = make_item("lvzhouhuayuan", closed=True)
    Item.update(resolved_at=NOW, resolution_seconds=7200).where(Item.id == resolved.id).execute()
    now, html = _street_cells(client)
    assert now[0] == "6" and now[4] == "–"  # the count at once, the median as of 09:00
    later = NOW + dt.timedelta(seconds=301)
    monkeypatch.setattr(clock, "now", lambda: later)
    aged, html = _street_cells(client)
    assert aged[4] == "2.0" and "解决用时中位数的统计时间：09:05" in html
    app.config["STATISTICS_MAX_AGE"] = 0  # as the tests run: worked out on every visit
    Item.update(resolution_seconds=3600).where(Item.id == resolved.id).execute()
    assert _street_cells(client)[0][4] == "1.0"


def test_the_commissioner_search_stays_inside_what_the_supervisor_supervises(
    client, auth, data, monkeypatch
):
    monkeypatch.setattr(actions_page, "PICK_FROM_LIST", 2)
    upsert_user(  # xifang also serves a compound of another street
        "xifang",
        "席芳",
        "demo1234",
        [
            {"role": "commissioner", "node": "lvzhouhuayuan"},
            {"role": "commissioner", "node": "wenlanxincun"},
        ],
        now=NOW,
    )
    auth.login("chaohui-ducha")
    outside = client.get("/review/reassign", query_string={"q": "文澜"}).get_data(as_text=True)
    assert "?from=" not in outside and "文澜新村" not in outside  # nothing there is theirs
    for text in ("_", "\\"):  # each a character, not a wildcard or an escape
        assert "?from=" not in client.get("/review/reassign", query_string={"q": text}).text
    # another street's commissioner by login name: neither named nor listed
    other = client.get("/review/reassign", query_string={"from": "wenlanxincun-zy"}).text
    assert "肖超霞" not in other and "承办的未办结事项" not in other
    auth.logout()
    auth.login("ducha")  # the district supervises both streets
    both = client.get("/review/reassign", query_string={"q": "文澜"}).get_data(as_text=True)
    assert "席芳(文澜新村、绿洲花园)" in both and "?from=wenlanxincun-zy" in both


def test_the_search_for_whom_to_hand_over_to_says_more_match_without_the_source(
    client, auth, data, monkeypatch
):
    monkeypatch.setattr(actions_page, "PICK_FROM_LIST", 2)
    monkeypatch.setattr(actions_page, "FOUND", 1)
    make_item("lvzhouhuayuan", title="找人改派")
    # the source first by name among those that match: found, then left out
    upsert_user(
        "xifang", "一芳", "demo1234", [{"role": "commissioner", "node": "lvzhouhuayuan"}], now=NOW
    )
    auth.login("chaohui-ducha")
    html = client.get("/review/reassign", query_string={"from": "xifang", "to_q": "花园"}).get_data(
        as_text=True
    )
    assert html.count('name="to"') == 1 and 'name="to" value="xifang"' not in html
    assert "请输入更多" in html


def test_a_board_page_past_the_last_is_not_found(client, auth, data, monkeypatch):
    monkeypatch.setattr(page, "BOARD_PAGE", 2)
    auth.login("ducha")
    level = {"level": "compound"}
    last = 1
    while f"page={last + 1}" in client.get(
        "/review/overdue", query_string={**level, "page": last}
    ).get_data(as_text=True):
        last += 1
    assert client.get("/review/overdue", query_string={**level, "page": last}).status_code == 200
    past = client.get("/review/overdue", query_string={**level, "page": last + 1})
    assert past.status_code == 404

"""Department evaluation (履职评价): numbers worked out by hand, the pack's score rule."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from engine.accounts.users import upsert_user
from engine.authoring.publishing import publish
from engine.definitions.checks import definition_problems
from engine.store.models import Pack
from engine.supervision import evaluation, scoring
from tests.review_data import NOW, build

Q4 = evaluation.Period(dt.date(2026, 10, 1), dt.date(2026, 12, 31))


def _rows(actor):
    rows = {r.node.key: r for r in evaluation.evaluate(actor, Q4, now=NOW)}
    scoring.score_rows(scoring.evaluations()[0], rows.values(), skip=lambda r: not r.summoned)
    return rows


def test_numbers_equal_those_worked_out_by_hand(app, actor_of):
    build()
    gaj = _rows(actor_of("ducha"))["dept-gaj"]
    # Five summons in Q4 (the September one is outside the period).
    assert gaj.summoned == 5
    # Report-in: decided = 3 reported + 1 never reported and past due = 4; on time: 2.
    assert (gaj.report_decided, gaj.report_on_time, gaj.report_on_time_pct) == (4, 2, 50.0)
    assert gaj.report_median_hours == 2.0  # 1 h, 2 h, 6 h
    # Handling: 3 done + 1 past its handling deadline = 4; on time: 48 h and 10 h of 72 h.
    assert (gaj.handle_decided, gaj.handle_on_time, gaj.handle_on_time_pct) == (4, 2, 50.0)
    assert gaj.handle_median_hours == 48.0  # 10 h, 48 h, 80 h
    # Items touched: 一号 (twice), 二号, 三号, 四号 = 4; rated 5 and 2; 二号 reopened.
    assert (gaj.items, gaj.rated, gaj.satisfaction) == (4, 2, 3.5)
    assert gaj.reopen_pct == 25.0
    assert gaj.urged == 2
    # The pack's rule: 50*.3 + 50*.4 + 3.5*4 + (100-25)*.1 - min(10, 2*2) = 52.5
    assert gaj.score == 52.5 and gaj.grade == "待改进"


def test_median_of_an_even_count_and_defaults_of_the_score_rule(app, actor_of):
    build()
    zhifa = _rows(actor_of("ducha"))["dept-zhifa"]
    assert zhifa.report_median_hours == 2.0  # (1 + 3) / 2
    assert zhifa.handle_median_hours == 27.0  # (24 + 30) / 2
    assert zhifa.satisfaction is None and "satisfaction" not in zhifa.metrics()
    # 100*.3 + 100*.4 + default satisfaction 4*4 + 100*.1 = 96
    assert zhifa.score == 96.0 and zhifa.grade == "优秀"


def test_a_department_without_summons_has_no_score(app, actor_of):
    build()
    idle = _rows(actor_of("ducha"))["dept-mzj"]
    assert idle.summoned == 0 and idle.score is None and idle.report_on_time_pct is None


def test_street_supervisor_counts_only_its_street(app, actor_of):
    build()
    upsert_user(
        "xiaohe-ducha", "小河督导", "demo1234", [{"role": "supervisor", "node": "xiaohe"}], now=NOW
    )
    chaohui = _rows(actor_of("chaohui-ducha"))
    assert chaohui["dept-gaj"].summoned == 5 and chaohui["dept-zhifa"].summoned == 0
    xiaohe = _rows(actor_of("xiaohe-ducha"))
    assert xiaohe["dept-gaj"].summoned == 0 and xiaohe["dept-zhifa"].summoned == 2


def test_a_department_sees_only_its_own_row_and_summons(app, actor_of):
    build()
    rows = _rows(actor_of("dept-gaj-user"))
    assert list(rows) == ["dept-gaj"] and rows["dept-gaj"].summoned == 5


@pytest.mark.parametrize(
    "which, titles",
    [
        ("summoned", ["一号", "二号", "三号", "一号", "四号"]),
        ("report_on_time", ["一号", "一号"]),
        ("report_late", ["二号", "三号"]),
        ("handle_late", ["二号", "三号"]),
        ("rated", ["一号", "二号"]),
        ("reopened", ["二号"]),
        ("urged", ["二号"]),
    ],
)
def test_drill_down_lists_the_summons_behind_each_number(app, actor_of, which, titles):
    build()
    from engine.store.models import OrgNode

    found = evaluation.drill(
        actor_of("ducha"), Q4, OrgNode.get(OrgNode.key == "dept-gaj"), which, now=NOW
    )
    assert [r.title for r in found] == titles


@pytest.mark.parametrize(
    "which, size", [("summoned", 2), ("summoned", 3), ("rated", 1), ("reopened", 1)]
)
def test_drill_down_pages_through_the_same_rows(app, actor_of, which, size):
    """Page after page lists what one long list does, each item once where the number
    counts items (一号 was summoned twice; it was dropped in Python after the limit, so a
    page could repeat an item of the page before)."""
    build()
    from engine.store.models import OrgNode

    unit, actor = OrgNode.get(OrgNode.key == "dept-gaj"), actor_of("ducha")
    whole = evaluation.drill(actor, Q4, unit, which, now=NOW)
    pages, offset = [], 0
    while page := evaluation.drill(actor, Q4, unit, which, now=NOW, limit=size, offset=offset):
        assert len(page) <= size
        pages.extend(page)
        offset += size
    assert pages == whole and whole
    if which in evaluation.ITEM_DRILLS:
        assert len({r.item_id for r in whole}) == len(whole)


def test_quarter_of_uses_local_dates():
    # 2026-12-31 20:00 UTC is already 2027-01-01 in Shanghai.
    assert evaluation.quarter_of(dt.datetime(2026, 12, 31, 20)) == evaluation.Period(
        dt.date(2027, 1, 1), dt.date(2027, 3, 31)
    )
    assert evaluation.quarter_of(NOW) == Q4


BODY = {
    "key": "dept-simple",
    "kind": "evaluation",
    "name": "简单评价",
    "score": {"+": [{"var": ["report_on_time_pct", 0]}, {"var": "urged"}]},
}


@pytest.mark.parametrize(
    "change, path",
    [
        ({"score": {"+": [{"var": "speed"}, 1]}}, "/score"),
        ({"score": {"nope": [1]}}, "/score/nope"),
        ({"grades": [{"min": 1}]}, "/grades/0"),
        ({"grades": [{"min": 1, "label": "好"}, {"min": 2, "label": "好"}]}, "/grades/1/label"),
    ],
)
def test_evaluation_definitions_are_checked_with_pointers(change, path):
    problems = definition_problems({**BODY, **change}, roles=[], units=[])
    assert problems and problems[0].path == path, problems


def test_a_failing_score_rule_names_the_definition_its_version_and_the_problem(app, actor_of):
    build()
    pack = Pack.get()
    broken = {
        **BODY,
        "key": "aaa-broken",
        "score": {"/": [100, {"-": [{"var": "urged"}, {"var": "urged"}]}]},
    }
    publish(pack, broken, now=NOW, by=None)
    rows = evaluation.evaluate(actor_of("ducha"), Q4, now=NOW)
    chosen = next(e for e in scoring.evaluations() if e.key == "aaa-broken")
    message = scoring.score_rows(chosen, rows, skip=lambda r: not r.summoned)
    assert message == f"The score rule of {chosen.name} (version 1) failed: division by zero"
    assert "aaa-broken" not in message and "/score" not in message
    assert all(r.score is None for r in rows)


def test_kept_median_statements_read_each_actor_and_period_anew(app, actor_of):
    """The medians' statement is kept by shape; the period is a value, the scope part of
    it: every actor and period gets the medians of its own summons (counted here)."""
    build()
    from engine.store.models import Assignment

    upsert_user(
        "xiaohe-ducha", "小河督导", "demo1234", [{"role": "supervisor", "node": "xiaohe"}], now=NOW
    )
    periods = [Q4, evaluation.Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30)), Q4]
    for user in ("ducha", "chaohui-ducha", "xiaohe-ducha", "dept-gaj-user"):
        actor = actor_of(user)
        for period in periods:
            seen = {a.id for a in evaluation.in_period(actor, period).select(Assignment.id)}
            for row in evaluation.evaluate(actor, period, now=NOW):
                mine = [a for a in Assignment.select() if a.id in seen and a.unit_id == row.node.id]
                hours = lambda ends: evaluation.median(
                    [(e - a.summoned_at).total_seconds() for a, e in ends if e is not None]
                )
                report = hours([(a, a.reported_at) for a in mine])
                handle = hours([(a, a.done_at if a.state == "done" else None) for a in mine])
                assert row.report_median_hours == (report and round(report / 3600, 1))
                assert row.handle_median_hours == (handle and round(handle / 3600, 1))


def test_a_score_is_kept_by_rule_and_numbers_of_each_type():
    calls = []

    def rule(doc):
        calls.append(dict(doc))
        return 1 if type(doc["urged"]) is int else 2.5

    assert scoring._scored(rule, {"urged": 50}) == 1
    assert scoring._scored(rule, {"urged": 50}) == 1 and len(calls) == 1
    assert scoring._scored(rule, {"urged": 50.0}) == 2.5 and len(calls) == 2
    assert scoring._scored(lambda doc: 7, {"urged": 50}) == 7  # another rule: its own


def _hand_medians(actor, period, unit_id):
    """The medians of ``unit_id``'s summons in the actor's view, sorted here."""
    from engine.store.models import Assignment

    seen = {a.id for a in evaluation.in_period(actor, period).select(Assignment.id)}
    mine = [a for a in Assignment.select() if a.id in seen and a.unit_id == unit_id]

    def seconds(ends):
        return evaluation.median([(e - a.summoned_at).total_seconds() for a, e in ends if e])

    return (
        seconds([(a, a.reported_at) for a in mine]),
        seconds([(a, a.done_at if a.state == "done" else None) for a in mine]),
    )


@pytest.mark.parametrize("item_row", [True, False])
@pytest.mark.parametrize("user", ["chaohui-ducha", "xiaohe-ducha", "shijiahuayuan-sqsfb"])
def test_medians_match_summons_to_the_scope_either_way(app, actor_of, monkeypatch, user, item_row):
    """Whether each summons is tested by its item's row or against the subtree's items
    listed, a street's and a community's medians are those of their own summons."""
    build()
    upsert_user("xiaohe-ducha", "小河督导", "demo1234", [{"role": "supervisor", "node": "xiaohe"}],
                now=NOW)  # fmt: skip
    upsert_user("shijiahuayuan-sqsfb", "社区三方办", "demo1234",
                [{"role": "supervisor", "node": "shijiahuayuan"}], now=NOW)  # fmt: skip
    monkeypatch.setattr(evaluation, "_by_item_row", lambda *args: item_row)
    evaluation._MEDIAN_STATEMENTS.clear()
    actor = actor_of(user)
    rows = evaluation.evaluate(actor, Q4, now=NOW, stored=False)
    assert any(r.report_median_hours for r in rows) or user == "shijiahuayuan-sqsfb"
    for row in rows:
        report, handle = _hand_medians(actor, Q4, row.node.id)
        assert row.report_median_hours == (report and round(report / 3600, 1))
        assert row.handle_median_hours == (handle and round(handle / 3600, 1))


def test_the_item_row_way_is_taken_when_the_subtree_holds_more_items(app, actor_of, monkeypatch):
    """The way is chosen by two sizes: the units' summonses in the period (the district
    over) against the subtree's items of every year; kept for a while, then counted anew."""
    from engine.org.scope import summons_unjoined_shape
    from engine.store.models import Assignment, Item

    build()
    actor = actor_of("chaohui-ducha")
    units = sorted({a.unit_id for a in Assignment.select(Assignment.unit)})
    ways, values = summons_unjoined_shape(actor)
    start, end = values["start"], values["end"] = Q4.bounds()
    summonses = sum(1 for a in Assignment.select() if start <= a.summoned_at < end)
    path = actor.grants[0].node_path
    street_items = sum(1 for i in Item.select() if i.node_path.startswith(path))
    assert summonses and street_items and summonses != street_items
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])  # as the kept sizes read it
    evaluation._ITEM_ROW.clear()
    assert evaluation._by_item_row(ways, values, units) == (summonses < street_items)
    # A unit without summonses: none to test against the street's items.
    assert evaluation._by_item_row(ways, values, [-1]) is True
    # Kept: sizes that would change the answer are not counted until the time is up.
    monkeypatch.setattr(evaluation, "SIZE_CAP", 0)
    clock[0] += evaluation.ITEM_ROW_SECONDS - 1
    assert evaluation._by_item_row(ways, values, [-1]) is True
    clock[0] += 2
    assert evaluation._by_item_row(ways, values, [-1]) is False  # both counted as 0
    # Who sees no subtree (a department) has nothing to choose.
    dept_ways, dept_values = summons_unjoined_shape(actor_of("dept-gaj-user"))
    dept_values["start"], dept_values["end"] = start, end
    assert evaluation._by_item_row(dept_ways, dept_values, units) is False

"""Statements of accounts (经营性收支公示): lifecycle, immutability, audit, questions, scope."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.core.errors import Conflict, Forbidden, Invalid, NotFound
from engine.residents import disclosures as d
from engine.residents import questions, statements
from engine.residents.money import parse_amount
from engine.residents.periods import due_at, period_label, period_of
from engine.store.models import Assignment, Event, OrgNode
from engine.store.resident_tables import Statement
from engine.workflow import items

NOW = dt.datetime(2026, 11, 27, 1, 0)
H = dt.timedelta(hours=1)
KEY = "operating-accounts"


def lvzhou():
    return OrgNode.get(OrgNode.key == "lvzhouhuayuan")


def drafted(actor_of, lines=2):
    wy = actor_of("lvzhouhuayuan-wy")
    st = d.start(wy, KEY, lvzhou(), "2026-Q3", now=NOW)
    d.add_line(
        wy,
        st,
        {"section": "income", "category": "广告", "label": "电梯广告", "amount": "12,000.50"},
        now=NOW,
    )
    if lines > 1:
        d.add_line(
            wy,
            st,
            {"section": "expense", "category": "税费", "label": "增值税", "amount": "360"},
            now=NOW,
        )
    return st


def test_amounts_are_cents_never_floats():
    assert parse_amount("12,000.50") == 1200050
    assert parse_amount("¥0.1") == 10
    assert parse_amount("3") == 300
    assert parse_amount("１，２００．５元") == 120050  # typed on a Chinese keyboard
    for bad in ("", "abc", "1.001", "-5", "NaN", "1e30", "Infinity"):
        with pytest.raises(ValueError):
            parse_amount(bad)


def test_periods_and_deadlines():
    assert period_of("quarter", NOW, previous=True) == "2026-Q3"
    assert period_of("month", NOW) == "2026-11"
    body = {"period": "quarter", "due_days": 15}
    # Q3 ends 30 September; due by the end of 15 October, Shanghai time (16:00 UTC).
    assert due_at(body, "2026-Q3") == dt.datetime(2026, 10, 15, 16, 0)
    assert due_at(body, "2026-11") is None
    assert "2026" in period_label("2026-Q3")


def test_lifecycle_draft_returned_published_corrected(app, actor_of):
    wy, ywh = actor_of("lvzhouhuayuan-wy"), actor_of("lvzhouhuayuan-ywh")
    st = drafted(actor_of)
    assert st.publisher_role == "property"
    assert [x["amount"] for x in st.lines] == [1200050, 36000]
    d.submit(wy, st, now=NOW)
    with pytest.raises(Forbidden):  # the property company does not confirm its own statement
        d.confirm(wy, st, now=NOW)
    with pytest.raises(Invalid) as refused:
        d.give_back(ywh, st, "", now=NOW)
    assert refused.value.fields[0].path == "reason"
    d.give_back(ywh, st, "停车收入漏报了十月份", now=NOW + H)
    assert st.state == "returned" and st.reason == "停车收入漏报了十月份"
    d.add_line(
        wy,
        st,
        {"section": "income", "category": "停车", "label": "临停收入", "amount": "800"},
        now=NOW + 2 * H,
    )
    d.submit(wy, st, now=NOW + 2 * H)
    d.confirm(ywh, st, now=NOW + 3 * H)
    st = Statement.get_by_id(st.id)
    assert st.state == "published" and st.published_at == NOW + 3 * H
    sums = statements.totals(d.body_of(st), st.lines)
    assert sums["sections"]["income"] == 1200050 + 80000
    assert sums["groups"]["operating"] == {"in": 1280050, "out": 36000, "balance": 1244050}

    # Published: never edited, by anyone, whatever the path.
    for change in (
        lambda: d.add_line(
            wy, st, {"section": "income", "category": "广告", "label": "x", "amount": "1"}, now=NOW
        ),
        lambda: d.update_line(
            wy,
            st,
            "L1",
            {"section": "income", "category": "广告", "label": "x", "amount": "1"},
            now=NOW,
        ),
        lambda: d.remove_line(wy, st, "L1", now=NOW),
        lambda: d.submit(wy, st, now=NOW),
        lambda: d.give_back(ywh, st, "再看看", now=NOW),
    ):
        with pytest.raises(Conflict):
            change()
    assert Statement.get_by_id(st.id).lines == st.lines

    # A correction: a new version, the lines compared with the published one's.
    v2 = d.correct(wy, st, "增值税金额有误", now=NOW + 4 * H)
    assert (v2.number, v2.previous_id, v2.state) == (2, st.id, "draft")
    with pytest.raises(Conflict):
        d.correct(wy, st, "再来一次", now=NOW)
    d.update_line(
        wy,
        v2,
        "L2",
        {"section": "expense", "category": "税费", "label": "增值税", "amount": "380"},
        now=NOW + 4 * H,
    )
    d.remove_line(wy, v2, "L3", now=NOW + 4 * H)
    d.add_line(
        wy,
        v2,
        {"section": "fund-used", "category": "电梯", "label": "3幢电梯维修", "amount": "5000"},
        now=NOW + 4 * H,
    )
    changes = statements.line_diff(st.lines, v2.lines)
    assert [(c["change"], c["id"]) for c in changes] == [
        ("changed", "L2"),
        ("added", "L4"),
        ("removed", "L3"),
    ]
    assert changes[0]["fields"] == ["amount"]
    assert Statement.get_by_id(st.id).state == "published"  # still the one residents read
    d.submit(wy, v2, now=NOW + 5 * H)
    d.confirm(ywh, v2, now=NOW + 5 * H)
    assert Statement.get_by_id(st.id).state == "superseded"
    assert Statement.get_by_id(v2.id).state == "published"

    actions = [
        e.action
        for e in Event.select()
        .where(Event.target.in_([f"statement:{st.id}", f"statement:{v2.id}"]))
        .order_by(Event.id)
    ]
    assert actions == [
        "statement.create",
        "statement.line.add",
        "statement.line.add",
        "statement.submit",
        "statement.return",
        "statement.line.add",
        "statement.submit",
        "statement.publish",
        "statement.correct",
        "statement.line.update",
        "statement.line.remove",
        "statement.line.add",
        "statement.submit",
        "statement.publish",
    ]


def test_bad_lines_name_their_fields(app, actor_of):
    wy = actor_of("lvzhouhuayuan-wy")
    st = d.start(wy, KEY, lvzhou(), "2026-Q3", now=NOW)
    with pytest.raises(Invalid) as refused:
        d.add_line(wy, st, {"section": "nope", "label": "", "amount": "1.234"}, now=NOW)
    assert {p.path for p in refused.value.fields} == {"section", "label", "amount"}
    with pytest.raises(Invalid) as refused:
        d.submit(wy, st, now=NOW)
    with pytest.raises(Conflict):  # one statement per period: the rest are corrections
        d.start(actor_of("lvzhouhuayuan-ywh"), KEY, lvzhou(), "2026-Q3", now=NOW)
    with pytest.raises(Invalid):
        d.start(wy, KEY, lvzhou(), "2026-13", now=NOW)
    with pytest.raises(Forbidden):  # another compound's property company
        d.start(actor_of("changzhengqiaolu-wy"), KEY, lvzhou(), "2026-Q2", now=NOW)


def published(actor_of):
    st = drafted(actor_of)
    d.submit(actor_of("lvzhouhuayuan-wy"), st, now=NOW)
    d.confirm(actor_of("lvzhouhuayuan-ywh"), st, now=NOW)
    return st


def test_a_question_on_a_line_is_routed_to_the_publisher_and_answered(app, actor_of):
    st = published(actor_of)
    resident = actor_of("lvzhou-yezhu1")
    item = questions.ask(resident, st, "L1", "广告收入是哪几个月的?", now=NOW)
    assert item.definition.key == "disclosure-question"
    assert item.state == "asked" and item.due_at == NOW + 72 * H
    assert "电梯广告" in item.data["line"] and "¥12,000.50" in item.data["line"]
    summons = list(Assignment.select().where(Assignment.item == item))
    assert [(a.role, a.unit.key) for a in summons] == [("property", "lvzhouhuayuan")]
    assert questions.questions_of(st) == {"L1": [item.id]}
    wy = actor_of("lvzhouhuayuan-wy")
    items.transition(
        wy, item.id, "answer", {"answer": "7至9月三个月的租金"}, expected=item.lock, now=NOW + H
    )
    item = items.get_item(resident, item.id)
    assert item.state == "answered" and item.resolved_at == NOW + H
    with pytest.raises(NotFound):
        questions.ask(resident, st, "L99", "这一项在哪里?", now=NOW)
    with pytest.raises(Invalid):
        questions.ask(resident, st, "L1", "?", now=NOW)


def test_a_resident_never_sees_another_compounds_statements(app, actor_of):
    st = drafted(actor_of)
    mine, other = actor_of("lvzhou-yezhu1"), actor_of("changzheng-yezhu1")
    with pytest.raises(NotFound):  # a draft: not even the compound's residents
        d.get_statement(mine, st.id)
    d.submit(actor_of("lvzhouhuayuan-wy"), st, now=NOW)
    d.confirm(actor_of("lvzhouhuayuan-ywh"), st, now=NOW)
    assert d.get_statement(mine, st.id).id == st.id
    with pytest.raises(NotFound):
        d.get_statement(other, st.id)
    with pytest.raises(NotFound):
        d.get_statement(actor_of("changzhengqiaolu-wy"), st.id)
    with pytest.raises(Forbidden):  # nor ask about it
        questions.ask(other, st, "L1", "这是哪里的账?", now=NOW)


def test_facts_on_time_share_and_questions(app, actor_of):
    from engine.metrics import facts

    # Q3 was due by 15 October: lvzhou publishes it on time, changzhengqiaolu late.
    on_time = dt.datetime(2026, 10, 10, 2, 0)
    st = drafted(actor_of)
    d.submit(actor_of("lvzhouhuayuan-wy"), st, now=on_time)
    d.confirm(actor_of("lvzhouhuayuan-ywh"), st, now=on_time)
    late = d.start(
        actor_of("changzhengqiaolu-wy"),
        KEY,
        OrgNode.get(OrgNode.key == "changzhengqiaolu"),
        "2026-Q3",
        now=NOW,
    )
    d.add_line(
        actor_of("changzhengqiaolu-wy"),
        late,
        {"section": "income", "category": "停车", "label": "停车", "amount": "10"},
        now=NOW,
    )
    d.submit(actor_of("changzhengqiaolu-wy"), late, now=NOW)
    d.confirm(actor_of("changzhengqiaolu-ywh"), late, now=NOW)
    questions.ask(actor_of("lvzhou-yezhu1"), st, "L1", "广告收入是哪几个月的?", now=NOW)
    docs = facts.compute_all(now=NOW + H)
    assert docs[lvzhou().id]["disclosures"] == {
        "compounds_due": 1,
        "on_time": 1,
        "on_time_rate": 100.0,
        "corrected": 0,
        "questions": 1,
        "answered": 0,
        "answer_rate": 0.0,
    }
    district = docs[OrgNode.get(OrgNode.key == "gongshu").id]["disclosures"]
    compounds = OrgNode.select().where(OrgNode.kind == "compound").count()
    assert district["compounds_due"] == compounds and district["on_time"] == 1
    assert docs[OrgNode.get(OrgNode.key == "changzhengqiaolu").id]["disclosures"]["on_time"] == 0


def test_the_committee_is_told_and_the_drafter_hears_why(app, actor_of):
    from engine.store.models import Notification

    st = drafted(actor_of)
    d.submit(actor_of("lvzhouhuayuan-wy"), st, now=NOW)
    ywh = actor_of("lvzhouhuayuan-ywh")
    told = Notification.get(Notification.user == ywh.user)
    assert "2026" in told.message and told.item_id is None
    d.give_back(ywh, st, "停车收入漏报", now=NOW)
    back = Notification.get(Notification.user == actor_of("lvzhouhuayuan-wy").user)
    assert "停车收入漏报" in back.message

"""Statements of accounts over HTTP: draft, return, publish, correct; residents read and ask."""

from __future__ import annotations

import re

import pytest

from engine.store.models import Event, Item
from engine.store.resident_tables import Statement
from tests.conftest import NOW

ENGLISH = re.compile(r"\b[A-Za-z]{3,}\b")


def visible_text(html: str) -> str:
    """The text a reader sees: no tags, scripts, styles or attribute values."""
    body = html.split("<main", 1)[1].split(">", 1)[1]
    body = re.sub(r"<(script|style|svg)\b.*?</\1>", "", body, flags=re.DOTALL)
    return re.sub(r"<[^>]+>", " ", body)


def line(client, st_id, **fields):
    return client.post(f"/work/accounts/{st_id}/lines", data=fields)


@pytest.fixture
def published(client, auth):
    """A Q3 statement drafted by the property company, returned once, then published."""
    auth.login("lvzhouhuayuan-wy")
    response = client.post(
        "/work/accounts/new",
        data={"definition": "operating-accounts", "node": "lvzhouhuayuan", "period": "2026-Q3"},
    )
    assert response.status_code == 303
    st = Statement.get()
    assert (
        line(
            client, st.id, section="income", category="广告", label="电梯广告", amount="12000.50"
        ).status_code
        == 303
    )
    assert (
        line(
            client, st.id, section="expense", category="税费", label="增值税", amount="360"
        ).status_code
        == 303
    )
    assert client.post(f"/work/accounts/{st.id}/submit").status_code == 303
    auth.logout()
    auth.login("lvzhouhuayuan-ywh")
    page = client.get(f"/work/accounts/{st.id}").get_data(as_text=True)
    assert "退回" in page and "确认并公示" in page
    assert (
        client.post(f"/work/accounts/{st.id}/return", data={"reason": "停车收入漏报"}).status_code
        == 303
    )
    auth.logout()
    auth.login("lvzhouhuayuan-wy")
    page = client.get(f"/work/accounts/{st.id}").get_data(as_text=True)
    assert "停车收入漏报" in page
    line(client, st.id, section="income", category="停车", label="临时停车", amount="800")
    client.post(f"/work/accounts/{st.id}/submit")
    auth.logout()
    auth.login("lvzhouhuayuan-ywh")
    assert client.post(f"/work/accounts/{st.id}/confirm").status_code == 303
    auth.logout()
    return Statement.get_by_id(st.id)


def test_a_bad_line_is_refused_naming_the_field_and_keeping_what_was_typed(client, auth):
    auth.login("lvzhouhuayuan-wy")
    client.post(
        "/work/accounts/new",
        data={"definition": "operating-accounts", "node": "lvzhouhuayuan", "period": "2026-Q3"},
    )
    st = Statement.get()
    response = line(
        client, st.id, section="income", category="广告", label="电梯广告", amount="12.345"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "金额" in page and "两位小数" in page and 'value="电梯广告"' in page
    assert Statement.get_by_id(st.id).lines == []


def test_residents_read_the_statement_with_totals_and_chart(
    client, auth, published, assert_max_queries
):
    auth.login("lvzhou-yezhu1")
    home = client.get("/r/").get_data(as_text=True)
    assert "/r/accounts" in home
    listing = client.get("/r/accounts").get_data(as_text=True)
    assert f"/r/accounts/{published.id}" in listing and "2026年第3季度" in listing
    with assert_max_queries(12):
        response = client.get(f"/r/accounts/{published.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "¥12,000.50" in page and "¥12,440.50" in page  # a line; the operating balance
    assert "<svg" in page and "money-bars" in page
    text = visible_text(page)
    assert not ENGLISH.findall(text.replace("¥", "")), ENGLISH.findall(text)
    assert "T0" not in text and "Q3" not in text


def test_a_question_on_a_line_is_an_item_routed_to_the_property_company(client, auth, published):
    auth.login("lvzhou-yezhu1")
    form = client.get(f"/r/accounts/{published.id}/ask/L1")
    assert form.status_code == 200 and "电梯广告" in form.get_data(as_text=True)
    refused = client.post(f"/r/accounts/{published.id}/ask/L1", data={"question": "?"})
    assert refused.status_code == 422
    response = client.post(
        f"/r/accounts/{published.id}/ask/L1", data={"question": "广告收入是哪几个月的?"}
    )
    assert response.status_code == 303
    item = Item.get()
    assert response.headers["Location"].endswith(f"/r/items/{item.id}")
    assert item.definition.key == "disclosure-question"
    auth.logout()
    auth.login("lvzhouhuayuan-wy")
    inbox = client.get("/work/").get_data(as_text=True)
    assert f"/work/items/{item.id}" in inbox
    answered = client.post(
        f"/work/items/{item.id}/t/answer", data={"answer": "七到九月的租金", "version": item.lock}
    )
    assert answered.status_code in (303, 204)
    assert Item.get_by_id(item.id).state == "answered"


def test_published_is_immutable_and_a_correction_shows_what_changed(client, auth, published):
    auth.login("lvzhouhuayuan-wy")
    refused = line(client, published.id, section="income", category="广告", label="x", amount="1")
    assert refused.status_code == 303  # back to the page, saying why
    assert Statement.get_by_id(published.id).lines == published.lines
    response = client.post(
        f"/work/accounts/{published.id}/correct", data={"reason": "增值税金额有误"}
    )
    v2 = Statement.get(Statement.number == 2)
    assert response.headers["Location"].endswith(f"/work/accounts/{v2.id}")
    client.post(
        f"/work/accounts/{v2.id}/lines/L2",
        data={"section": "expense", "category": "税费", "label": "增值税", "amount": "380"},
    )
    client.post(f"/work/accounts/{v2.id}/submit")
    auth.logout()
    auth.login("lvzhouhuayuan-ywh")
    client.post(f"/work/accounts/{v2.id}/confirm")
    auth.logout()
    auth.login("lvzhou-yezhu1")
    page = client.get(f"/r/accounts/{v2.id}").get_data(as_text=True)
    assert "增值税金额有误" in page and "¥360.00 → ¥380.00" in page
    assert f"/r/accounts/{published.id}" not in client.get("/r/accounts").get_data(as_text=True)
    old = client.get(f"/r/accounts/{published.id}").get_data(as_text=True)
    assert "已被更正" in old and "/ask/" not in old
    audited = {e.action for e in Event.select().where(Event.target == f"statement:{v2.id}")}
    assert {"statement.correct", "statement.line.update", "statement.publish"} <= audited


@pytest.mark.parametrize(
    "username", ["changzheng-yezhu1", "changzhengqiaolu-wy", "dept-zhifa-user"]
)
def test_nobody_outside_the_compound_reads_its_statement(client, auth, published, username):
    auth.login(username)
    for path in (
        f"/r/accounts/{published.id}",
        f"/work/accounts/{published.id}",
        f"/r/accounts/{published.id}/ask/L1",
    ):
        assert client.get(path).status_code in (403, 404), path
    if username == "changzheng-yezhu1":
        assert f"/r/accounts/{published.id}" not in client.get("/r/accounts").get_data(as_text=True)


def test_a_draft_is_not_for_residents(client, auth):
    auth.login("lvzhouhuayuan-wy")
    client.post(
        "/work/accounts/new",
        data={"definition": "operating-accounts", "node": "lvzhouhuayuan", "period": "2026-Q3"},
    )
    st = Statement.get()
    auth.logout()
    auth.login("lvzhou-yezhu1")
    assert client.get(f"/r/accounts/{st.id}").status_code == 404
    assert NOW  # the seeded clock the statements' periods are read against


def test_the_staff_pages_read_a_fixed_number_of_queries(
    client, auth, published, assert_max_queries
):
    auth.login("lvzhouhuayuan-wy")
    client.post(f"/work/accounts/{published.id}/correct", data={"reason": "增值税金额有误"})
    with assert_max_queries(16):
        page = client.get("/work/accounts").get_data(as_text=True)
    assert "2026年第3季度 经营性收支公示（第2版）" in page and "已公示" in page
    v2 = Statement.get(Statement.number == 2)
    with assert_max_queries(16):
        page = client.get(f"/work/accounts/{v2.id}").get_data(as_text=True)
    assert "添加一项" in page and "提交业委会（物管委）确认" in page


def test_vouchers_attached_to_a_statement_are_read_by_its_residents_only(client, auth):
    import io

    auth.login("lvzhouhuayuan-wy")
    client.post(
        "/work/accounts/new",
        data={"definition": "operating-accounts", "node": "lvzhouhuayuan", "period": "2026-Q3"},
    )
    st = Statement.get()
    line(client, st.id, section="income", category="广告", label="电梯广告", amount="100")
    pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
    response = client.post(
        f"/work/accounts/{st.id}/data",
        data={"note": "广告合同见附件", "vouchers": (io.BytesIO(pdf), "合同.pdf"), "_submit": "1"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.get_data(as_text=True)[-1500:]
    st = Statement.get_by_id(st.id)
    (voucher,) = st.data["vouchers"]
    client.post(f"/work/accounts/{st.id}/submit")
    auth.logout()
    auth.login("lvzhouhuayuan-ywh")
    client.post(f"/work/accounts/{st.id}/confirm")
    auth.logout()
    auth.login("lvzhou-yezhu1")
    page = client.get(f"/r/accounts/{st.id}").get_data(as_text=True)
    assert "广告合同见附件" in page and f"/files/{voucher}" in page
    assert client.get(f"/files/{voucher}").status_code == 200
    auth.logout()
    auth.login("changzheng-yezhu1")
    assert client.get(f"/files/{voucher}").status_code == 404

"""A rule that fails while an item moves is kept as a message id and its parameters, and
put in the reader's words: the refusal the commissioner sees and the admin's list of rule
failures say what went wrong in Chinese, with the type's name, never its key or English."""

from __future__ import annotations

import copy
import datetime as dt
import re

from engine.authoring.publishing import publish
from engine.definitions.definitions import current_version
from engine.store.models import Item, Pack, RuleFailure
from engine.workflow import items

NOW = dt.datetime(2026, 11, 27, 1, 0)


def test_a_failing_guard_is_refused_and_listed_in_words(app, client, auth, actor_of):
    body = copy.deepcopy(current_version("bell").body)
    accept = next(t for t in body["workflow"]["transitions"] if t["key"] == "accept")
    # Arithmetic on the answers object: fails for every item.
    accept["guard"] = {">": [{"+": [{"var": "data"}, 1]}, 0]}
    publish(Pack.get(), body, now=NOW, by=None)
    raised = items.raise_item(
        actor_of("lvzhou-yezhu1"),
        "bell",
        "lvzhouhuayuan",
        {"category": "治安", "summary": "夜间巡逻不到位"},
        now=NOW,
    )

    auth.login("xifang")
    refused = client.post(
        f"/work/items/{raised.id}/t/accept",
        data={"version": Item.get_by_id(raised.id).lock, "_submit": "1"},
    )
    text = refused.get_data(as_text=True)
    assert "无法判断这一步的条件（对象 不是数字）" in text, text[:3000]
    assert "bell" not in re.sub(r"<[^>]+>", "", text).replace("bell-", "")
    assert "is not a number" not in text and "/workflow/" not in text
    assert Item.get_by_id(raised.id).state == raised.state

    failure = RuleFailure.get(RuleFailure.item == raised.id)
    assert failure.message == "%(value)s is not a number"
    assert failure.params == {"value": ["object", ""]}
    assert failure.where == "/workflow/transitions/0/guard/>/0/+/0"
    auth.logout()

    auth.login("admin")
    page = client.get("/admin/").get_data(as_text=True)
    row = re.search(
        r"<tr><td>[^<]*</td><td>[^<]*</td><td><code[^>]*>/workflow[^<]*</code></td>"
        r"<td>([^<]*)</td>",
        page,
    )
    assert row and row.group(1) == "对象 不是数字", page[page.find("规则执行错误") :][:1500]
    name = body["name"]
    assert f"<td>{name} 第 2 版</td>" in page or f"<td>{name} 第2版</td>" in page, page[
        page.find("规则执行错误") :
    ][:1500]
    english = client.get("/admin/?lang=en").get_data(as_text=True)
    assert "an object is not a number" in english


def test_rule_failures_kept_before_as_text_still_show(app, client, auth):
    RuleFailure.create(
        at=NOW, definition="bell", version=1, where="/x", message="old text", item=None
    )
    auth.login("admin")
    assert "<td>old text</td>" in client.get("/admin/").get_data(as_text=True)

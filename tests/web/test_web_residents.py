"""The residents' pages (/r): plain Chinese on every page of the demo, the contact card
(叫得应) for the compound's own residents only, confirmation before 撤销, larger text."""

from __future__ import annotations

import re
from typing import Any

import pytest

from engine.store.models import Definition, DefinitionVersion, Grant, Item, OrgNode, User
from tests.conftest import NOW, SEED
from tests.web.residents_walk import problems, resident_links, words

# A demo district, generated once per session (tests/conftest.py, ``demo_templates``).
DEMO = {"compounds": 40, "items": 200, "seed": 1}


@pytest.fixture
def demo(app: Any) -> None:
    """What ``make run`` loads: the demo (``DEMO``) and its votes (an open and a closed
    one; their ballot photos are files of this test's own)."""
    from engine.authoring.packs import read_pack
    from engine.decisions.polls_demo import generate_votes

    store = app.extensions["sanfang.attachments"]
    generate_votes(read_pack(SEED).demo["polls"], store=store, seed=1, now=NOW)


def _pack_keys() -> set[str]:
    """Every key a definition names: types, states, transitions, fields, routing rules."""
    keys: set[str] = set()
    for version in DefinitionVersion.select():
        body = version.body
        keys.add(body["key"])
        keys |= set(body.get("schema", {}).get("properties", {}))
        workflow = body.get("workflow") or {}
        keys |= set(workflow.get("states", {}))
        keys |= {t["key"] for t in workflow.get("transitions", [])}
        for name, table in (body.get("routing") or {}).items():
            keys |= {name, *(r.get("key", "") for r in table.get("rules", []))}
    return keys - {""}


def _residents() -> list[str]:
    return sorted(
        u.username for u in User.select().join(Grant).where(Grant.role == "resident").distinct()
    )


def test_every_resident_page_of_the_demo_speaks_plain_chinese(app, client, auth, demo):
    """Walk every /r page each demo resident can reach (home, contacts, every item, every
    form and every step offered): no key, rule name, ISO time, JSON, version or English."""
    keys = _pack_keys()
    assert {"repair", "accept", "collected"} <= keys
    found: dict[str, list[str]] = {}
    walked = 0
    for username in _residents():
        auth.login(username)
        todo, seen = ["/r/"], set()
        while todo:
            path = todo.pop()
            if path in seen:
                continue
            seen.add(path)
            response = client.get(path)
            assert response.status_code == 200, (username, path, response.status_code)
            html = response.get_data(as_text=True)
            bad = problems(words(html), keys)
            if bad:
                found[f"{username} {path}"] = bad
            todo += sorted(resident_links(html) - seen)
        walked += len(seen)
        auth.logout()
    assert walked >= 20  # every resident has items in the demo, each with its page
    assert found == {}


def test_a_page_with_engine_words_is_caught():
    """The walk's own check catches what the issue found on resident pages."""
    keys = {"three-parties", "priority"}
    for shown in (
        "分派 parties (v1): 命中规则 three-parties",
        "设置 priority = 2",
        "2026-11-20T08:00:00+08:00",
        "att_JwEp6S60x0I4Sp2M",
        '{"a": 1}',
    ):
        assert problems(words(f"<body><p>{shown}</p></body>"), keys), shown
    assert not problems(
        words('<body><a lang="en" href="?lang=en">English</a>今天 14:30</body>'), keys
    )


def test_routing_shows_who_was_told_and_staff_steps_only_as_outcome(client, auth, actor_of):
    auth.login("lvzhou-yezhu1")
    response = client.post(
        "/r/new/bell", data={"category": "停车秩序", "summary": "东门消防通道被占用"}
    )
    item_id = int(re.search(r"/r/items/(\d+)", response.headers["Location"]).group(1))
    auth.logout()
    auth.login("xifang")
    assert client.post(f"/work/items/{item_id}/t/accept", data={"version": "1"}).status_code == 303
    auth.logout()
    auth.login("ducha")
    urged = client.post(f"/review/items/{item_id}/urge", data={"message": "督办内部意见甲乙丙"})
    assert urged.status_code in (200, 303)
    auth.logout()
    auth.login("lvzhou-yezhu1")
    page = client.get(f"/r/items/{item_id}").get_data(as_text=True)
    assert "已通知：小区党组织、业委会(物管委)、物业服务企业" in page
    assert "督办内部意见甲乙丙" not in page and "督办" not in words(page)
    assert "three-parties" not in page and "命中规则" not in page
    assert "处理中" in page  # the state in the definition's words for residents
    # A supervisor's re-route (改派) shows only as who was told, not its reason.
    from engine.core import clock
    from engine.supervision import actions as supervision

    supervision.reroute(
        actor_of("ducha"), item_id, ["dept-zjj"], "内部改派理由丁戊", now=clock.now()
    )
    page = client.get(f"/r/items/{item_id}").get_data(as_text=True)
    assert "已通知：区住建局" in page and "内部改派理由丁戊" not in page
    assert "应在" in page and "前答复" in page  # who is on it and by when
    assert problems(words(page), _pack_keys()) == []


def test_cancel_asks_for_confirmation_first(client, auth):
    auth.login("lvzhou-yezhu1")
    response = client.post(
        "/r/new/repair", data={"category": "水电", "location": "3幢", "description": "楼道灯坏了"}
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:1500]
    item_id = int(re.search(r"/r/items/(\d+)", response.headers["Location"]).group(1))
    page = client.get(f"/r/items/{item_id}").get_data(as_text=True)
    # 撤销 is a link to a question, not a button that acts at once.
    assert f'href="/r/items/{item_id}/t/cancel"' in page
    assert not re.search(rf'<form[^>]+action="/r/items/{item_id}/t/cancel"', page)
    question = client.get(f"/r/items/{item_id}/t/cancel").get_data(as_text=True)
    assert (
        "确定要撤销这条报修吗" in question and "确定撤销" in question and "不了，返回" in question
    )
    assert Item.get_by_id(item_id).state == "submitted"
    done = client.post(f"/r/items/{item_id}/t/cancel", data={"version": "1", "_submit": "1"})
    assert done.status_code == 303 and Item.get_by_id(item_id).state == "cancelled"
    assert "已撤销" in client.get(f"/r/items/{item_id}").get_data(as_text=True)


def test_larger_text_persists_across_log_out(client, auth):
    auth.login("lvzhou-yezhu1")
    assert "large-text" not in client.get("/r/").get_data(as_text=True)
    assert client.post("/r/text-size", data={"size": "large"}).status_code == 303
    assert 'class="mobile resident large-text"' in client.get("/r/").get_data(as_text=True)
    auth.logout()
    auth.login("lvzhou-yezhu1")
    assert "large-text" in client.get("/r/contacts").get_data(as_text=True)
    assert client.post("/r/text-size", data={"size": "huge"}).status_code == 422
    client.post("/r/text-size", data={"size": "normal"})
    assert "large-text" not in client.get("/r/").get_data(as_text=True)


# -- the people to call (叫得应) ---------------------------------------------------------


def _phones(node_key: str) -> set[str]:
    profile = OrgNode.get(OrgNode.key == node_key).profile
    found = set(re.findall(r"1[3-9]\d{9}|0571-\d{8}", str(profile)))
    assert len(found) >= 5
    return found


def test_contact_card_with_tap_to_call_links(client, auth, assert_max_queries):
    auth.login("lvzhou-yezhu1")
    client.get("/r/contacts")
    with assert_max_queries(8, "/r/contacts"):
        page = client.get("/r/contacts").get_data(as_text=True)
    for label in (
        "小区专员",
        "小区党组织",
        "业委会(物管委)",
        "物业服务企业",
        "固定服务点",
        "楼栋长",
    ):
        assert f"<h2>{label}</h2>" in page
    assert "席芳" in page and "绿洲花园6幢一楼" in page and "开放时间" in page
    for phone in _phones("lvzhouhuayuan"):
        assert f'href="tel:{phone.replace("-", "")}"' in page
    assert problems(words(page), _pack_keys()) == []


def test_a_resident_never_sees_another_compounds_contacts(client, auth, actor_of):
    from engine.core.errors import Forbidden
    from engine.residents import contacts

    theirs = _phones("changzhengqiaolu")
    auth.login("lvzhou-yezhu1")
    for path in (
        "/r/contacts",
        "/r/contacts?node=changzhengqiaolu",
        "/r/",
        "/r/?node=changzhengqiaolu",
    ):
        page = client.get(path).get_data(as_text=True)
        assert not any(p in page for p in theirs), path
        assert "张桢" not in page  # the other compound's commissioner
    with pytest.raises(Forbidden):
        contacts.card(actor_of("lvzhou-yezhu1"), OrgNode.get(OrgNode.key == "changzhengqiaolu"))
    auth.logout()
    # Staff, even of the compound, are not its residents: the card is the residents' page.
    auth.login("xifang")
    assert client.get("/r/contacts").status_code == 403


def test_a_resident_of_a_building_sees_the_card_of_its_compound(client, auth):
    user = User.create(
        username="b1-yezhu",
        name="楼栋居民",
        password_hash=User.get(User.username == "lvzhou-yezhu1").password_hash,
    )
    Grant.create(user=user, role="resident", node=OrgNode.get(OrgNode.key == "changzhengqiaolu-b1"))
    auth.login("b1-yezhu")
    page = client.get("/r/contacts").get_data(as_text=True)
    assert "长征桥路小区" in page and "张桢" in page


def test_the_card_is_the_definitions_data(app, actor_of):
    """Which fields form the card is the profile's contact_card: change it, the card changes."""
    from engine.definitions.checks import definition_problems
    from engine.residents.contacts import card, card_of

    version = (
        DefinitionVersion.select()
        .join(Definition)
        .where(Definition.key == "compound-profile")
        .get()
    )
    body = version.body
    assert definition_problems(body, roles=(), units=()) == []
    node = OrgNode.get(OrgNode.key == "lvzhouhuayuan")
    only = {
        "entries": [{"label": "物业值班", "name": "property_company", "phone": "property_phone"}]
    }
    groups = card_of(node.profile, only)
    assert [g.label for g in groups] == ["物业值班"] and groups[0].lines[0].dial.startswith("0571")
    assert [g.label for g in card(actor_of("lvzhou-yezhu1"), node)][:2] == [
        "小区专员",
        "小区党组织",
    ]
    broken = {
        **body,
        "contact_card": {
            "entries": [
                {"label": "x", "phone": "households"},
                {"label": "y", "list": "address", "name": "name"},
                {"label": "z", "person": "nobody"},
            ]
        },
    }
    said = {(p.path, p.message) for p in definition_problems(broken, roles=(), units=())}
    assert said == {
        ("/contact_card/entries/0/phone", "'户数' is no phone-number field"),
        ("/contact_card/entries/1/list", "'地址' is no list field of the file"),
        ("/contact_card/entries/2/person", "The form has no field with the key 'nobody'"),
    }


def test_every_demo_compound_has_its_card_filled(app, demo, actor_of):
    from engine.residents.contacts import (
        card_of,
        compound_of,  # noqa: F401  (the card's own lookup)
    )

    spec = (
        DefinitionVersion.select()
        .join(Definition)
        .where(Definition.key == "compound-profile")
        .get()
        .body["contact_card"]
    )
    compounds = list(OrgNode.select().where(OrgNode.kind == "compound"))
    assert len(compounds) == 40
    for node in compounds:
        groups = card_of(node.profile, spec)
        assert {g.label for g in groups} >= {
            "小区专员",
            "小区党组织",
            "物业服务企业",
            "固定服务点",
            "楼栋长",
        }, node.key
        assert all(
            line.dial for g in groups for line in g.lines if g.label != "小区党组织" or line.phone
        )


def test_the_designer_edits_resident_words_and_the_confirmation(client, auth):
    """What a resident reads of each state and a transition's question are edited in the
    designer's workflow editor; saving unchanged keeps them."""
    from engine.authoring import designer
    from tests.web.test_web_designer import form_values

    auth.login("admin")
    cancel = next(
        i
        for i, t in enumerate(
            designer.draft_of(Definition.get(Definition.key == "repair"))["workflow"]["transitions"]
        )
        if t["key"] == "cancel"
    )
    state = "/admin/designer/repair/workflow/state/done"
    transition = f"/admin/designer/repair/workflow/transition/{cancel}"
    values = form_values(client.get(state).get_data(as_text=True))
    assert values["state-0-resident_label"] == "待您评价"
    values["state-0-resident_label"] = "请您评价"
    assert client.post(state, data=values).status_code == 303
    values = form_values(client.get(transition).get_data(as_text=True))
    assert values[f"tr-{cancel}-confirm"].startswith("确定要撤销")
    values[f"tr-{cancel}-confirm"] = ""
    assert client.post(transition, data=values).status_code == 303
    body = designer.draft_of(Definition.get(Definition.key == "repair"))
    assert body["workflow"]["states"]["done"]["resident_label"] == "请您评价"
    assert "confirm" not in body["workflow"]["transitions"][cancel]
    for panel in (state, transition):
        page = client.get(panel).get_data(as_text=True)
        assert client.post(panel, data=form_values(page)).status_code == 303
    assert designer.draft_of(Definition.get(Definition.key == "repair")) == body


def test_times_and_durations_as_people_write_them(app):
    import datetime as dt

    from pages.plainwords import duration, people_date, people_time

    now = dt.datetime(2026, 12, 3, 2, 0)  # 10:00 in Shanghai
    with app.test_request_context("/?lang=zh_CN"):
        assert people_time(dt.datetime(2026, 12, 3, 6, 30), now) == "今天 14:30"
        assert people_time(dt.datetime(2026, 12, 2, 16, 1), now) == "今天 00:01"  # Shanghai's day
        assert people_time(dt.datetime(2026, 12, 2, 1, 15), now) == "昨天 09:15"
        assert people_time(dt.datetime(2026, 12, 4, 9, 0), now) == "明天 17:00"
        assert people_time(dt.datetime(2026, 11, 3, 1, 15), now) == "11月3日 09:15"
        assert people_time(dt.datetime(2025, 12, 3, 1, 15), now) == "2025年12月3日 09:15"
        assert people_time("2026-11-20T08:00:00+08:00", now) == "11月20日 08:00"
        assert people_time(None) == "" and people_time("not a time") == ""
        assert people_date("2026-12-03") == "2026年12月3日"
        assert duration(27 * 3600 + 59) == "1天3小时"
        assert duration(2 * 86400) == "2天"
        assert duration(2 * 3600 + 5 * 60) == "2小时5分钟"
        assert duration(3 * 3600) == "3小时"
        assert duration(45 * 60 + 10) == "45分钟"
        assert duration(20) == "不到1分钟" and duration(None) == ""
    with app.test_request_context("/?lang=en"):
        assert people_time(dt.datetime(2026, 12, 3, 6, 30), now) == "today 14:30"
        assert duration(27 * 3600) == "1 days 3 hours"


def test_a_type_raised_from_another_page_is_not_offered_on_the_home(client, auth):
    """公示提问 is asked on a statement's line (``listed: false``): the resident's home offers
    the other types, not it; listing it again offers it."""
    import copy

    from engine.authoring.publishing import publish
    from engine.definitions.definitions import current_version
    from engine.store.models import Pack

    auth.login("lvzhou-yezhu1")
    page = client.get("/r/").get_data(as_text=True)
    assert "/r/new/bell" in page and "/r/new/disclosure-question" not in page
    body = copy.deepcopy(dict(current_version("disclosure-question").body))
    body["listed"] = True
    publish(Pack.select().first(), body, now=NOW, by=None)
    assert "/r/new/disclosure-question" in client.get("/r/").get_data(as_text=True)


def test_every_paper_ballot_photo_of_the_demo_opens_for_who_sees_the_ballots(
    app, client, auth, demo
):
    """Each demo paper ballot has its own photo, claimed by the ballot: the committee and
    everyone else who sees who voted what open every photo linked on the vote's page (one
    shared, unclaimed upload opened only for its uploader)."""
    from engine.store.polls import Poll

    opened = 0
    for username in ("lvzhouhuayuan-ywh", "lvzhouhuayuan-dzz", "xifang"):
        auth.login(username)
        for poll in Poll.select():
            page = client.get(f"/polls/{poll.id}").get_data(as_text=True)
            for public_id in set(re.findall(r'href="/files/(att_[\w-]+)"', page)):
                assert client.get(f"/files/{public_id}").status_code == 200, (username, poll.id)
                opened += 1
        auth.logout()
    assert opened > 10


def test_people_times_word_each_time_as_people_time_does(app):
    import datetime as dt

    from pages.plainwords import people_time, people_times

    now = dt.datetime(2026, 12, 3, 6, 0)
    values = [
        now,
        now - dt.timedelta(days=1),
        now + dt.timedelta(days=1),
        dt.datetime(2026, 3, 1, 1, 0),
        dt.datetime(2024, 3, 1, 1, 0),
        "2026-12-03T09:15",
        "not a time",
        None,
    ]
    with app.test_request_context():
        assert people_times(values, now) == [people_time(v, now) for v in values]


@pytest.mark.parametrize("hour", [2, 9, 18])  # the local hour ``make run`` is run at
def test_the_demo_votes_open_and_close_in_the_morning(app, hour):
    """The demo's votes open at nine in the morning, local time, and close at that hour a
    window later (the closed one was closed at nine too), whenever the demo is made: they
    closed at 02:51 when it was made then."""
    import datetime as dt

    from engine.authoring.packs import read_pack
    from engine.core import clock
    from engine.decisions.polls_demo import generate_votes
    from engine.store.polls import Poll

    now = clock.at_local_hour(NOW, hour, 51)
    store = app.extensions["sanfang.attachments"]
    generate_votes(read_pack(SEED).demo["polls"], store=store, seed=1, now=now)
    polls = list(Poll.select())
    assert len(polls) >= 2
    for poll in polls:
        opens, closes = clock.local(poll.opens_at), clock.local(poll.closes_at)
        assert (opens.hour, opens.minute) == (9, 0) and poll.opens_at <= now
        assert (closes.hour, closes.minute) == (9, 0) and closes - opens >= dt.timedelta(days=1)
        if poll.closed_at is not None:
            closed = clock.local(poll.closed_at)
            assert (closed.hour, closed.minute) == (9, 0) and poll.closed_at <= now
    assert any(poll.closed_at is not None for poll in polls)


def test_the_home_says_when_each_of_my_items_was_sent(client, auth, actor_of):
    """The home's list: each item with when it was sent as people write it (worked out in
    the view, the reader's day once), newest of the resident's first."""
    import datetime as dt

    from engine.core import clock
    from engine.workflow import items
    from pages.plainwords import people_time

    now = clock.now()
    raised = [
        items.raise_item(
            actor_of("lvzhou-yezhu1"),
            "bell",
            "lvzhouhuayuan",
            {"category": "停车秩序", "summary": f"第{n}件：消防通道被占"},
            now=now - dt.timedelta(days=n),
        )
        for n in (0, 1, 40)
    ]
    auth.login("lvzhou-yezhu1")
    page = client.get("/r/").get_data(as_text=True)
    for item in raised:
        line = page[page.index(f"/r/items/{item.id}") :].split("</li>")[0]
        with client.application.test_request_context():
            sent = people_time(item.raised_at, now)
        assert item.title in line and f'<small class="muted">{sent}</small>' in line, line
    assert "今天" in page and "昨天" in page

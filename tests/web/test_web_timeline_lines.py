"""Each kind of audit event as the item's timeline says it (``pages.timeline``): the words
are worked out in Python, one branch per action, in place of the template's branches."""

from __future__ import annotations

import datetime as dt

from engine.definitions.runtimes import runtime
from engine.workflow.items import TimelineEvent
from pages.timeline import timeline_lines
from tests.review_data import make_item

AT = dt.datetime(2026, 9, 14, 8, 30)  # UTC: 16:30 in Shanghai


def _event(action: str, *, before=None, after=None, detail=None, actor=(7, "程霞")):
    return TimelineEvent(AT, action, actor[0], actor[1], before or {}, after or {}, detail or {})


def test_every_kind_of_event_reads_in_words(app):
    item = make_item("lvzhouhuayuan")
    rt = runtime(item.version_id)
    handling = rt.state_label("handling")
    title = rt.body["schema"]["properties"]["category"]["title"]
    roles = {"property": "物业服务企业"}
    events = [
        _event("item.raise", after={"state": "handling"}, actor=(None, None)),
        _event("summons.report_in"),
        _event("summons.decline", after={"reply": "不属于本部门"}),
        _event("summons.urge", after={"name": "区城管局", "message": "请尽快到场"}),
        _event("item.urge", after={"message": "环节超时"}),
        _event(
            "item.reroute",
            after={
                "summoned": [
                    {"name": "区城管局", "role": "department"},
                    {"name": "绿洲花园", "role": "property"},
                ],
                "withdrawn": [1, 2],
                "reason": "分错了",
            },
        ),
        _event("item.reroute", after={"summoned": [], "reason": "再议"}),
        _event("item.reassign", after={"name": "王芳", "reason": "休假"}),
        _event("item.migrate", before={"label": None}, after={"version": 3, "state": "handling"}),
        _event("item.reveal"),
        _event("item.origin", after={"kind": "opinion", "title": "加装电梯"}),
        _event(
            "item.set", after={"data.category": "停车秩序", "priority": 2, "data.gone": ["a", "b"]}
        ),
        _event(
            "escalation",
            detail={
                "label": "超时升级",
                "unit": "区城管局",
                "did": [{"code": "urge", "message": None}],
            },
        ),
        _event("something.new"),
    ]
    with app.test_request_context("/?lang=zh_CN"):
        lines = timeline_lines(events, rt, roles)
    said = [(line.urged, line.text, line.strong, line.tail) for line in lines]
    assert lines[0].at == "2026-09-14 16:30" and lines[0].who == "系统"
    assert lines[1].who == "程霞"
    assert said == [
        (None, f"发起了事项 ({handling})", None, ""),
        (None, "已报到", None, ""),
        (None, "已退回: 不属于本部门", None, ""),
        ("督办", "区城管局: 请尽快到场", None, ""),
        ("督办", "环节超时", None, ""),
        (
            None,
            "改派 → 区城管局、绿洲花园(物业服务企业) · 撤回 2 个未完成的召集 · 原因: 分错了",
            None,
            "",
        ),
        (None, "改派 → 无新增单位 · 原因: 再议", None, ""),
        (None, "将事项转交给 王芳 · 原因: 休假", None, ""),
        (None, f"按本类事项的第 3 版继续办理:已删除的环节 → {handling}", None, ""),
        (None, "查看了个人信息", None, ""),
        (None, "根据居民意见发起: 加装电梯", None, ""),
        (None, f"设置 {title}: 停车秩序、优先级: 2、字段: a、b", None, ""),
        (None, "超时督办", "超时升级", " (区城管局)"),
        (None, "更新了事项", None, ""),
    ]
    assert lines[12].did == ["标记督办"]
    with app.test_request_context("/?lang=en"):
        assert timeline_lines(events[:2], rt, roles)[1].text == "reported in"


def test_a_reply_on_the_timeline_is_escaped(app, client, auth, actor_of):
    from engine.store.models import Event

    item = make_item("lvzhouhuayuan")
    Event.create(
        item=item, action="summons.complete", at=AT, before={}, after={"reply": "<b>修好了</b>"}
    )
    auth.login("xifang")
    page = client.get(f"/work/items/{item.id}").get_data(as_text=True)
    assert "&lt;b&gt;修好了&lt;/b&gt;" in page and "<b>修好了" not in page


def test_the_timeline_html_escapes_and_shows_photos_and_the_reasons(app):
    from markupsafe import Markup

    from forms.specs import FieldSpec
    from pages import timeline
    from pages.timeline import Line

    photo = FieldSpec(name="photos", path="photos", pointer="/photos", kind="photo", label="照片")
    why = {
        "outcomes_html": Markup("<li>✔ 规则</li>"),
        "inputs": {"a": 1},
        "inputs_line": "类别 = <停车>",
    }
    lines = [
        Line("2026-09-14 16:30", "<王>", "办结: <b>", urged="督办"),
        Line("t", "s", "超时督办", strong="<升级>", tail=" (区城管局)", did=["标记<督办>"]),
        Line(
            "t",
            "s",
            "评价",
            answers=[("意见", "<好>", None, "<好>"), ("照片", None, photo, ["p1"])],
        ),
        Line("t", "s", "分派", why=why),
    ]
    with app.test_request_context("/?lang=zh_CN"):
        html = "".join(timeline._line_html(line) for line in lines)
    first, escalation, answers, routing = html.split("</li>\n")[:4]
    assert first == (
        "<li><time>2026-09-14 16:30</time> <strong>&lt;王&gt;</strong> "
        '<span class="urged">督办</span> 办结: &lt;b&gt;'
    )
    assert "超时督办 <strong>&lt;升级&gt;</strong> (区城管局)" in escalation
    assert '<ul class="small"><li>标记&lt;督办&gt;</li></ul>' in escalation
    assert "<dt>意见</dt><dd>&lt;好&gt;</dd>" in answers
    assert '<img src="/files/p1"' in answers or 'href="/files/p1"' in answers, answers
    assert "<summary>依据</summary>" in routing and "<li>✔ 规则</li>" in routing
    assert "读取的答案: 类别 = &lt;停车&gt;" in routing


def test_the_summoned_units_show_role_lateness_and_reply_escaped(app, client, auth):
    from tests.review_data import NOW, summons

    item = make_item("lvzhouhuayuan")
    late = summons(item, "dept-zhifa", NOW)  # its report deadline long past, still open
    late.reply = "<i>在路上</i>"
    late.save()
    done = summons(item, "lvzhouhuayuan", NOW, reported=1, done=2)  # the compound's
    done.role = "property"
    done.save()
    auth.login("xifang")
    page = client.get(f"/work/items/{item.id}").get_data(as_text=True)
    section = page.split('id="assignments"', 1)[1].split("</section>", 1)[0]
    first, second = section.split('<li class="assignment')[1:3]
    assert first.startswith(' state-summoned overdue">') and "区综合行政执法局</strong>" in first
    assert '<span class="overdue-flag">已逾期</span>' in first
    assert '<p class="reply">&lt;i&gt;在路上&lt;/i&gt;</p>' in first
    assert second.startswith(' state-done">') and "绿洲花园 · " in second
    assert "overdue" not in second and 'class="pill pill-done"' in second

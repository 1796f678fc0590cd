"""The designer without JSON (issue 13): every new builder round-trips through its form.

Keys derived from Chinese names, conditions on the rule document's context (summonses,
item, actor, place, file), values checked against options, presets with a custom message,
natural or working hours per deadline, resolved states, the title, notification texts,
raise-time ``set`` effects, the calendar, state renaming with open items migrated, and the
readable diff.
"""

from __future__ import annotations

import datetime as dt

import pytest
from werkzeug.datastructures import MultiDict

from engine.authoring import designer, keys
from engine.core import clock
from engine.core.calendar import Calendar
from engine.store.models import Definition, Event, Item, Pack, User
from tests.web.test_web_designer import form_values


@pytest.fixture
def admin(client, auth):
    auth.login("admin")
    return client


def draft(key: str) -> dict:
    return dict(Definition.get(Definition.key == key).draft)


def new_type(admin, name: str = "飞线充电") -> str:
    response = admin.post(
        "/admin/designer/new",
        data={
            "kind": "item_type",
            "name": name,
            "raise_roles": "resident",
            "node_kinds": "compound",
        },
    )
    assert response.status_code == 303
    return Definition.select().order_by(Definition.id.desc()).first().key


def page_form(admin, path: str) -> MultiDict:
    return form_values(admin.get(path).get_data(as_text=True))


# -- keys ------------------------------------------------------------------------------


def test_keys_are_derived_from_chinese_names():
    assert keys.derive("消防大队") == "xiaofangdadui"
    assert keys.derive("消防大队", {"xiaofangdadui"}) == "xiaofangdadui_2"
    assert keys.derive("123") == "k_123" and keys.derive("!!") == "k"
    assert keys.DEFINITION.match(keys.derive("电动车 飞线充电(楼道)"))
    assert keys.FIELD.match(keys.derive("是否正在充电"))


def test_a_new_type_named_in_chinese_gets_a_key_and_a_typed_bad_key_is_refused_in_chinese(admin):
    key = new_type(admin, "飞线充电")
    assert key == "feixianchongdian" and draft(key)["name"] == "飞线充电"
    response = admin.post(
        "/admin/designer/new", data={"kind": "item_type", "name": "消防", "key": "消防"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "键名" in html and "小写字母" in html
    assert "does not match" not in html and Definition.get_or_none(Definition.key == "消防") is None


def test_fields_tables_rules_states_and_transitions_take_chinese_names(admin):
    key = new_type(admin)
    assert (
        admin.post(
            f"/admin/designer/{key}/form/add", data={"label": "充电位置", "kind": "text"}
        ).status_code
        == 303
    )
    assert "chongdianweizhi" in draft(key)["schema"]["properties"]
    form = page_form(admin, f"/admin/designer/{key}/routing")
    form["new-table"] = "按位置召集"
    assert admin.post(f"/admin/designer/{key}/routing", data=form).status_code == 303
    assert draft(key)["routing"] == {
        "anweizhizhaoji": {"label": "按位置召集", "hit_policy": "collect", "rules": []}
    }
    form = page_form(admin, f"/admin/designer/{key}/routing")
    form.setlist("t0-r0-label", ["楼道→消防大队"])
    form.setlist("t0-r0-summon", ["unit:dept-xfdd"])
    assert admin.post(f"/admin/designer/{key}/routing", data=form).status_code == 303
    rule = draft(key)["routing"]["anweizhizhaoji"]["rules"][0]
    assert rule["key"] == "loudaoxiaofangdadui" and rule["label"] == "楼道→消防大队"

    new_state = f"/admin/designer/{key}/workflow/state"
    for label in ("部门处置", "不属实"):  # several in a row: "save and add another"
        form = page_form(admin, new_state)
        form.setlist("state-0-label", [label])
        form.setlist("then", ["another"])
        response = admin.post(new_state, data=form)
        assert response.status_code == 303 and response.location.endswith(new_state)
    states = draft(key)["workflow"]["states"]
    assert states["bumenchuzhi"]["label"] == "部门处置" and states["bushushi"]["label"] == "不属实"


# -- conditions on the rule document's context ------------------------------------------


def test_a_guard_on_summons_status_round_trips_without_json(admin):
    i = next(
        n
        for n, t in enumerate(
            designer.draft_of(Definition.get(Definition.key == "bell"))["workflow"]["transitions"]
        )
        if t["key"] == "rate"
    )
    panel = f"/admin/designer/bell/workflow/transition/{i}"
    form = page_form(admin, panel)
    form.setlist(f"guard{i}-0-field", ["assignments.open"])
    form.setlist(f"guard{i}-0-op", ["=="])
    form.setlist(f"guard{i}-0-value", ["0"])
    response = admin.post(panel, data=form)
    assert response.status_code == 303 and response.location.endswith(panel)  # stays on it
    guard = draft("bell")["workflow"]["transitions"][i]["guard"]
    assert {"==": [{"var": "assignments.open"}, 0]} in (guard.get("and") or [guard])
    html = admin.get(panel).get_data(as_text=True)
    assert "被召集单位：未完成的数量" in html
    assert f'action="{panel}"' in html and f'hx-post="{panel}"' in html  # the panel posts to itself
    # Saved again unchanged: the same rule, written by the rows.
    before = draft("bell")
    assert admin.post(panel, data=form_values(html)).status_code == 303
    assert draft("bell") == before


@pytest.mark.parametrize(
    ("field", "op", "value", "rule"),
    [
        (
            "item.age_hours",
            ">",
            "24",
            {
                "and": [
                    {"!=": [{"var": "item.age_hours"}, None]},
                    {">": [{"var": "item.age_hours"}, 24]},
                ]
            },
        ),
        (
            "item.priority",
            ">=",
            "2",
            {
                "and": [
                    {"!=": [{"var": "item.priority"}, None]},
                    {">=": [{"var": "item.priority"}, 2]},
                ]
            },
        ),
        ("actor.roles", "contains", "小区专员", {"in": ["commissioner", {"var": "actor.roles"}]}),
        ("node.path", "contains", "朝晖街道", {"in": ["chaohui", {"var": "node.path"}]}),
        (
            "node.profile.households",
            ">",
            "1000",
            {
                "and": [
                    {"!=": [{"var": "node.profile.households"}, None]},
                    {">": [{"var": "node.profile.households"}, 1000]},
                ]
            },
        ),
    ],
)
def test_routing_conditions_read_the_item_the_raiser_the_place_and_the_file(
    admin, field, op, value, rule
):
    form = page_form(admin, "/admin/designer/repair/routing")
    form.setlist("t1-r0-when-0-field", [field])
    form.setlist("t1-r0-when-0-op", [op])
    form.setlist("t1-r0-when-0-value", [value])
    for name in [k for k in form if k.startswith("t1-r0-when-") and k.endswith("-replace")]:
        form.pop(name)
    form.setlist("t1-r0-when-replace", ["1"])
    response = admin.post("/admin/designer/repair/routing", data=form)
    table = list(draft("repair")["routing"])[1]
    if field.startswith("item."):  # nothing is summoned or aged when an item is raised
        assert response.status_code in (303, 422)
        return
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert draft("repair")["routing"][table]["rules"][0]["when"] == rule
    before = draft("repair")
    page = admin.get("/admin/designer/repair/routing").get_data(as_text=True)
    assert admin.post("/admin/designer/repair/routing", data=form_values(page)).status_code == 303
    assert draft("repair") == before


def test_a_condition_value_that_is_no_option_is_refused_naming_the_field(admin):
    form = page_form(admin, "/admin/designer/whistle/routing")
    before = draft("whistle") if Definition.get(Definition.key == "whistle").draft else None
    form.setlist("t0-r0-when-0-value", ["停车管理"])
    response = admin.post("/admin/designer/whistle/routing", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "吹哨事项类别" in html and "停车管理" in html
    assert (Definition.get(Definition.key == "whistle").draft or None) == before
    # A yes/no field takes 是 or 否, a number field a number.
    form = page_form(admin, "/admin/designer/repair/routing")
    form.setlist("t1-r0-when-0-field", ["urgent"])
    form.setlist("t1-r0-when-0-value", ["是"])
    assert admin.post("/admin/designer/repair/routing", data=form).status_code == 303
    assert list(draft("repair")["routing"].values())[1]["rules"][0]["when"] == {
        "==": [{"var": "data.urgent"}, True]
    }


# -- presets ------------------------------------------------------------------------------


def test_a_phone_preset_with_a_custom_message_round_trips_and_speaks(admin):
    key = new_type(admin)
    admin.post(f"/admin/designer/{key}/form/add", data={"label": "联系电话", "kind": "text"})
    name = "lianxidianhua"
    form = page_form(admin, f"/admin/designer/{key}/form/field/{name}")
    form.setlist("preset", ["mobile"])
    form.setlist("message", ["请填写 11 位手机号，方便消防员联系"])
    assert admin.post(f"/admin/designer/{key}/form/field/{name}", data=form).status_code == 303
    prop = draft(key)["schema"]["properties"][name]
    assert prop["format"] == "mobile" and prop["x-message"].startswith("请填写 11 位")
    page = admin.get(f"/admin/designer/{key}/form/field/{name}").get_data(as_text=True)
    assert 'value="mobile" selected' in page
    before = draft(key)
    assert (
        admin.post(f"/admin/designer/{key}/form/field/{name}", data=form_values(page)).status_code
        == 303
    )
    assert draft(key) == before
    html = admin.post(
        f"/admin/designer/{key}/preview",
        data={"summary": "3幢楼道飞线", name: "12345", "_submit": "1"},
    ).get_data(as_text=True)
    assert "请填写 11 位手机号，方便消防员联系" in html
    html = admin.post(
        f"/admin/designer/{key}/preview",
        data={"summary": "3幢楼道飞线", name: "13912345678", "_submit": "1"},
    ).get_data(as_text=True)
    answers = html.split("答案有效")[1].split("</dl>")[0]
    assert "联系电话" in answers and "13912345678" in answers and name not in answers


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        ("mobile", ["13912345678", "+86 13912345678"], ["12345678901", "1391234567"]),
        ("landline", ["0571-88886666", "057188886666", "88886666"], ["0571-1234", "abc"]),
        (
            "id-card",
            ["11010519491231002X", "110101199003074477"],
            ["110105194912310021", "110101199013074477"],
        ),
        (
            "uscc",
            ["91330100716105852F", "9144030071526726XG", "914403001922038216"],
            ["91330100716105852E", "9133010", "91330100716105852f"],
        ),
        ("plate", ["浙A12345", "浙AD12345"], ["浙12345", "AA12345"]),
        ("postcode", ["310000"], ["31000", "3100001"]),
        ("room", ["3-502", "12-1-1201", "3幢502室"], ["502", "三幢"]),
    ],
)
def test_presets_check_what_they_say(fmt, good, bad):
    from forms.formats import FORMAT_CHECKER

    for value in good:
        assert FORMAT_CHECKER.conforms(value, fmt), value
    for value in bad:
        assert not FORMAT_CHECKER.conforms(value, fmt), value


# -- deadlines -----------------------------------------------------------------------------


def test_each_deadline_chooses_natural_or_working_hours_with_an_example(admin):
    panel = "/admin/designer/whistle/workflow/state/whistled"
    form = page_form(admin, panel)
    form.setlist("state-0-calendar", ["natural"])
    assert admin.post(panel, data=form).status_code == 303
    assert draft("whistle")["workflow"]["states"]["whistled"]["calendar"] == "natural"
    html = admin.get(panel).get_data(as_text=True)
    example = html.split('id="state-calendar-example"')[1].split("</span>")[0]
    assert "今天 17:37 开始计时 → 今天 21:37 到期" in example  # 4 natural hours
    routing = admin.get("/admin/designer/whistle/routing").get_data(as_text=True)
    assert "到期" in routing.split('id="t0-r0-calendar-example"')[1].split("</span>")[0]
    form = form_values(routing)
    form.setlist("t0-r0-calendar", ["natural"])
    assert admin.post("/admin/designer/whistle/routing", data=form).status_code == 303
    assert draft("whistle")["routing"]["departments"]["rules"][0]["calendar"] == "natural"


def test_a_natural_hours_rule_sets_its_summons_due_in_natural_hours(app):
    from engine.workflow.kernel import deadline_calendar

    working = Calendar.from_spec(Pack.get().calendar)
    start = dt.datetime(2026, 12, 3, 9, 37)  # 17:37 in Shanghai, a Thursday
    assert deadline_calendar(working, {"calendar": "natural"}).due(start, 4) == dt.datetime(
        2026, 12, 3, 13, 37
    )
    assert deadline_calendar(working, {}).due(start, 4) > dt.datetime(2026, 12, 4, 1, 0)


# -- workflow settings ------------------------------------------------------------------------


def test_resolved_states_title_notifications_and_raise_effects_round_trip(admin):
    key = new_type(admin)
    admin.post(f"/admin/designer/{key}/form/add", data={"label": "正在充电", "kind": "checkbox"})
    # 不属实 is final but does not count as solved (its panel's box left unticked).
    form = page_form(admin, f"/admin/designer/{key}/workflow/state")
    form.setlist("state-0-label", ["不属实"])
    form.setlist("state-0-final", ["1"])
    assert admin.post(f"/admin/designer/{key}/workflow/state", data=form).status_code == 303
    assert draft(key)["workflow"]["resolved_states"] == ["closed"]
    form = page_form(admin, f"/admin/designer/{key}/workflow")
    assert form.getlist("resolved") == ["closed"]
    form.setlist("title-0-source", ["text"])
    form.setlist("title-0-text", ["飞线："])
    form.setlist("title-1-source", ["field"])
    form.setlist("title-1-field", ["summary"])
    form.setlist("oc-notify_message", ["有居民报告飞线充电"])
    form.setlist("oc-set-0-target", ["priority"])
    form.setlist("oc-set-0-source", ["const"])
    form.setlist("oc-set-0-const", ["2"])
    response = admin.post(f"/admin/designer/{key}/workflow", data=form)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    body = draft(key)
    workflow = body["workflow"]
    assert workflow["resolved_states"] == ["closed"]
    assert body["title"] == {"cat": ["飞线：", {"var": "data.summary"}]}
    assert {"notify": {"roles": ["commissioner"], "message": "有居民报告飞线充电"}} in workflow[
        "on_create"
    ]
    assert workflow["on_create"][0] == {"set": {"priority": 2}}
    before = draft(key)
    page = admin.get(f"/admin/designer/{key}/workflow").get_data(as_text=True)
    assert admin.post(f"/admin/designer/{key}/workflow", data=form_values(page)).status_code == 303
    assert draft(key) == before


def test_a_new_type_tells_the_commissioner_and_the_resident_hears_the_truth(admin, client, auth):
    key = new_type(admin)
    assert admin.post(f"/admin/designer/{key}/publish").status_code == 303
    auth.logout()
    auth.login("lvzhou-yezhu1")
    response = client.post(
        f"/r/new/{key}", data={"summary": "3幢楼道有人飞线充电"}, follow_redirects=True
    )
    assert "已通知您的小区专员" in response.get_data(as_text=True)
    item = Item.select().order_by(Item.id.desc()).first()
    xifang = User.get(User.username == "xifang")
    assert any(n.item_id == item.id for n in xifang.notifications)
    # A type that notifies nobody says so.
    body = designer.draft_of(Definition.get(Definition.key == key))
    body["workflow"].pop("on_create")
    auth.logout()
    auth.login("admin")
    designer.save_draft(User.get(User.username == "admin"), key, body, now=clock.now())
    assert client.post(f"/admin/designer/{key}/publish").status_code == 303
    auth.logout()
    auth.login("lvzhou-yezhu1")
    html = client.post(
        f"/r/new/{key}", data={"summary": "又有人飞线"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "已通知您的小区专员" not in html and "等待工作人员受理" in html


def test_renaming_a_state_moves_its_open_items_on_publishing(admin, client, auth):
    from tests.web.test_web_journey import ring_bell

    auth.logout()
    item = Item.get_by_id(ring_bell(client, auth))
    auth.login("admin")
    old = item.state
    panel = f"/admin/designer/bell/workflow/state/{old}"
    form = page_form(admin, panel)
    form.setlist("state-0-rename", [f"{old}-2"])
    response = admin.post(panel, data=form)
    assert response.status_code == 303 and response.location.endswith(f"/state/{old}-2")
    workflow = draft("bell")["workflow"]
    assert f"{old}-2" in workflow["states"] and old not in workflow["states"]
    assert all(old not in t["from"] and t["to"] != old for t in workflow["transitions"])
    page = admin.get("/admin/designer/bell/publish").get_data(as_text=True)
    assert f'value="{old}-2" selected' in page  # the renamed state is proposed
    assert "内部键已更改" in page and "新增 “" not in page  # a rename, not added and removed
    response = admin.post("/admin/designer/bell/publish", data=form_values(page))
    assert response.status_code == 303
    assert Item.get_by_id(item.id).state == f"{old}-2"
    assert Event.select().where((Event.item == item.id) & (Event.action == "item.migrate")).exists()


def test_the_calendar_form_saves_holidays_and_make_up_days(admin):
    form = page_form(admin, "/admin/designer/calendar/gongshu")
    n = sum(1 for k in form if k.startswith("h-") and k.endswith("-from") and form[k])
    form.setlist(f"h-{n}-from", ["2027-01-01"])
    form.setlist(f"h-{n}-to", ["2027-01-03"])
    form.setlist(f"h-{n}-name", ["元旦"])
    w = sum(1 for k in form if k.startswith("w-") and form[k])
    form.setlist(f"w-{w}-day", ["2027-01-04"])
    assert admin.post("/admin/designer/calendar/gongshu", data=form).status_code == 303
    spec = Pack.get(Pack.key == "gongshu").calendar
    assert {"from": "2027-01-01", "to": "2027-01-03", "name": "元旦"} in spec["holidays"]
    assert "2027-01-04" in spec["workdays"] and spec["office_hours"] == ["09:00", "17:30"]
    assert Event.select().where(Event.action == "pack.calendar").exists()
    calendar = Calendar.from_spec(spec)
    assert not calendar.is_workday(dt.date(2027, 1, 1))
    # Round trip: saved again unchanged, the same calendar.
    page = admin.get("/admin/designer/calendar/gongshu").get_data(as_text=True)
    assert admin.post("/admin/designer/calendar/gongshu", data=form_values(page)).status_code == 303
    assert Pack.get(Pack.key == "gongshu").calendar == spec
    form = form_values(page)
    form.setlist("h-0-to", ["2020-01-01"])  # before its first day
    response = admin.post("/admin/designer/calendar/gongshu", data=form)
    assert response.status_code == 422 and Pack.get(Pack.key == "gongshu").calendar == spec


# -- review -------------------------------------------------------------------------------------


def test_publish_and_history_say_what_changed_in_words(admin):
    admin.post("/admin/designer/whistle/form/add", data={"label": "充电位置", "kind": "text"})
    html = admin.get("/admin/designer/whistle/publish").get_data(as_text=True)
    assert "<strong>字段</strong>: 新增 “充电位置”" in html
    history = admin.get("/admin/designer/whistle/history").get_data(as_text=True)
    assert "<strong>字段</strong>: 新增 “充电位置”" in history  # by default: draft vs published
    assert '<option value="draft" selected>' in history.split('name="b"')[1].split("</select>")[0]


def test_a_chinese_rule_key_typed_under_advanced_is_refused_in_chinese(admin):
    form = page_form(admin, "/admin/designer/whistle/routing")
    before = designer.draft_of(Definition.get(Definition.key == "whistle"))
    form.setlist("t0-r0-key", ["消防"])
    response = admin.post("/admin/designer/whistle/routing", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "消防" in html and "小写字母" in html
    assert designer.draft_of(Definition.get(Definition.key == "whistle")) == before


# -- field visibility on the rule document's context ------------------------------------------


def test_a_field_shown_by_the_raisers_role_and_the_file_is_evaluated_alike_in_the_form_and_on_the_server(
    admin, client, auth
):
    """A field's visibility may read the raiser's role and the compound's file, picked in
    words; the raise form's HTMX round trip shows the field where the server requires it, and
    only there."""
    from engine.store.models import OrgNode

    response = admin.post(
        "/admin/designer/new",
        data=MultiDict(
            [
                ("kind", "item_type"),
                ("name", "物管委备案"),
                ("raise_roles", "resident"),
                ("raise_roles", "commissioner"),
                ("node_kinds", "compound"),
            ]
        ),
    )
    assert response.status_code == 303
    key = Definition.select().order_by(Definition.id.desc()).first().key
    for label in ("备案编号", "专员核实意见"):
        admin.post(f"/admin/designer/{key}/form/add", data={"label": label, "kind": "text"})
    page = admin.get(f"/admin/designer/{key}/form/field/beianbianhao").get_data(as_text=True)
    assert "档案：业主自治组织" in page and "提交人的角色" in page  # offered, in words
    assert 'value="node.kind"' in page
    for name, field, op, value, rule in (
        (
            "beianbianhao",
            "node.profile.committee_type",
            "==",
            "物管委",
            {"==": [{"var": "node.profile.committee_type"}, "物管委"]},
        ),
        (
            "zhuanyuanheshiyijian",
            "actor.roles",
            "contains",
            "小区专员",
            {"in": ["commissioner", {"var": "actor.roles"}]},
        ),
    ):
        path = f"/admin/designer/{key}/form/field/{name}"
        form = page_form(admin, path)
        form.setlist("required", ["1"])  # required when shown
        form.setlist("show-0-field", [field])
        form.setlist("show-0-op", [op])
        form.setlist("show-0-value", [value])
        response = admin.post(path, data=form)
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]
        assert draft(key)["schema"]["properties"][name]["x-show-if"] == rule
        before = draft(key)
        assert admin.post(path, data=page_form(admin, path)).status_code == 303  # round trip
        assert draft(key) == before
    builder = admin.get(f"/admin/designer/{key}/form").get_data(as_text=True)
    assert "档案：业主自治组织 等于 物管委" in builder
    assert "node.profile" not in builder.split('id="field-rows"')[1].split("</table>")[0]
    # A value that is none of the file field's options is refused, naming it.
    form = page_form(admin, f"/admin/designer/{key}/form/field/beianbianhao")
    form.setlist("show-0-value", ["居委会"])
    html = admin.post(f"/admin/designer/{key}/form/field/beianbianhao", data=form).get_data(
        as_text=True
    )
    assert "居委会" in html and "业主自治组织" in html
    assert admin.post(f"/admin/designer/{key}/publish").status_code == 303

    node = OrgNode.get(OrgNode.key == "lvzhouhuayuan")
    for committee, shown in (("业委会", False), ("物管委", True)):
        node.profile = {**(node.profile or {}), "committee_type": committee}
        node.save()
        for username, commissioner in (("lvzhou-yezhu1", False), ("xifang", True)):
            auth.logout()
            auth.login(username)
            url = f"/r/new/{key}" if not commissioner else f"/work/new/{key}?node=lvzhouhuayuan"
            # The HTMX round trip: the fields as the form shows them for these answers.
            fields = client.post(
                url, data={"summary": "备案"}, headers={"HX-Request": "true"}
            ).get_data(as_text=True)
            assert ('name="beianbianhao"' in fields) == shown, (committee, username)
            assert ('name="zhuanyuanheshiyijian"' in fields) == commissioner, (committee, username)
            # The server: what is shown is required, what is hidden is not asked for.
            before = Item.select().count()
            response = client.post(url, data={"summary": "备案"})
            refused = shown or commissioner
            assert response.status_code == (422 if refused else 303), (committee, username)
            assert Item.select().count() == before + (0 if refused else 1)


def test_renaming_a_state_rewrites_hand_written_rules_that_compare_the_state(admin):
    """Rules written in the JSON view that compare item.state with a state — a guard, a
    branch, a routing rule, a field's visibility, the title, a set effect — follow the
    state's new key; nothing is left naming the old one."""
    import json

    import rules

    old, new = "handling", "chuzhizhong"
    body = designer.draft_of(Definition.get(Definition.key == "bell"))
    state = {"var": "item.state"}
    transitions = body["workflow"]["transitions"]
    transitions[0]["guard"] = {"!=": [state, old]}
    transitions[1].setdefault("to_if", []).append({"when": {"==": [state, old]}, "to": "closed"})
    transitions[2].setdefault("effects", []).insert(
        0, {"set": {"priority": {"if": [{"===": [state, old]}, 2, 1]}}}
    )
    table = next(iter(body["routing"].values()))
    table["rules"][0]["when"] = {"and": [table["rules"][0]["when"], {"in": [state, [old, "x"]]}]}
    body["schema"]["properties"]["description"]["x-show-if"] = {
        "!==": [{"var": ["item.state", ""]}, old]
    }
    body["title"] = {
        "if": [
            {"==": [state, old]},
            {"cat": ["处置中：", {"var": "data.summary"}]},
            {"var": "data.summary"},
        ]
    }
    response = admin.post(
        "/admin/designer/bell/json", data={"body": json.dumps(body, ensure_ascii=False)}
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert rules.mentions(draft("bell"), "item.state", old)

    panel = f"/admin/designer/bell/workflow/state/{old}"
    form = page_form(admin, panel)
    form.setlist("state-0-rename", [new])
    assert admin.post(panel, data=form).status_code == 303
    after = draft("bell")
    text = json.dumps(after, ensure_ascii=False)
    assert f'"{old}"' not in text, "a reference to the old key is left"
    assert not rules.mentions(after, "item.state", old)
    transitions = after["workflow"]["transitions"]
    assert transitions[0]["guard"] == {"!=": [state, new]}
    assert transitions[1]["to_if"][-1]["when"] == {"==": [state, new]}
    assert transitions[2]["effects"][0]["set"]["priority"]["if"][0] == {"===": [state, new]}
    assert next(iter(after["routing"].values()))["rules"][0]["when"]["and"][1] == {
        "in": [state, [new, "x"]]
    }
    assert after["schema"]["properties"]["description"]["x-show-if"] == {
        "!==": [{"var": ["item.state", ""]}, new]
    }
    assert after["title"]["if"][0] == {"==": [state, new]}
    # Every other literal is left as written.
    assert "处置中：" in text and '"x"' in text


def test_the_workflow_panels_open_from_the_diagram_refuse_in_chinese_and_delete(admin):
    """Each state and transition of the diagram (and its list entry) opens its panel; a
    panel refuses a nameless state in Chinese without saving; a transition's panel deletes
    it; an unknown state or transition is a 404, not a 500."""
    key = new_type(admin)
    page = admin.get(f"/admin/designer/{key}/workflow").get_data(as_text=True)
    for panel in ("state/open", "state/closed", "transition/0"):
        url = f"/admin/designer/{key}/workflow/{panel}"
        assert page.count(f'hx-get="{url}"') == 2, panel  # the diagram and the list
    assert 'data-panel="settings"' in page
    before = draft(key)
    form = page_form(admin, f"/admin/designer/{key}/workflow/state")
    form.setlist("state-0-label", [""])
    response = admin.post(f"/admin/designer/{key}/workflow/state", data=form)
    assert response.status_code == 422 and "状态：请填写名称。" in response.get_data(as_text=True)
    assert draft(key) == before
    form = page_form(admin, f"/admin/designer/{key}/workflow/transition")
    form.setlist("tr-1-label", ["办结"])
    form.setlist("tr-1-key", ["close"])  # the key the first transition has
    response = admin.post(f"/admin/designer/{key}/workflow/transition", data=form)
    assert response.status_code == 422 and "流转" in response.get_data(as_text=True)
    assert draft(key) == before
    form = page_form(admin, f"/admin/designer/{key}/workflow/transition/0")
    form.setlist("delete", ["1"])
    assert admin.post(f"/admin/designer/{key}/workflow/transition/0", data=form).status_code == 303
    assert draft(key)["workflow"]["transitions"] == []
    assert admin.get(f"/admin/designer/{key}/workflow/transition/0").status_code == 404
    assert admin.get(f"/admin/designer/{key}/workflow/state/nope").status_code == 404

"""Nothing a user typed is lost: a stale save of the compound file, a checklist row or a
transition comes back as a 409 with the typed answers kept and what the others changed
meanwhile (swapped in under HTMX); a refused upload gives the form back with every
answer kept and the problem on the photo field."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from engine.records import checklists, profiles
from engine.store.models import Attachment, Event, Item, OrgNode
from engine.store.tables import ChecklistRow
from engine.workflow import items
from tests.conftest import NOW

HX = {"HX-Request": "true"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def hidden(page: str, name: str) -> str:
    found = re.search(rf'<input type="hidden" name="{name}" value="(\d+)">', page)
    assert found, f"no hidden {name} in the form"
    return found.group(1)


def value_of(page: str, name: str) -> str | None:
    """The value an <input> or <textarea> named ``name`` shows."""
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'<textarea[^>]*name="{name}"[^>]*>([^<]*)</textarea>', page, re.DOTALL
    )
    return found.group(1).strip() if found else None


def conflict_box(page: str) -> str:
    found = re.search(
        r'<div class="conflict" id="conflict" role="alert">(.*?)</div>', page, re.DOTALL
    )
    assert found, "no conflict shown"
    return found.group(1)


def profile_form(profile: dict[str, Any], **changes: Any) -> dict[str, str]:
    data = {
        k: str(v)
        for k, v in profile.items()
        if isinstance(v, str | int) and not isinstance(v, bool)
    }
    data.update({k: "y" for k, v in profile.items() if v is True})
    return {**data, **{k: str(v) for k, v in changes.items()}, "_submit": "1"}


# The compound file (一小区一档案) ------------------------------------------------------


def test_a_stale_file_save_is_refused_with_both_versions_shown_and_the_typed_answers_kept(
    client, auth, actor_of
):
    auth.login("xifang")
    page = client.get("/lists/c/lvzhouhuayuan/profile").text
    lock, seen = hidden(page, "lock"), hidden(page, "seen")
    node = OrgNode.get(key="lvzhouhuayuan")
    mine = profile_form(
        node.profile, households=777, property_company="我填的物业", lock=lock, seen=seen
    )

    # Meanwhile the street's supervisor corrects the number of buildings.
    profiles.save(
        actor_of("chaohui-ducha"),
        node,
        {**node.profile, "buildings": 11},
        expected=node.profile_lock,
        now=NOW,
    )

    refused = client.post("/lists/c/lvzhouhuayuan/profile", data=mine)
    assert refused.status_code == 409
    page = refused.text
    assert (
        value_of(page, "households") == "777" and value_of(page, "property_company") == "我填的物业"
    )
    box = conflict_box(page)
    supervisor = actor_of("chaohui-ducha").user
    assert (
        supervisor.name in box and "楼栋" in box and "11" in box
    )  # who, which field, what it is now
    stored = OrgNode.get(key="lvzhouhuayuan").profile
    assert (
        stored["buildings"] == 11 and stored["households"] != 777
    )  # nothing of the stale save stored

    # Having seen it, the user takes the other change over and sends again: saved.
    again = {**mine, "buildings": "11", "lock": hidden(page, "lock"), "seen": hidden(page, "seen")}
    assert client.post("/lists/c/lvzhouhuayuan/profile", data=again).status_code == 303
    stored = OrgNode.get(key="lvzhouhuayuan").profile
    assert (stored["buildings"], stored["households"], stored["property_company"]) == (
        11,
        777,
        "我填的物业",
    )


def test_a_stale_file_save_checks_the_version_in_the_update(app, actor_of):
    node = OrgNode.get(key="lvzhouhuayuan")
    shown = node.profile_lock
    profiles.save(
        actor_of("chaohui-ducha"), node, {**node.profile, "buildings": 11}, expected=shown, now=NOW
    )
    from engine.core.errors import Conflict

    stale = OrgNode.get(key="lvzhouhuayuan")
    try:
        profiles.save(
            actor_of("xifang"), stale, {**stale.profile, "buildings": 4}, expected=shown, now=NOW
        )
    except Conflict:
        pass
    else:
        raise AssertionError("a stale save went through")
    assert OrgNode.get(key="lvzhouhuayuan").profile["buildings"] == 11
    assert OrgNode.get(key="lvzhouhuayuan").profile_lock == shown + 1
    assert Event.select().where(Event.target == "profile:lvzhouhuayuan").count() == 1


def test_an_invalid_resubmit_of_a_stale_file_keeps_the_check(client, auth, actor_of):
    """A form that comes back with errors must not quietly take the newer version."""
    auth.login("xifang")
    page = client.get("/lists/c/lvzhouhuayuan/profile").text
    lock, seen = hidden(page, "lock"), hidden(page, "seen")
    node = OrgNode.get(key="lvzhouhuayuan")
    profiles.save(
        actor_of("chaohui-ducha"),
        node,
        {**node.profile, "buildings": 11},
        expected=node.profile_lock,
        now=NOW,
    )
    bad = client.post(
        "/lists/c/lvzhouhuayuan/profile",
        data=profile_form(node.profile, households=-1, lock=lock, seen=seen),
    )
    assert bad.status_code == 422
    assert "11" in conflict_box(bad.text)  # the change is shown with the errors


# Checklist rows --------------------------------------------------------------------

ROW = {
    "content": "加装电梯意见征集",
    "owner_unit": "小区党组织",
    "deadline": "2026-12-31",
    "status": "推进中",
}


def test_a_stale_row_save_keeps_the_typed_answers_and_shows_the_other_change(
    client, auth, actor_of
):
    node = OrgNode.get(key="lvzhouhuayuan")
    row = checklists.add_row(actor_of("xifang"), "task-list", node, ROW, now=NOW)
    auth.login("xifang")
    page = client.get(f"/lists/row/{row.id}").text
    lock, seen = hidden(page, "lock"), hidden(page, "seen")

    party = actor_of("lvzhouhuayuan-dzz")
    checklists.update_row(
        party, row.id, {**ROW, "owner_unit": "物业服务企业"}, expected=row.lock, now=NOW
    )

    typed = {
        **ROW,
        "content": "加装电梯意见征集,已收回 80% 意见",
        "lock": lock,
        "seen": seen,
        "_submit": "1",
    }
    refused = client.post(f"/lists/row/{row.id}", data=typed)
    assert refused.status_code == 409
    assert value_of(refused.text, "content") == "加装电梯意见征集,已收回 80% 意见"
    box = conflict_box(refused.text)
    assert party.user.name in box and "物业服务企业" in box
    assert ChecklistRow.get_by_id(row.id).data["owner_unit"] == "物业服务企业"

    again = {**typed, "lock": hidden(refused.text, "lock")}
    assert client.post(f"/lists/row/{row.id}", data=again).status_code == 303
    assert ChecklistRow.get_by_id(row.id).data["content"] == "加装电梯意见征集,已收回 80% 意见"


# Transitions -------------------------------------------------------------------------


def raised_bell(actor_of) -> Item:
    return items.raise_item(
        actor_of("lvzhou-yezhu1"),
        "bell",
        "lvzhouhuayuan",
        {"category": "违章搭建", "summary": "东门违建车棚"},
        now=NOW,
    )


def test_a_stale_transition_under_htmx_gets_a_swappable_409_with_the_typed_text(
    client, auth, actor_of
):
    item = raised_bell(actor_of)
    item = items.transition(actor_of("xifang"), item.id, "accept", {}, expected=item.lock, now=NOW)
    auth.login("xifang")
    form = client.get(f"/work/items/{item.id}/t/whistle", headers=HX).text
    version, seen = hidden(form, "version"), hidden(form, "seen")

    # Meanwhile the compound's party secretary starts handling it: whistling is still possible.
    items.transition(
        actor_of("lvzhouhuayuan-dzz"), item.id, "start", {}, expected=item.lock, now=NOW
    )

    typed = {
        "category": "违章搭建",
        "note": "东门违建车棚需执法局现场认定",
        "version": version,
        "seen": seen,
        "_submit": "1",
    }
    refused = client.post(f"/work/items/{item.id}/t/whistle", data=typed, headers=HX)
    assert refused.status_code == 409
    fragment = refused.text
    assert (
        fragment.lstrip().startswith("<form") and "<html" not in fragment
    )  # swapped in place of the form
    assert value_of(fragment, "note") == "东门违建车棚需执法局现场认定"
    box = conflict_box(fragment)
    assert actor_of("lvzhouhuayuan-dzz").user.name in box
    assert 'name="_submit"' in fragment  # still possible: send again
    assert Item.get_by_id(item.id).state == "handling"

    again = {**typed, "version": hidden(fragment, "version")}
    done = client.post(f"/work/items/{item.id}/t/whistle", data=again, headers=HX)
    assert done.status_code == 204 and done.headers["HX-Redirect"].endswith(
        f"/work/items/{item.id}"
    )


def test_a_transition_no_longer_possible_keeps_the_typed_text_to_copy(client, auth, actor_of):
    item = raised_bell(actor_of)
    auth.login("xifang")
    form = client.get(f"/work/items/{item.id}/t/decline").text
    version, seen = hidden(form, "version"), hidden(form, "seen")
    items.transition(
        actor_of("xifang"), item.id, "accept", {}, expected=item.lock, now=NOW
    )  # another tab

    typed = {
        "reason": "属于私人纠纷,已引导至人民调解",
        "version": version,
        "seen": seen,
        "_submit": "1",
    }
    for headers in (HX, {}):
        refused = client.post(f"/work/items/{item.id}/t/decline", data=typed, headers=headers)
        assert refused.status_code == 409
        assert value_of(refused.text, "reason") == "属于私人纠纷,已引导至人民调解"
        box = conflict_box(refused.text)
        assert (
            "不予受理" in box and "受理并召集三方" in box
        )  # this action, and the one taken meanwhile
        assert 'name="_submit"' not in refused.text  # nothing to send: the state moved on
    assert Item.get_by_id(item.id).state == "liaising"


def test_the_pages_have_htmx_swap_409_and_422():
    """htmx 2 swaps only 2xx by default; sanfang.js (no inline script) makes it swap these
    (tests/browser/test_browser_lost_edits.py sees it happen)."""
    js = (Path(__file__).resolve().parents[2] / "pages" / "static" / "sanfang.js").read_text(
        "utf-8"
    )
    assert "responseHandling" in js and "409|422" in js


def test_a_service_refusal_under_htmx_is_a_fragment(client, auth, actor_of):
    item = raised_bell(actor_of)
    auth.login("lvzhou-yezhu1")
    response = client.post(
        f"/r/items/{item.id}/t/rate", data={"version": "999", "satisfaction": "5"}, headers=HX
    )
    # The raiser cannot rate a collected item: stale → 409, shown as the form, never a page.
    assert response.status_code == 409 and response.text.lstrip().startswith("<form")
    missing = client.get("/r/items/99999/t/rate", headers=HX)  # the engine's NotFound
    assert (
        missing.status_code == 404
        and "<html" not in missing.text
        and 'class="card error-page"' in missing.text
    )


# Refused uploads -------------------------------------------------------------------

BELL = {
    "category": "违章搭建",
    "summary": "东门违建车棚占用绿地",
    "description": "已有半年,多次反映无果",
    "location": "东门停车场旁",
    "building": "3幢",
    "contact_phone": "13800138000",
    "_submit": "1",
}


def test_a_refused_photo_gives_the_raise_form_back_with_every_answer(client, auth):
    for username, url in (
        ("lvzhou-yezhu1", "/r/new/bell"),
        ("xifang", "/work/new/bell?node=lvzhouhuayuan"),
    ):
        auth.login(username)
        before = Item.select().count()
        data = {
            **BELL,
            "node": "lvzhouhuayuan",
            "photos": [
                (io.BytesIO(PNG), "ok.png", "image/png"),
                (io.BytesIO(b"MZ\x90\x00"), "setup.exe", "application/x-msdownload"),
            ],
        }
        refused = client.post(url, data=data, content_type="multipart/form-data")
        assert refused.status_code == 422, refused.text[:500]
        page = refused.text
        assert Item.select().count() == before  # nothing raised without the photo
        for name in ("summary", "description", "location", "building", "contact_phone"):
            assert value_of(page, name) == BELL[name], name
        assert re.search(
            r'<option[^>]*value="违章搭建"[^>]*selected|<option selected[^>]*value="违章搭建"', page
        )
        photo = re.search(
            r'<div class="field field-photo has-error"[^>]*>(.*?)</div>', page, re.DOTALL
        )
        assert photo and "setup.exe" in photo.group(1)  # the problem is on the photo field
        kept = Attachment.get(Attachment.filename == "ok.png")
        assert f'value="{kept.public_id}" checked' in photo.group(1)  # the good photo is kept
        auth.logout()
        Attachment.delete().execute()


def test_a_refused_file_keeps_the_row_form_answers(client, auth):
    auth.login("xifang")
    data = {
        **ROW,
        "content": "楼道堆物清理",
        "_submit": "1",
        "evidence": [(io.BytesIO(b"#!/bin/sh"), "run.sh", "application/x-sh")],
    }
    refused = client.post(
        "/lists/c/lvzhouhuayuan/task-list/new", data=data, content_type="multipart/form-data"
    )
    assert refused.status_code == 422
    assert value_of(refused.text, "content") == "楼道堆物清理"
    assert "run.sh" in refused.text
    assert not ChecklistRow.select().exists()


def test_a_refused_kpi_report_keeps_the_note_and_the_accepted_files(client, auth):
    from engine.store.tables import KpiReport

    auth.login("chaohui-ducha")
    url = "/lists/kpi/tasks-2026/street-office-staff/report"
    data = {
        "unit": "chaohui",
        "note": "已发文成立三方办,附红头文件",
        "evidence": [
            (io.BytesIO(PNG), "wenjian.png", "image/png"),
            (io.BytesIO(b"MZ\x90\x00"), "virus.exe", "application/x-msdownload"),
        ],
    }
    refused = client.post(url, data=data, content_type="multipart/form-data")
    assert refused.status_code == 422
    section = re.search(
        r'<section class="card kpi-row" id="kpi-street-office-staff">(.*?)</section>',
        refused.text,
        re.DOTALL,
    )
    assert section and "virus.exe" in section.group(1)
    assert value_of(section.group(1), "note") == "已发文成立三方办,附红头文件"
    kept = Attachment.get(Attachment.filename == "wenjian.png")
    assert f'value="{kept.public_id}" checked' in section.group(1)
    assert not KpiReport.select().exists()

    # Sending the kept form again (the good file ticked) reports with it.
    again = client.post(
        url,
        data={"unit": "chaohui", "note": "已发文成立三方办,附红头文件", "evidence": kept.public_id},
    )
    assert again.status_code == 303
    assert KpiReport.get().evidence == [kept.public_id]

    # A unit the user does not report for is refused before anything is read (the form
    # never offers it: this is a forged request, not an answer to keep).
    other = client.post(url, data={"unit": "xiaohe", "note": "不是我的街道"})
    assert other.status_code == 403 and KpiReport.select().count() == 1


# Other refused actions on the item page --------------------------------------------


def party_summons(actor_of) -> Any:
    from engine.store.models import Assignment

    item = raised_bell(actor_of)
    items.transition(actor_of("xifang"), item.id, "accept", {}, expected=item.lock, now=NOW)
    return Assignment.get((Assignment.item == item.id) & (Assignment.role == "party"))


def test_a_refused_summons_reply_stays_in_its_form(client, auth, actor_of):
    summons = party_summons(actor_of)
    auth.login("lvzhouhuayuan-dzz")
    reply = "已到东门查看,违建车棚系三户业主共建"
    refused = client.post(
        f"/work/summons/{summons.id}/complete", data={"item": summons.item_id, "reply": reply}
    )
    assert refused.status_code == 409  # report in first
    assert value_of(refused.text, "reply") == reply and "field-error" in refused.text

    # The summons is cancelled meanwhile: its form is gone, the text is still on the page.
    from engine.workflow import dispatch

    dispatch.report_in(actor_of("lvzhouhuayuan-dzz"), summons.id, now=NOW)
    dispatch.decline(actor_of("lvzhouhuayuan-dzz"), summons.id, "另一标签页已退回", now=NOW)
    gone = client.post(
        f"/work/summons/{summons.id}/complete", data={"item": summons.item_id, "reply": reply}
    )
    assert gone.status_code == 409
    box = re.search(
        r'<div class="conflict" id="refusal" role="alert">(.*?)</div>', gone.text, re.DOTALL
    )
    assert box and reply in box.group(1)


def test_a_refused_reroute_and_reassign_keep_the_reason(client, auth, actor_of):
    item = raised_bell(actor_of)
    auth.login("chaohui-ducha")
    refused = client.post(
        f"/review/items/{item.id}/reroute", data={"units": [], "reason": "涉及消防通道,需消防大队"}
    )
    assert refused.status_code == 422
    assert value_of(refused.text, "reason") == "涉及消防通道,需消防大队"
    withdraw = client.post(
        f"/review/items/{item.id}/reroute", data={"reason": "改派", "withdraw": "1"}
    )
    assert withdraw.status_code == 422 and re.search(
        r'name="withdraw" value="1" checked', withdraw.text
    )

    form = client.post(
        "/review/reassign",
        data={
            "from": "xifang",
            "to": "xifang",
            "reason": "专员休假至月底",
            "items": [str(item.id)],
        },
    )
    assert form.status_code == 422
    assert value_of(form.text, "reason") == "专员休假至月底"
    assert re.search(rf'name="items" value="{item.id}"[^>]*checked', form.text)


def test_a_refused_urge_keeps_the_message(client, auth, actor_of):
    item = raised_bell(actor_of)
    items.transition(
        actor_of("xifang"),
        item.id,
        "decline",
        {"reason": "属于私人纠纷"},
        expected=item.lock,
        now=NOW,
    )
    auth.login("chaohui-ducha")
    message = "请今天内联系按铃业主"
    refused = client.post(f"/review/items/{item.id}/urge", data={"message": message}, headers=HX)
    assert refused.status_code == 409  # closed meanwhile: the form comes back, swapped in
    assert refused.text.lstrip().startswith("<form") and "field-error" in refused.text
    assert value_of(refused.text, "message") == message
    plain = client.post(
        f"/review/items/{item.id}/urge", data={"message": message}, follow_redirects=True
    )
    assert message in plain.text  # flashed on the page it goes back to


def test_a_new_row_the_database_was_too_busy_for_keeps_its_answers(client, auth, monkeypatch):
    from engine.core.errors import Conflict

    def busy(*args: Any, **kwargs: Any) -> Any:
        raise Conflict("The database is busy with the same change; reload the page and try again.")

    monkeypatch.setattr(checklists, "add_row", busy)
    auth.login("xifang")
    refused = client.post(
        "/lists/c/lvzhouhuayuan/task-list/new",
        data={**ROW, "content": "楼道堆物清理", "_submit": "1"},
    )
    assert refused.status_code == 409
    assert (
        value_of(refused.text, "content") == "楼道堆物清理" and "database is busy" in refused.text
    )


def test_a_raise_the_database_was_too_busy_for_keeps_its_answers(client, auth, monkeypatch):
    from engine.core.errors import Conflict

    def busy(*args: Any, **kwargs: Any) -> Any:
        raise Conflict("The database is busy with the same change; reload the page and try again.")

    monkeypatch.setattr(items, "raise_item", busy)
    auth.login("lvzhou-yezhu1")
    refused = client.post("/r/new/bell", data=BELL)
    assert refused.status_code == 409 and value_of(refused.text, "summary") == BELL["summary"]

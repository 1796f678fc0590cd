"""Timeouts (超时自动流转): a state's ``on_timeout`` transition, taken by the sweep as the system
once the state's deadline passes — a resolved bell nobody rated closes unrated, not overdue."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from engine.core.errors import Forbidden, Invalid
from engine.definitions.checks import timeout_problems
from engine.definitions.definitions import current_version
from engine.store.models import Assignment, Event, Item
from engine.workflow import dispatch, items, timeouts

NOW = dt.datetime(2026, 11, 27, 1, 0)  # a Friday, 09:00 in Hangzhou
H = dt.timedelta(hours=1)
BELL = {"category": "违章搭建", "summary": "楼顶违章搭建阳光房", "building": "3幢"}
PARTIES = {
    "party": "lvzhouhuayuan-dzz",
    "committee": "lvzhouhuayuan-ywh",
    "property": "lvzhouhuayuan-wy",
}


def resolved_bell(actor_of):
    item = items.raise_item(actor_of("lvzhou-yezhu1"), "bell", "lvzhouhuayuan", BELL, now=NOW)
    commissioner = actor_of("xifang")
    items.transition(commissioner, item.id, "accept", expected=1, now=NOW)
    for assignment in list(Assignment.select().where(Assignment.item == item.id)):
        who = actor_of(PARTIES[assignment.role])
        dispatch.report_in(who, assignment.id, now=NOW)
        dispatch.complete(who, assignment.id, "已协调", now=NOW)
    return items.transition(
        commissioner, item.id, "resolve", {"resolution": "已拆除阳光房"}, expected=2, now=NOW + H
    )


def test_an_unrated_resolved_bell_closes_when_its_deadline_passes(app, actor_of):
    item = resolved_bell(actor_of)
    assert item.state == "resolved" and item.due_at is not None
    assert timeouts.due(now=item.due_at) == []  # not before the deadline
    assert timeouts.run(now=item.due_at - dt.timedelta(seconds=1)) == 0
    later = item.due_at + dt.timedelta(minutes=1)
    assert timeouts.due(now=later) == [item.id]
    assert timeouts.run(now=later) == 1
    closed = Item.get_by_id(item.id)
    assert closed.state == "closed" and closed.closed and closed.satisfaction is None
    event = Event.get((Event.item == item.id) & (Event.action == "transition.expire"))
    assert event.actor_id is None and event.before["state"] == "resolved"
    assert timeouts.run(now=later + H) == 0  # once


def test_a_rated_bell_is_left_alone_and_other_overdue_states_do_not_time_out(app, actor_of):
    rated = resolved_bell(actor_of)
    items.transition(
        actor_of("lvzhou-yezhu1"),
        rated.id,
        "rate",
        {"satisfaction": 5},
        expected=None,
        now=NOW + 2 * H,
    )
    waiting = items.raise_item(actor_of("lvzhou-yezhu1"), "bell", "lvzhouhuayuan", BELL, now=NOW)
    far = NOW + dt.timedelta(days=30)
    assert Item.get_by_id(waiting.id).due_at < far  # 问题收起 is overdue, but staff's to do
    assert timeouts.run(now=far) == 0
    assert Item.get_by_id(waiting.id).state == "collected"


def test_the_page_shows_the_system_closing_it_in_words(app, actor_of, client, auth):
    item = resolved_bell(actor_of)
    timeouts.run(now=item.due_at + H)
    auth.login("xifang")
    page = client.get(f"/work/items/{item.id}").get_data(as_text=True)
    assert "超时未评价,自动办结" in page and "expire" not in page


def test_a_transition_person_may_not_take_by_hand_is_offered_to_nobody(app, actor_of):
    item = resolved_bell(actor_of)
    with pytest.raises((Forbidden, Invalid)):
        items.transition(actor_of("xifang"), item.id, "expire", expected=None, now=NOW + 2 * H)
    offered = items.offers(actor_of("lvzhou-yezhu1"), item, now=NOW + 2 * H)
    assert "rate" in {o.key for o in offered} and "expire" not in {o.key for o in offered}


def workflow(change):
    body = copy.deepcopy(current_version("bell").body)
    change(body["workflow"])
    return body["workflow"]


def test_checks_name_the_field_of_a_bad_timeout(app):
    def paths(change):
        return {p.path: p.message for p in timeout_problems(workflow(change))}

    assert paths(lambda w: None) == {}
    assert "/workflow/states/resolved/on_timeout" in paths(
        lambda w: w["states"]["resolved"].update(on_timeout="nope")
    )
    assert (
        "does not leave"
        in paths(lambda w: w["states"]["resolved"].update(on_timeout="accept"))[
            "/workflow/states/resolved/on_timeout"
        ]
    )
    assert (
        "has a form"
        in paths(lambda w: w["states"]["resolved"].update(on_timeout="rate"))[
            "/workflow/states/resolved/on_timeout"
        ]
    )
    assert (
        "no deadline"
        in paths(lambda w: w["states"]["resolved"].pop("hours"))[
            "/workflow/states/resolved/on_timeout"
        ]
    )
    orphan = paths(lambda w: w["states"]["resolved"].pop("on_timeout"))
    [(path, message)] = orphan.items()
    assert path.endswith("/roles") and "Nobody may take the transition" in message


def test_the_seed_pack_times_out_only_states_waiting_on_the_resident(app):
    for key in ("bell", "repair", "whistle", "disclosure-question"):
        states = current_version(key).body["workflow"]["states"]
        timed = [name for name, s in states.items() if s.get("on_timeout")]
        assert len(timed) == 1, key
        assert states[timed[0]].get("resident_label", states[timed[0]]["label"]) != ""
    assert not any(
        s.get("on_timeout")
        for s in current_version("emergency").body["workflow"]["states"].values()
    )


def test_the_designer_sets_and_clears_a_states_timeout_on_its_panel(app, client, auth):
    """The state panel offers the transitions that may time it out (leaving it, no form)."""
    from engine.authoring import designer
    from engine.store.models import Definition
    from tests.web.test_web_designer import form_values

    auth.login("admin")
    panel = "/admin/designer/bell/workflow/state/resolved"
    page = client.get(panel).get_data(as_text=True)
    assert '<option value="expire" selected>超时未评价,自动办结</option>' in page
    assert 'value="rate"' not in page.split('id="state-on_timeout"')[1].split("</select>")[0]
    values = form_values(page)
    values["state-0-on_timeout"] = ""
    assert client.post(panel, data=values).status_code == 303
    bell = lambda: designer.draft_of(Definition.get(Definition.key == "bell"))
    assert "on_timeout" not in bell()["workflow"]["states"]["resolved"]
    refused = client.post("/admin/designer/bell/publish")  # expire is now nobody's
    assert refused.status_code == 422
    assert "没有人能执行流转“超时未评价,自动办结”" in refused.get_data(as_text=True)
    values["state-0-on_timeout"] = "expire"
    assert client.post(panel, data=values).status_code == 303
    assert bell()["workflow"]["states"]["resolved"]["on_timeout"] == "expire"

"""The routing events on an item page (pages.itemviews.route_trace): their outcomes' HTML and
words are kept between requests, so the kept words must follow a renamed place, stay
escaped and read the same on the first view and on later ones."""

from __future__ import annotations

import re

from engine.store.models import Event, OrgNode
from engine.trail import privacy
from engine.workflow import items
from tests.conftest import NOW

BELL = {"category": "违章搭建", "summary": "楼顶违章搭建阳光房", "building": "3幢"}


def _timeline(client, auth, item_id: int) -> str:
    auth.login("xifang")
    response = client.get(f"/work/items/{item_id}")
    assert response.status_code == 200
    auth.logout()
    text = response.get_data(as_text=True)
    return text[text.index('<ol class="timeline">') : text.index("</ol>", text.index("timeline"))]


def _route_event(item_id: int, inputs: dict, error: str | None = None) -> None:
    Event.create(
        at=NOW,
        action="route",
        item=item_id,
        target=f"item:{item_id}",
        detail={
            "table": "nowhere",
            "fired": ["r1"],
            "default_used": False,
            "inputs": inputs,
            "outcomes": [
                {"key": "r1", "fired": True, "reason": "true was true", "error": None},
                {"key": "r2", "fired": False, "reason": "rule failed: x", "error": error},
            ],
            "summoned": [],
        },
    )


def test_route_words_are_escaped_and_the_same_when_kept(client, auth, actor_of):
    item = items.raise_item(actor_of("lvzhou-yezhu1"), "bell", "lvzhouhuayuan", BELL, now=NOW)
    _route_event(item.id, {"data.summary": "<b>a & b</b>", "data.building": "3幢"}, "<i>boom</i>")
    first = _timeline(client, auth, item.id)
    assert "&lt;b&gt;a &amp; b&lt;/b&gt;" in first and "<b>a" not in first
    assert first.count('<span class="field-error">') == 1  # the failed rule, once
    assert _timeline(client, auth, item.id) == first  # the kept words and HTML read the same


def test_kept_route_words_follow_a_renamed_place(client, auth, actor_of):
    item = items.raise_item(actor_of("lvzhou-yezhu1"), "bell", "lvzhouhuayuan", BELL, now=NOW)
    ids = [int(i) for i in OrgNode.get(OrgNode.key == "lvzhouhuayuan").path.strip("/").split("/")]
    keys = [OrgNode.get_by_id(i).key for i in ids]
    _route_event(item.id, {"node.path": keys})
    before = _timeline(client, auth, item.id)
    OrgNode.update(name="改名后的小区").where(OrgNode.key == "lvzhouhuayuan").execute()
    after = _timeline(client, auth, item.id)
    assert "改名后的小区" in after and "改名后的小区" not in before
    assert re.sub(r"\s+", "", after) != re.sub(r"\s+", "", before)


def test_an_event_part_without_answers_is_shown_as_it_is():
    kinds = {"contact_phone": "phone"}
    part = {"state": "accepted", "label": "受理"}
    assert privacy.shown_event_part(part, kinds, privacy.Sight()) is part
    assert privacy.shown_event_part(part, kinds, privacy.WITHHELD) is part
    masked = privacy.shown_event_part({"data.contact_phone": "13812345678"}, kinds, privacy.Sight())
    assert masked == {"data.contact_phone": "138****5678"}


def test_kept_route_words_follow_a_newly_published_file_form(client, auth, actor_of):
    import copy

    from engine.authoring.publishing import publish
    from engine.definitions.definitions import current_version
    from engine.store.models import Definition

    item = items.raise_item(actor_of("lvzhou-yezhu1"), "bell", "lvzhouhuayuan", BELL, now=NOW)
    _route_event(item.id, {"node.profile.households": 780})
    profile = Definition.get(Definition.kind == "profile")
    body = copy.deepcopy(dict(current_version(profile).body))
    title = body["schema"]["properties"]["households"]["title"]
    before = _timeline(client, auth, item.id)
    assert title in before
    body["schema"]["properties"]["households"]["title"] = "住户总数(新)"
    publish(profile.pack, body, now=NOW, by=None)
    after = _timeline(client, auth, item.id)
    assert "住户总数(新)" in after and "住户总数(新)" not in before

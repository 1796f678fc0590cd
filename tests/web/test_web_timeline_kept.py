"""An item's timeline lines kept by the process (``pages.timeline._LINES``): each event is
worded once and served the same while what it was worded from is the same — the event as
the reader may see it, the type, the role labels, the language, a routing event's
vocabulary — and never across readers who see it differently. (A routing event worded
again after a place it read is renamed or the file's form is published anew:
tests/web/test_web_route_words.py.)"""

from __future__ import annotations

import datetime as dt

import pytest
from flask_babel import force_locale

from engine.definitions.runtimes import runtime
from engine.workflow.items import TimelineEvent
from pages import timeline
from tests.review_data import make_item
from tests.web.test_web_privacy import BELL, NAME, OTHERS

AT = dt.datetime(2026, 9, 14, 8, 30)


@pytest.fixture
def worded(monkeypatch):
    """How many events were worded (``timeline_lines`` called), the kept ones forgotten."""
    count = {"events": 0}
    real = timeline.timeline_lines

    def counting(events, rt, role_labels):
        count["events"] += len(events)
        return real(events, rt, role_labels)

    monkeypatch.setattr(timeline, "timeline_lines", counting)
    timeline._LINES.clear()
    yield count
    timeline._LINES.clear()


def _event(action, *, after=None, detail=None, actor=(7, "程霞"), at=AT):
    return TimelineEvent(at, action, actor[0], actor[1], {}, after or {}, detail or {})


def test_each_event_is_worded_once_and_again_when_what_it_shows_changes(app, worded):
    item = make_item("lvzhouhuayuan")
    rt = runtime(item.version_id)
    roles = {"property": "物业服务企业"}
    events = [
        _event("item.raise", after={"state": "handling"}, actor=(None, None)),
        _event("summons.decline", after={"reply": "不属于本部门"}, at=AT + dt.timedelta(hours=1)),
        _event(
            "item.reroute",
            after={"summoned": [{"name": "绿洲花园", "role": "property"}], "reason": "分错了"},
            at=AT + dt.timedelta(hours=2),
        ),
    ]
    with app.test_request_context():
        first = timeline.timeline_html(events, rt, roles)
        assert worded["events"] == 3
        again = timeline.timeline_html(events, rt, roles)
        assert again == first and worded["events"] == 3  # served as kept
        assert "不属于本部门" in first and "物业服务企业" in first

        changed = [*events[:1], events[1]._replace(after={"reply": "已转交"}), *events[2:]]
        assert "已转交" in timeline.timeline_html(changed, rt, roles)
        assert worded["events"] == 4  # only the changed event
        masked = [events[0], events[1]._replace(actor_name="程*"), *events[2:]]
        shown = timeline.timeline_html(masked, rt, roles)
        assert "<strong>程*</strong>" in shown and "<strong>程霞</strong> 已" not in shown
        assert worded["events"] == 5
        relabelled = timeline.timeline_html(events, rt, {"property": "物业公司"})
        assert "物业公司" in relabelled and "物业服务企业" not in relabelled
        assert worded["events"] == 8  # the labels name the units of any event: all again
        with force_locale("en"):
            english = timeline.timeline_html(events, rt, roles)
        assert english != first and "raised the item" in english and worded["events"] == 11


@pytest.mark.parametrize("username", OTHERS[:2] + ["admin"])
def test_a_line_the_raiser_saw_whole_is_not_served_masked_readers(
    app, client, auth, actor_of, username
):
    """The raiser's own page names them whole; a reader who must not see the name gets
    the timeline's lines worded for their own sight, not the raiser's kept ones."""
    from engine.workflow import items
    from tests.conftest import NOW

    item = items.raise_item(
        actor_of("lvzhou-yezhu1"), "bell", "lvzhouhuayuan", {**BELL, "anonymous": False}, now=NOW
    )
    auth.login("lvzhou-yezhu1")
    own = client.get(f"/r/items/{item.id}").get_data(as_text=True)
    assert NAME in own
    auth.logout()
    auth.login(username)
    other = client.get(f"/work/items/{item.id}").get_data(as_text=True)
    assert NAME not in other and "何*" in other

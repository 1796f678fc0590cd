"""A dashboard's body is kept per node and served again while everything it was rendered
from is the same (pages/review/dashboards.py): never a body of other facts, names, scope,
language or day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import template_rendered

from engine.core import clock
from engine.metrics import facts, indices
from engine.store.models import OrgNode
from pages.review import dashboards

NOW = dt.datetime(2026, 11, 27, 1, 0, 0)
BODY = "review/_dashboard_body.html"


@pytest.fixture
def refreshed(app, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    dashboards._BODIES.clear()
    facts.refresh(now=NOW)
    indices.snapshot_all(None, now=NOW)


@contextmanager
def bodies_rendered(app) -> Iterator[list[str]]:
    """The dashboard bodies rendered inside the block (by template name)."""
    names: list[str] = []

    def record(sender, template, context, **extra):
        if template.name == BODY:
            names.append(template.name)

    template_rendered.connect(record, app)
    try:
        yield names
    finally:
        template_rendered.disconnect(record, app)


def _page(client, path: str = "/review/n/gongshu") -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_body_is_rendered_once_and_served_as_rendered(app, client, auth, refreshed):
    auth.login("ducha")
    with bodies_rendered(app) as rendered:
        first = _page(client)
        again = _page(client)
    assert rendered == [BODY] and again == first
    dashboards._BODIES.clear()  # a body rendered afresh is the same page
    assert _page(client) == first


def test_new_facts_render_the_body_again(app, client, auth, refreshed):
    from tests.review_data import make_item

    auth.login("xifang")  # a compound: no children, the facts are its own
    before = _page(client, "/review/n/lvzhouhuayuan")
    make_item("lvzhouhuayuan", title="又一件")
    facts.refresh(now=NOW + dt.timedelta(minutes=5))
    with bodies_rendered(app) as rendered:
        after = _page(client, "/review/n/lvzhouhuayuan")
    assert rendered == [BODY] and after != before


def test_a_renamed_child_renders_the_body_again(app, client, auth, refreshed):
    auth.login("ducha")
    assert "朝晖街道" in _page(client)
    OrgNode.update(name="朝晖新街道").where(OrgNode.key == "chaohui").execute()
    page = _page(client)
    assert "朝晖新街道" in page and ">朝晖街道<" not in page


def test_each_language_has_its_own_body(app, client, auth, refreshed):
    auth.login("ducha")
    assert "主要指标" in _page(client)
    english = _page(client, "/review/n/gongshu?lang=en")
    assert "Key numbers" in english and "主要指标" not in english
    assert "主要指标" in _page(client, "/review/n/gongshu?lang=zh_CN")


def test_a_new_day_renders_the_body_again(app, client, auth, refreshed, monkeypatch):
    """The snapshots say "today" and "yesterday": the body of yesterday is not today's."""
    auth.login("ducha")
    assert "<td>今天 09:00</td>" in _page(client)
    monkeypatch.setattr(clock, "now", lambda: NOW + dt.timedelta(days=1))
    with bodies_rendered(app) as rendered:
        page = _page(client)
    assert rendered == [BODY] and "<td>昨天 09:00</td>" in page


def test_a_narrower_scope_gets_its_own_children(app, client, auth, refreshed, monkeypatch):
    """A body kept for one reader's children is not served to a reader who sees fewer."""
    from engine.metrics import dashboard as boards

    auth.login("ducha")
    assert "朝晖街道" in _page(client)
    everything = boards.reviewable_children_and_siblings

    def fewer(actor, node):
        children, siblings = everything(actor, node)
        return [c for c in children if c.key != "chaohui"], siblings

    monkeypatch.setattr(boards, "reviewable_children_and_siblings", fewer)
    assert "朝晖街道" not in _page(client)

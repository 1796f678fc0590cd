"""A commissioner opens their compound's dashboard: the radar chart is drawn as SVG."""

from __future__ import annotations

import datetime as dt

import pytest

pytestmark = pytest.mark.browser


def test_compound_dashboard_shows_its_radar_chart(page, live_server, login, shot):
    from engine.metrics import facts

    with live_server.db():
        facts.refresh(now=dt.datetime(2026, 11, 27, 1, 0, 0))
    login("xifang")
    page.goto(live_server.url("/review/n/lvzhouhuayuan"))
    radar = page.locator("svg.chart.radar")
    radar.wait_for()
    assert radar.locator("polygon.radar-area").count() == 1
    assert page.locator("svg.radar text").count() == 5  # one label per dimension
    assert page.get_by_text("组织领导力").first.is_visible()
    shot("compound-dashboard")
    assert not live_server.errors

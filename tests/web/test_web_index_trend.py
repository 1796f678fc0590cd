"""The index trend (三方强基指数) from day one: the demo back-fills a year of monthly
snapshots, the sweep takes the month's own once, and the dashboard draws the line."""

from __future__ import annotations

import random

from engine.core import clock
from engine.metrics import demo, facts
from engine.store.models import IndexSnapshot, OrgNode
from tests.conftest import NOW


def test_sweep_takes_the_month_once_and_the_dashboard_draws_the_trend(
    app, client, auth, runner, monkeypatch
):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    demo.backfill(random.Random(1), now=NOW)
    district = OrgNode.get(key="gongshu")
    assert IndexSnapshot.select().where(IndexSnapshot.node == district).count() == 12
    first = runner.invoke(args=["sweep"])
    assert (
        "index snapshots taken:" in first.output and "index snapshots taken: 0" not in first.output
    )
    second = runner.invoke(args=["sweep"])
    assert "index snapshots taken: 0" in second.output
    periods = [
        p
        for (p,) in IndexSnapshot.select(IndexSnapshot.period)
        .where(IndexSnapshot.node == district)
        .tuples()
    ]
    assert len(periods) == 13 and len(set(periods)) == 13 and "2026-11" in periods
    facts.refresh(now=NOW)
    auth.login("ducha")
    html = client.get("/review/n/gongshu").get_data(as_text=True)
    trend = html.split('id="index-trend"', 1)[1].split("</figure>", 1)[0]
    assert "<polyline" in trend and trend.count(",") >= 13  # a point per snapshot
    snapshots = html.split('id="index-trend"', 1)[1]
    assert "第 1 版" in snapshots and ">v1<" not in snapshots


def test_designer_sets_the_snapshot_schedule_without_json(app, client, auth):
    from engine.store.models import Definition

    auth.login("admin")
    page = client.get("/admin/designer/strong-base/json").get_data(as_text=True)
    assert 'id="snapshot-schedule"' in page and '<option value="monthly" selected>' in page
    assert (
        client.post("/admin/designer/strong-base/snapshot", data={"snapshot": "weekly"}).status_code
        == 303
    )
    assert Definition.get(Definition.key == "strong-base").draft["snapshot"] == "weekly"
    client.post("/admin/designer/strong-base/snapshot", data={"snapshot": ""})
    assert "snapshot" not in Definition.get(Definition.key == "strong-base").draft
    bad = client.post(
        "/admin/designer/strong-base/snapshot", data={"snapshot": "daily"}, follow_redirects=True
    )
    assert "快照周期:请从选项中选择" in bad.get_data(as_text=True)
    assert (
        client.post("/admin/designer/emergency/snapshot", data={"snapshot": "weekly"}).status_code
        == 404
    )

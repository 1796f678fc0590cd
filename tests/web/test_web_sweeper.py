"""The background sweeper `make run` starts: on when configured, off in tests, never raising."""

from __future__ import annotations

import datetime as dt
import threading
import time

from engine.core import clock
from engine.metrics import facts
from engine.store.models import OrgNode
from engine.workflow import items
from pages import create_app, sweeper

MINUTE = dt.timedelta(minutes=1)


def sweeper_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "sanfang-sweep" and t.is_alive()]


def test_tests_run_without_a_sweeper(app):
    assert not app.config["BACKGROUND_SWEEP"] and "sanfang_sweeper" not in app.extensions


def test_background_sweep_starts_one_daemon_thread_per_database(
    app, database_url, tmp_path, monkeypatch
):
    runs: list[object] = []
    monkeypatch.setattr(sweeper, "sweep", lambda now: runs.append(now) or _Result())
    monkeypatch.setattr(sweeper, "refresh_facts", lambda app: None)  # no writes from the thread
    config = {
        "TESTING": True,
        "SECRET_KEY": "test",
        "DATABASE_URL": database_url,
        "BACKGROUND_SWEEP": True,
        "SWEEP_INTERVAL": 1,
    }
    try:
        first = create_app(config)
        create_app(config)  # a second app on the same database does not start another
        assert len(sweeper_threads()) == 1 and all(t.daemon for t in sweeper_threads())
        assert first.extensions["sanfang_sweeper"] is not None
        deadline = time.time() + 10
        while not runs and time.time() < deadline:
            time.sleep(0.05)
        assert runs, "the sweeper never swept"
    finally:
        sweeper.stop_all()
    for thread in sweeper_threads():
        thread.join(timeout=5)
    assert sweeper_threads() == []


def test_a_failing_sweep_is_logged_not_raised(app, monkeypatch, caplog):
    def broken(now):
        raise RuntimeError("boom")

    monkeypatch.setattr(sweeper, "sweep", broken)
    sweeper.sweep_once(app)
    assert "background sweep failed" in caplog.text


class _Result:
    total = 0
    busy = 0


# -- the sweep refreshes the facts -----------------------------------------------------

T0 = dt.datetime(2030, 1, 7, 1, 0, 0)  # after every event of the seeded database
BELL = {"category": "违章搭建", "summary": "楼顶违章搭建阳光房", "building": "3幢"}


def sweep_at(app, monkeypatch, when):
    monkeypatch.setattr(clock, "now", lambda: when)
    sweeper.sweep_once(app)


def lvzhou_total() -> int:
    doc, _ = facts.cached(OrgNode.get(OrgNode.key == "lvzhouhuayuan"))
    return doc["items"]["total"]


def test_the_sweep_refreshes_facts_after_a_change(app, monkeypatch, actor_of):
    sweep_at(app, monkeypatch, T0)  # nothing cached yet: the first sweep computes
    before = lvzhou_total()
    items.raise_item(actor_of("lvzhou-yezhu1"), "bell", "lvzhouhuayuan", BELL, now=T0 + 2 * MINUTE)
    sweep_at(
        app, monkeypatch, T0 + 4 * MINUTE
    )  # within FACTS_INTERVAL of the last refresh: not yet
    assert lvzhou_total() == before
    sweep_at(app, monkeypatch, T0 + 20 * MINUTE)
    assert lvzhou_total() == before + 1
    assert facts.computed_at() == T0 + 20 * MINUTE


def test_the_sweep_leaves_facts_alone_when_nothing_changed(app, monkeypatch):
    sweep_at(app, monkeypatch, T0)
    sweep_at(
        app, monkeypatch, T0 + 50 * MINUTE
    )  # past FACTS_INTERVAL, no event since, younger than FACTS_MAX_AGE
    assert facts.computed_at() == T0
    sweep_at(
        app, monkeypatch, T0 + 61 * MINUTE
    )  # an hour old: overdue counts move with the clock alone
    assert facts.computed_at() == T0 + 61 * MINUTE


def test_sanfang_sweep_refreshes_facts_when_due(runner):
    assert "facts refreshed for" in runner.invoke(args=["sweep"]).output
    assert "facts: nothing changed" in runner.invoke(args=["sweep"]).output
    assert "facts" not in runner.invoke(args=["sweep", "--now", "2026-11-27T13:05"]).output

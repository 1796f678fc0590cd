"""The background sweeper `make run` starts: on when configured, off in tests, never raising."""

from __future__ import annotations

import threading
import time

from pages import create_app, sweeper


def sweeper_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "sanfang-sweep" and t.is_alive()]


def test_tests_run_without_a_sweeper(app):
    assert not app.config["BACKGROUND_SWEEP"] and "sanfang_sweeper" not in app.extensions


def test_background_sweep_starts_one_daemon_thread_per_database(app, database_url, tmp_path, monkeypatch):
    runs: list[object] = []
    monkeypatch.setattr(sweeper, "sweep", lambda now: runs.append(now) or _Result())
    config = {"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": database_url,
              "BACKGROUND_SWEEP": True, "SWEEP_INTERVAL": 1}
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

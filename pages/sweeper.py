"""The background sweep: `make run` applies deadlines and escalation with no extra service.

When ``BACKGROUND_SWEEP`` is true the app factory starts one daemon thread per process
that runs :func:`engine.workflow.escalation.sweep` every ``SWEEP_INTERVAL`` seconds, then
refreshes the cached facts when something changed (:func:`engine.metrics.facts.refresh_due`,
at most every ``FACTS_INTERVAL`` seconds); pages keep reading the previous facts
meanwhile. Then it takes the indices' scheduled snapshots that are due
(:func:`engine.metrics.indices.snapshot_due`, once per period). Several
processes (gunicorn workers, several hosts) may each run one: every escalation step
still happens once (see engine/workflow/escalation.py). Deployments that prefer cron or a
systemd timer leave it off and run ``sanfang sweep``.
"""

from __future__ import annotations

import threading

from flask import Flask

from engine.core import clock
from engine.decisions.polls import close_due
from engine.metrics import facts, indices
from engine.store.db import database
from engine.workflow import timeouts
from engine.workflow.escalation import sweep

_started: dict[str, threading.Event] = {}
_lock = threading.Lock()


def sweep_once(app: Flask) -> None:
    """One sweep on this thread's own connection; errors are logged, never raised."""
    try:
        with database.connection_context():
            result = sweep(now=clock.now())
            closed = close_due(now=clock.now())  # votes whose window ended (表决截止)
            timed_out = timeouts.run(now=clock.now())  # 超时自动流转
        if result.total or result.busy or closed or timed_out:
            app.logger.info("sweep: %s; votes closed: %d; timed out: %d", result, closed, timed_out)
    except Exception:  # the thread must survive a bad sweep; the next one retries
        app.logger.exception("background sweep failed")
    refresh_facts(app)
    take_snapshots(app)


def take_snapshots(app: Flask) -> int:
    """Take the indices' scheduled snapshots that are due (after the facts they score).
    Errors are logged: a missed period is taken by the next sweep."""
    try:
        with database.connection_context():
            taken = indices.snapshot_due(now=clock.now())
    except Exception:  # as above
        app.logger.exception("background index snapshot failed")
        return 0
    if taken:
        app.logger.info("index snapshots taken: %d", taken)
    return taken


def refresh_facts(app: Flask) -> int | None:
    """Refresh the cached facts if due; the count refreshed or None. Errors are logged."""
    try:
        with database.connection_context():
            count = facts.refresh_if_due(
                now=clock.now(),
                interval=float(app.config.get("FACTS_INTERVAL", 300)),
                max_age=float(app.config.get("FACTS_MAX_AGE", 3600)),
            )
    except Exception:  # as above: stale facts for one more round, never a dead thread
        app.logger.exception("background facts refresh failed")
        return None
    if count is not None:
        app.logger.info("facts refreshed for %d nodes", count)
    return count


def _loop(app: Flask, stop: threading.Event, interval: float) -> None:
    delay = min(interval, 2.0)  # a first sweep soon after start, then every interval
    while not stop.wait(delay):
        sweep_once(app)
        delay = interval


def init_app(app: Flask) -> threading.Event | None:
    """Start the sweeper thread if configured; return the event that stops it."""
    if not app.config.get("BACKGROUND_SWEEP"):
        return None
    interval = max(1.0, float(app.config.get("SWEEP_INTERVAL", 60)))
    with _lock:
        key = app.config["DATABASE_URL"]
        if key in _started:  # one sweeper per database per process
            return _started[key]
        stop = threading.Event()
        thread = threading.Thread(
            target=_loop, args=(app, stop, interval), name="sanfang-sweep", daemon=True
        )
        thread.start()
        _started[key] = stop
    app.extensions["sanfang_sweeper"] = stop
    return stop


def stop_all() -> None:
    """Stop every sweeper thread this process started (tests)."""
    with _lock:
        for stop in _started.values():
            stop.set()
        _started.clear()

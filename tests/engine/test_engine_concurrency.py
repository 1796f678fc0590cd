"""Concurrency on SQLite and PostgreSQL: one winner per transition, each escalation step once."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from engine.core.errors import Conflict
from engine.store.db import backend, database
from engine.store.models import Escalation, Event, Item
from engine.workflow import items
from engine.workflow.escalation import due_steps

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 27, 1, 0)
BELL = {"category": "违章搭建", "summary": "楼顶违章搭建阳光房", "building": "3幢"}
CLIENTS = 50


@pytest.mark.parametrize("send_version", [True, False])
def test_fifty_clients_take_the_same_transition_once(app, actor_of, token_for, send_version):
    item = items.raise_item(actor_of("lvzhou-yezhu1"), "bell", "lvzhouhuayuan", BELL, now=NOW)
    headers = token_for("xifang")
    start = threading.Barrier(CLIENTS)
    statuses: list[int] = []

    def client() -> None:
        # Each thread has its own test client and, through the app's before_request,
        # its own database connection (peewee keeps connection state per thread).
        http = app.test_client()
        start.wait()
        body = {"version": 1} if send_version else {}
        response = http.post(
            f"/api/v1/items/{item.id}/transitions/accept", json=body, headers=headers
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(statuses) == {200: 1, 409: CLIENTS - 1}
    fresh = Item.get_by_id(item.id)
    assert fresh.state == "liaising" and fresh.lock == 2
    taken = Event.select().where((Event.item == item.id) & (Event.action == "transition.accept"))
    assert taken.count() == 1
    routed = Event.select().where((Event.item == item.id) & (Event.action == "route"))
    assert routed.count() == 1  # the effects ran once too


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="SQLite locking"
)
def test_a_write_that_cannot_get_the_lock_is_a_conflict_not_a_500(
    app, actor_of, token_for, database_url
):
    import sqlite3

    item = items.raise_item(actor_of("lvzhou-yezhu1"), "bell", "lvzhouhuayuan", BELL, now=NOW)
    headers = token_for("xifang")
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        database.execute_sql("PRAGMA busy_timeout = 50")
        with pytest.raises(Conflict):
            items.transition(actor_of("xifang"), item.id, "accept", expected=1, now=NOW)
        http = app.test_client()

        @app.before_request
        def short_timeout() -> None:
            database.execute_sql("PRAGMA busy_timeout = 50")

        response = http.post(
            f"/api/v1/items/{item.id}/transitions/accept", json={"version": 1}, headers=headers
        )
        assert response.status_code == 409 and response.get_json()["error"]["code"] == "conflict"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert Item.get_by_id(item.id).state == "collected"


SWEEP_SCRIPT = """
import datetime as dt, json, sys, time
from engine.store.db import database, open_database
from engine.workflow.escalation import sweep
url, now, start, batch = sys.argv[1], dt.datetime.fromisoformat(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
open_database(url)
database.connect()
while time.time() < start:
    time.sleep(0.001)
result = sweep(now=now, batch=batch)
database.close()
print(json.dumps({"applied": result.total, "raced": result.raced, "moved": result.moved,
                  "busy": result.busy}))
"""


@pytest.mark.parametrize("batch", [250, 7])  # every step in one transaction; many batches racing
def test_two_sweeps_in_two_processes_apply_each_step_once(app, actor_of, database_url, batch):
    categories = ["违章搭建", "消防通道", "停车秩序", "物业纠纷", "治安", "食品安全", "其他"]
    for n in range(21):
        items.raise_item(
            actor_of("xifang"),
            "whistle",
            "lvzhouhuayuan",
            {
                "category": categories[n % len(categories)],
                "summary": f"第{n}件吹哨事项",
                "urgency": "一般",
            },
            now=NOW,
        )
    monday = NOW + dt.timedelta(days=3)  # every report-in deadline long past
    expected = {(d.item_id, d.subject, d.step["key"]) for d in due_steps(monday)}
    assert len(expected) >= 50
    database.close()  # the test holds no connection (nor lock) while the sweepers run
    start = time.time() + 2.0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    sweepers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                SWEEP_SCRIPT,
                database_url,
                monday.isoformat(),
                str(start),
                str(batch),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = []
    for process in sweepers:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    database.connect(reuse_if_open=True)
    rows = [(e.item_id, e.subject, e.step) for e in Escalation.select()]
    assert sorted(rows) == sorted(expected)  # every due step, each once
    assert sum(o["applied"] for o in outputs) == len(expected)
    assert all(o["busy"] == 0 for o in outputs), outputs
    events = Event.select().where(Event.action == "escalation")
    assert events.count() == len(expected)
    urged = sum(i.urge_count for i in Item.select())
    assert urged == sum(1 for _, _, step in rows if step == "report-overdue")
    assert (backend().name == "postgresql") == os.environ.get("DATABASE_URL", "").startswith(
        "postgres"
    )


def test_servers_starting_together_make_the_schema_one_after_the_other(app):
    """gunicorn's workers each make the app, and so run ``create_tables`` at once: on
    PostgreSQL two of them replacing the same trigger function failed the second ("tuple
    concurrently updated"); each now waits for the schema lock (SQLite's writes wait for
    each other anyway). Every start succeeds, on either backend."""
    from engine.store.models import create_tables

    starts = 6
    start = threading.Barrier(starts)
    failures: list[BaseException] = []

    def server() -> None:
        with database.connection_context():
            start.wait()
            try:
                for _ in range(3):
                    create_tables()
            except Exception as exc:  # noqa: BLE001 (what failed is the assertion)
                failures.append(exc)

    threads = [threading.Thread(target=server) for _ in range(starts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []

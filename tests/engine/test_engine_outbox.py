"""The durable outbox and the deliverer: nothing lost, nothing twice, in order per item, signed."""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections import defaultdict

import pytest

from engine.core.errors import Conflict
from engine.delivery import webhooks
from engine.delivery.deliver import Policy, backoff, deliver
from engine.store.db import database
from engine.store.models import (
    Assignment,
    Delivery,
    DeliveryAttempt,
    Event,
    Notification,
    OutboxMessage,
    WebhookEndpoint,
)
from engine.workflow import dispatch, items
from tests.receiver import Receiver, free_port, verify

NOW = dt.datetime(2026, 11, 27, 1, 0)
BELL = {"category": "违章搭建", "summary": "楼顶违章搭建阳光房", "building": "3幢"}
SECRET = "s3cret-for-tests"
POLICY = Policy(timeout_seconds=5, max_attempts=15)
PARTIES = {
    "party": "lvzhouhuayuan-dzz",
    "committee": "lvzhouhuayuan-ywh",
    "property": "lvzhouhuayuan-wy",
}


def endpoint(url, events=("notification", "item.*"), **extra):
    return WebhookEndpoint.create(
        key=extra.pop("key", "district-im"), url=url, events=list(events), secret=SECRET, **extra
    )


def closed_loop(actor_of):
    """A bell from raise to resolution: raise, accept (summons), report in, complete, resolve."""
    item = items.raise_item(actor_of("lvzhou-yezhu1"), "bell", "lvzhouhuayuan", BELL, now=NOW)
    commissioner = actor_of("xifang")
    items.transition(commissioner, item.id, "accept", expected=1, now=NOW)
    for assignment in list(Assignment.select().where(Assignment.item == item.id)):
        who = actor_of(PARTIES[assignment.role])
        dispatch.report_in(who, assignment.id, now=NOW)
        dispatch.complete(who, assignment.id, "已协调", now=NOW)
    items.transition(
        commissioner, item.id, "resolve", {"resolution": "已处理完毕"}, expected=2, now=NOW
    )
    return item


def open_count():
    return Delivery.select().where(Delivery.status.in_(("pending", "retrying"))).count()


def test_every_change_writes_outbox_rows_for_subscribers_only(app, actor_of):
    item = items.raise_item(actor_of("lvzhou-yezhu1"), "bell", "lvzhouhuayuan", BELL, now=NOW)
    assert OutboxMessage.select().count() == 0  # no endpoint: nothing queued
    hook = endpoint("http://127.0.0.1:9/hook", events=["item.transition"])
    items.transition(actor_of("xifang"), item.id, "accept", expected=1, now=NOW)
    events = [m.event for m in OutboxMessage.select()]
    assert events == ["item.transition"]
    assert Delivery.get().endpoint_id == hook.id and Delivery.get().stream == f"item:{item.id}"


def test_the_loop_forwards_raise_transition_summons_report_in_completion_and_notifications(
    app, actor_of
):
    endpoint("http://127.0.0.1:9/hook")
    item = closed_loop(actor_of)
    events = {m.event for m in OutboxMessage.select().where(OutboxMessage.item == item.id)}
    assert {
        "item.raised",
        "item.transition",
        "item.summoned",
        "item.reported_in",
        "item.completed",
        "notification",
    } <= events
    # One outbox row per notification, each naming its recipient.
    forwarded = [
        m.payload["notification"]["id"]
        for m in OutboxMessage.select().where(OutboxMessage.event == "notification")
    ]
    assert sorted(forwarded) == sorted(n.id for n in Notification.select())
    transition = OutboxMessage.select().where(OutboxMessage.event == "item.transition").first()
    assert (
        transition.payload["transition"] == "accept" and transition.payload["item"]["id"] == item.id
    )


def test_a_rolled_back_change_leaves_no_outbox_row(app, actor_of):
    endpoint("http://127.0.0.1:9/hook")
    with pytest.raises(RuntimeError), database.atomic():
        items.raise_item(actor_of("lvzhou-yezhu1"), "bell", "lvzhouhuayuan", BELL, now=NOW)
        assert OutboxMessage.select().count() > 0
        raise RuntimeError("the surrounding change fails")
    assert OutboxMessage.select().count() == 0 and Delivery.select().count() == 0
    item = items.raise_item(actor_of("lvzhou-yezhu1"), "bell", "lvzhouhuayuan", BELL, now=NOW)
    before = Delivery.select().count()
    with pytest.raises(Conflict):  # a stale version: the transition rolls back whole
        items.transition(actor_of("xifang"), item.id, "accept", expected=7, now=NOW)
    assert Delivery.select().count() == before


def test_receiver_down_then_up_every_event_delivered_once_in_order_and_signed(app, actor_of):
    port = free_port()
    endpoint(f"http://127.0.0.1:{port}/hook")
    closed_loop(actor_of)
    closed_loop(actor_of)
    total = Delivery.select().count()
    assert total > 10

    down = deliver(now=NOW, policy=POLICY)  # nothing listens: every stream's head fails
    assert down.delivered == 0 and down.retrying >= 2
    assert open_count() == total
    refused = DeliveryAttempt.select().first()
    assert refused.status_code is None and "refused" in refused.error.lower()
    assert deliver(now=NOW + dt.timedelta(seconds=10), policy=POLICY).retrying == 0  # backing off

    now = NOW
    with Receiver(port, fail_first=3) as receiver:
        for _ in range(30):
            if not open_count():
                break
            now += dt.timedelta(hours=2)
            deliver(now=now, policy=POLICY)
    assert open_count() == 0
    assert Delivery.select().where(Delivery.status == "delivered").count() == total

    bodies = receiver.bodies()
    ids = [b["delivery"] for b in bodies]
    assert len(ids) == len(set(ids)) == total  # every one, once
    by_item = defaultdict(list)
    for body in bodies:
        if body["data"].get("item"):
            by_item[body["data"]["item"]["id"]].append(body["sequence"])
    assert len(by_item) == 2 and all(seqs == sorted(seqs) for seqs in by_item.values())
    for record in receiver.accepted:
        assert verify(SECRET, record["headers"], record["body"])
        assert record["headers"]["X-Sanfang-Event"] in record["body"].decode()
    assert not verify("wrong", receiver.accepted[0]["headers"], receiver.accepted[0]["body"])
    attempts = DeliveryAttempt.select()
    assert attempts.count() == len(receiver.requests) + down.retrying
    assert all(a.duration_ms >= 0 for a in attempts)


def test_two_deliverers_at_once_send_each_row_once(app, actor_of):
    with Receiver(delay=0.005) as receiver:
        endpoint(receiver.url)
        for _ in range(6):
            closed_loop(actor_of)
        total = Delivery.select().count()
        barrier = threading.Barrier(2)
        errors = []

        def run(name):
            try:
                with database.connection_context():
                    barrier.wait()
                    deliver(now=NOW, policy=Policy(batch=2), worker=name)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(n,)) for n in ("one", "two")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors
    ids = [b["delivery"] for b in receiver.bodies()]
    assert len(ids) == len(set(ids)) == total
    assert DeliveryAttempt.select().count() == total
    assert {a.worker for a in DeliveryAttempt.select()} == {"one", "two"}  # both took part


def test_backoff_grows_to_a_cap_with_jitter():
    rng = random.Random(4)
    policy = Policy(base_seconds=30, cap_seconds=3600, jitter=0.2)
    waits = [backoff(n, policy, rng).total_seconds() for n in range(1, 12)]
    assert 30 <= waits[0] <= 36 and 60 <= waits[1] <= 72 and 120 <= waits[2] <= 144
    assert all(3600 <= w <= 4320 for w in waits[7:])


def test_after_max_attempts_a_delivery_is_dead_and_an_admin_retries_it(app, actor_of):
    port = free_port()
    endpoint(f"http://127.0.0.1:{port}/hook", events=["item.raised"])
    items.raise_item(actor_of("lvzhou-yezhu1"), "bell", "lvzhouhuayuan", BELL, now=NOW)
    policy = Policy(max_attempts=3, timeout_seconds=5)
    now = NOW
    for _ in range(3):
        deliver(now=now, policy=policy)
        now += dt.timedelta(days=1)
    delivery = Delivery.get()
    assert (delivery.status, delivery.attempts) == ("dead", 3)
    assert deliver(now=now, policy=policy).dead == 0  # dead stays dead
    assert webhooks.retry(actor_of("admin"), delivery.id, now=now).status == "retrying"
    with pytest.raises(Conflict):
        webhooks.retry(actor_of("admin"), delivery.id, now=now)  # no longer dead
    assert Event.get(Event.action == "delivery.retry").actor.username == "admin"
    with Receiver(port) as receiver:
        assert deliver(now=now, policy=policy).delivered == 1
    assert receiver.bodies()[0]["event"] == "item.raised"


def test_a_missing_secret_is_an_error_until_the_variable_is_set(app, actor_of, monkeypatch):
    with Receiver() as receiver:
        WebhookEndpoint.create(
            key="env-hook",
            url=receiver.url,
            events=["item.raised"],
            secret_env="SANFANG_WEBHOOK_SECRET_TEST",
        )
        monkeypatch.delenv("SANFANG_WEBHOOK_SECRET_TEST", raising=False)
        items.raise_item(actor_of("lvzhou-yezhu1"), "bell", "lvzhouhuayuan", BELL, now=NOW)
        assert deliver(now=NOW, policy=POLICY).retrying == 1
        assert "SANFANG_WEBHOOK_SECRET_TEST" in Delivery.get().last_error and not receiver.requests
        monkeypatch.setenv("SANFANG_WEBHOOK_SECRET_TEST", "from-env")
        assert deliver(now=NOW + dt.timedelta(hours=1), policy=POLICY).delivered == 1
    assert verify("from-env", receiver.accepted[0]["headers"], receiver.accepted[0]["body"])


def test_a_disabled_endpoint_keeps_its_queue(app, actor_of):
    with Receiver() as receiver:
        hook = endpoint(receiver.url, events=["item.raised"])
        hook.active = False
        hook.save()
        items.raise_item(actor_of("lvzhou-yezhu1"), "bell", "lvzhouhuayuan", BELL, now=NOW)
        assert Delivery.select().count() == 0  # a disabled endpoint subscribes to nothing
        hook.active = True
        hook.save()
        items.raise_item(actor_of("lvzhou-yezhu1"), "bell", "lvzhouhuayuan", BELL, now=NOW)
        webhooks.set_active(actor_of("admin"), hook.key, False, now=NOW)
        assert deliver(now=NOW, policy=POLICY).delivered == 0 and open_count() == 1
        webhooks.set_active(actor_of("admin"), hook.key, True, now=NOW)
        assert deliver(now=NOW, policy=POLICY).delivered == 1
    assert len(receiver.accepted) == 1

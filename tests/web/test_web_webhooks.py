"""Admin pages for webhooks and deliveries; the notification list and the polled bell."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.delivery.deliver import Policy, deliver
from engine.store.models import Delivery, Event, Notification, User, WebhookEndpoint
from engine.workflow import items
from tests.receiver import free_port

NOW = dt.datetime(2026, 11, 27, 1, 0)
BELL = {"category": "违章搭建", "summary": "楼顶违章搭建阳光房", "building": "3幢"}


@pytest.fixture
def dead_delivery(app, actor_of):
    hook = WebhookEndpoint.create(
        key="district-im",
        url=f"http://127.0.0.1:{free_port()}/hook",
        events=["item.raised"],
        secret="s",
    )
    items.raise_item(actor_of("lvzhou-yezhu1"), "bell", "lvzhouhuayuan", BELL, now=NOW)
    deliver(now=NOW, policy=Policy(max_attempts=1, timeout_seconds=5))
    delivery = Delivery.get()
    assert delivery.status == "dead"
    return hook, delivery


def admin_paths(delivery):
    return [
        ("get", "/admin/webhooks"),
        ("get", "/admin/webhooks/new"),
        ("get", "/admin/webhooks/district-im"),
        ("get", "/admin/webhooks/district-im/edit"),
        ("get", f"/admin/deliveries/{delivery.id}"),
        ("post", f"/admin/deliveries/{delivery.id}/retry"),
        ("post", "/admin/webhooks/district-im/active"),
    ]


@pytest.mark.parametrize(
    "username", ["xifang", "chaohui-ducha", "ducha", "lvzhou-yezhu1", "dept-zzb-user"]
)
def test_only_admins_see_webhooks_and_deliveries(client, auth, dead_delivery, username):
    auth.login(username)
    for method, path in admin_paths(dead_delivery[1]):
        assert getattr(client, method)(path).status_code == 403, path
    assert Delivery.get().status == "dead" and WebhookEndpoint.get().active


def test_admin_sees_deliveries_and_retries_a_dead_one(client, auth, dead_delivery):
    _hook, delivery = dead_delivery
    auth.login("admin")
    listing = client.get("/admin/webhooks").get_data(as_text=True)
    assert "district-im" in listing
    page = client.get("/admin/webhooks/district-im?status=dead").get_data(as_text=True)
    assert "item.raised" in page and "refused" in page.lower()
    detail = client.get(f"/admin/deliveries/{delivery.id}").get_data(as_text=True)
    assert "ms" in detail and "楼顶违章搭建阳光房" in detail
    response = client.post(f"/admin/deliveries/{delivery.id}/retry")
    assert response.status_code == 303
    assert Delivery.get_by_id(delivery.id).status == "retrying"
    assert Event.get(Event.action == "delivery.retry").target == f"delivery:{delivery.id}"
    assert client.post(f"/admin/deliveries/{delivery.id}/retry").status_code == 409


def test_admin_adds_edits_and_disables_an_endpoint(client, auth):
    auth.login("admin")
    refused = client.post(
        "/admin/webhooks/new", data={"key": "Bad Key", "url": "ftp://x", "events": "item.nope"}
    )
    assert refused.status_code == 422
    assert WebhookEndpoint.select().count() == 0
    response = client.post(
        "/admin/webhooks/new",
        data={
            "key": "district-im",
            "url": "https://im.example.gov.cn/hook",
            "events": "notification item.*",
            "secret": "shh-secret",
            "active": "y",
        },
    )
    assert response.status_code == 303
    hook = WebhookEndpoint.get()
    assert (hook.events, hook.secret, hook.active) == (
        ["notification", "item.*"],
        "shh-secret",
        True,
    )
    saved = Event.get(Event.action == "webhook.save")
    assert "shh-secret" not in str(saved.after) and saved.after["has_secret"]
    assert "shh-secret" not in client.get("/admin/webhooks/district-im/edit").get_data(as_text=True)
    client.post(
        "/admin/webhooks/district-im/edit",
        data={"url": "https://im.example.gov.cn/v2", "events": "notification", "active": "y"},
    )
    hook = WebhookEndpoint.get()
    assert (hook.url, hook.secret) == (
        "https://im.example.gov.cn/v2",
        "shh-secret",
    )  # blank keeps it
    assert (
        client.post("/admin/webhooks/district-im/active", data={"active": "0"}).status_code == 303
    )
    assert WebhookEndpoint.get().active is False


def test_pack_endpoints_are_not_edited_by_hand(client, auth):
    WebhookEndpoint.create(
        key="from-pack", url="https://x.example/", events=["*"], secret_env="X", pack="gongshu"
    )
    auth.login("admin")
    assert (
        client.post(
            "/admin/webhooks/from-pack/edit",
            data={"url": "https://y.example/", "events": "*", "secret": "s"},
        ).status_code
        == 403
    )


def test_bell_polls_and_notifications_mark_read_and_open_for_the_right_audience(
    client, auth, actor_of
):
    item = items.raise_item(actor_of("lvzhou-yezhu1"), "bell", "lvzhouhuayuan", BELL, now=NOW)
    xifang = User.get(User.username == "xifang")
    mine = list(Notification.select().where(Notification.user == xifang))
    assert mine
    auth.login("xifang")
    page = client.get("/work/").get_data(as_text=True)
    assert 'hx-trigger="every 60s"' in page and "/notifications/unread" in page
    bell = client.get("/notifications/unread", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert f'<span class="badge">{len(mine)}</span>' in bell and "<html" not in bell
    one = mine[0]
    fragment = client.post(
        f"/notifications/{one.id}/read", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert f'id="notification-{one.id}"' in fragment and 'hx-swap-oob="true"' in fragment
    assert Notification.get_by_id(one.id).read
    opened = client.get(f"/notifications/{mine[-1].id}")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(
        f"/work/items/{item.id}"
    )
    assert client.get(f"/notifications/{mine[-1].id + 10_000}").status_code == 404
    # Somebody else's notification is not ours to read.
    other = Notification.create(
        user=User.get(User.username == "lvzhou-yezhu1"), item=item.id, message="x", created_at=NOW
    )
    assert client.post(f"/notifications/{other.id}/read").status_code == 404
    assert not Notification.get_by_id(other.id).read
    auth.logout()
    auth.login("lvzhou-yezhu1")
    opened = client.get(f"/notifications/{other.id}")
    assert opened.headers["Location"].endswith(f"/r/items/{item.id}")

"""Nobody sees or acts on what is not theirs: each role against another compound's item."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.accounts.users import upsert_user
from engine.store.models import Item

BELL = {
    "type": "bell",
    "node": "lvzhouhuayuan",
    "data": {"category": "治安", "summary": "夜里有陌生人翻墙进入小区"},
}

# (username, pages area they use) — none of them may see a bell of 绿洲花园.
OUTSIDERS = [
    ("changzhengqiaolu-zy", "work"),  # commissioner of another compound
    ("changzhengqiaolu-dzz", "work"),  # party organisation of another compound
    ("changzhengqiaolu-wy", "work"),  # property company of another compound
    ("changzheng-yezhu1", "r"),  # resident of another compound
    ("lvzhou-yezhu2", "r"),  # resident of the same compound, not the raiser
    ("dept-gaj-user", "work"),  # a department that was not summoned
    ("hushu-ducha", "work"),  # supervisor of another street
]


@pytest.fixture
def bell(client, token_for):
    upsert_user(
        "hushu-ducha",
        "湖墅督导",
        "demo1234",
        [{"role": "supervisor", "node": "hushu"}],
        now=dt.datetime(2026, 11, 27),
    )
    response = client.post("/api/v1/items", json=BELL, headers=token_for("lvzhou-yezhu1"))
    assert response.status_code == 201
    return response.get_json()


@pytest.mark.parametrize("username, area", OUTSIDERS)
def test_outsiders_cannot_see_or_act(client, auth, token_for, bell, username, area):
    headers = token_for(username)
    item_id = bell["id"]
    assert client.get(f"/api/v1/items/{item_id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/items/{item_id}/timeline", headers=headers).status_code == 404
    assert item_id not in [
        i["id"] for i in client.get("/api/v1/items", headers=headers).get_json()["items"]
    ]
    for key in ("accept", "decline", "rate"):
        response = client.post(
            f"/api/v1/items/{item_id}/transitions/{key}", json={"version": 1}, headers=headers
        )
        assert response.status_code == 404
    auth.login(username)
    assert client.get(f"/{area}/items/{item_id}").status_code == 404
    assert (
        client.post(f"/{area}/items/{item_id}/t/accept", data={"version": "1"}).status_code == 404
    )
    assert Item.get_by_id(item_id).state == "collected"


@pytest.mark.parametrize(
    "username", ["xifang", "lvzhouhuayuan-dzz", "lvzhouhuayuan-wy", "chaohui-ducha", "ducha"]
)
def test_insiders_see_it(client, token_for, bell, username):
    assert client.get(f"/api/v1/items/{bell['id']}", headers=token_for(username)).status_code == 200


def test_summoned_department_sees_it_and_only_then(client, token_for, bell):
    dept = token_for("dept-gaj-user")
    assert client.get(f"/api/v1/items/{bell['id']}", headers=dept).status_code == 404
    commissioner = token_for("xifang")
    client.post(
        f"/api/v1/items/{bell['id']}/transitions/accept", json={"version": 1}, headers=commissioner
    )
    client.post(
        f"/api/v1/items/{bell['id']}/transitions/whistle",
        json={"version": 2, "data": {"category": "治安", "note": "请公安分局巡查"}},
        headers=commissioner,
    )
    detail = client.get(f"/api/v1/items/{bell['id']}", headers=dept)
    assert detail.status_code == 200
    # It sees the item but may not take the commissioner's transitions.
    refused = client.post(
        f"/api/v1/items/{bell['id']}/transitions/resolve",
        json={"data": {"resolution": "好了"}},
        headers=dept,
    )
    assert refused.status_code == 403
    # Another department may not report in for it.
    gaj = next(a for a in detail.get_json()["assignments"] if a["unit"] == "dept-gaj")
    other = token_for("dept-zhifa-user")
    assert (
        client.post(f"/api/v1/assignments/{gaj['id']}/report_in", headers=other).status_code == 403
    )


@pytest.mark.parametrize(
    "username, path, status",
    [
        ("lvzhou-yezhu1", "/work/", 403),
        ("lvzhou-yezhu1", "/admin/", 403),
        ("lvzhou-yezhu1", "/review/", 403),
        ("xifang", "/admin/", 403),
        ("xifang", "/review/", 403),
        ("xifang", "/r/", 403),
        ("dept-zhifa-user", "/admin/definitions/bell", 403),
        ("chaohui-ducha", "/review/", 200),
        ("admin", "/admin/", 200),
        ("admin", "/admin/definitions/bell", 200),
        ("admin", "/admin/definitions/bell/v/1", 200),
        ("xifang", "/work/", 200),
        ("lvzhou-yezhu1", "/r/", 200),
    ],
)
def test_area_permissions(client, auth, username, path, status):
    auth.login(username)
    assert client.get(path).status_code == status


def test_logged_out_users_are_sent_to_login(client):
    for path in ("/work/", "/r/", "/review/", "/admin/", "/notifications"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_login_is_throttled(client):
    for _ in range(5):
        assert (
            client.post("/login", data={"username": "xifang", "password": "wrong"}).status_code
            == 401
        )
    blocked = client.post("/login", data={"username": "xifang", "password": "demo1234"})
    assert blocked.status_code == 429


def test_attachments_are_scoped(client, auth):
    import io

    auth.login("lvzhou-yezhu1")
    response = client.post(
        "/r/new/bell",
        data={
            "category": "环境卫生",
            "summary": "垃圾桶满了没人清理",
            "photos": (io.BytesIO(b"\x89PNG\r\n\x1a\n fake"), "trash.png", "image/png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:1500]
    item = Item.select().order_by(Item.id.desc()).first()
    public_id = item.data["photos"][0]
    with client.get(f"/files/{public_id}") as own:
        assert own.status_code == 200 and own.data.startswith(b"\x89PNG")
    auth.logout()
    auth.login("changzheng-yezhu1")
    assert client.get(f"/files/{public_id}").status_code == 404

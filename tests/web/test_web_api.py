"""The JSON API: the same journey with bearer tokens, and every kind of bad input."""

from __future__ import annotations

import pytest

from engine.store.models import Item

BELL = {
    "type": "bell",
    "node": "lvzhouhuayuan",
    "data": {"category": "违章搭建", "summary": "楼顶违章搭建阳光房", "building": "3幢"},
}


def test_openapi_document_lists_the_routes(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for path in (
        "/items",
        "/items/{id}",
        "/items/{id}/transitions/{key}",
        "/definitions",
        "/assignments/{id}/{action}",
    ):
        assert path in doc["paths"]


def test_every_api_rule_is_documented(app):
    doc_paths = set(app.test_client().get("/api/v1/openapi.json").get_json()["paths"])
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = (
                rule.rule.removeprefix("/api/v1")
                .replace("<int:", "{")
                .replace("<", "{")
                .replace(">", "}")
            )
            for name in ("{item_id}", "{assignment_id}", "{poll_id}"):
                path = path.replace(name, "{id}")
            assert path in doc_paths, f"{rule.rule} is not in openapi.json"


def test_token_is_required(client):
    assert client.get("/api/v1/items").status_code == 401
    response = client.get("/api/v1/items", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"


def test_definitions(client, token_for):
    body = client.get("/api/v1/definitions", headers=token_for("xifang")).get_json()
    keys = {d["key"] for d in body["definitions"]}
    assert {"bell", "repair", "whistle", "emergency", "compound-profile"} <= keys


def test_api_journey(client, token_for):
    resident, commissioner = token_for("lvzhou-yezhu1"), token_for("xifang")
    created = client.post("/api/v1/items", json=BELL, headers=resident)
    assert created.status_code == 201, created.get_json()
    item = created.get_json()
    assert item["state"] == "collected" and item["version"] == 1 and item["assignments"] == []

    mine = client.get("/api/v1/items?mine=1", headers=resident).get_json()["items"]
    assert [i["id"] for i in mine] == [item["id"]]

    accepted = client.post(
        f"/api/v1/items/{item['id']}/transitions/accept", json={"version": 1}, headers=commissioner
    )
    assert accepted.status_code == 200
    assert {a["role"] for a in accepted.get_json()["assignments"]} == {
        "party",
        "committee",
        "property",
    }

    stale = client.post(
        f"/api/v1/items/{item['id']}/transitions/start", json={"version": 1}, headers=commissioner
    )
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "conflict"

    bad = client.post(
        f"/api/v1/items/{item['id']}/transitions/whistle",
        json={"version": 2, "data": {"category": "不存在"}},
        headers=commissioner,
    )
    assert bad.status_code == 422
    paths = {f["path"] for f in bad.get_json()["error"]["fields"]}
    assert "data/category" in paths

    whistled = client.post(
        f"/api/v1/items/{item['id']}/transitions/whistle",
        json={"version": 2, "data": {"category": "违章搭建", "note": "楼顶违建需拆除"}},
        headers=commissioner,
    ).get_json()
    zhifa = next(a for a in whistled["assignments"] if a["unit"] == "dept-zhifa")
    assert zhifa["state"] == "summoned" and zhifa["report_due_at"]

    dept = token_for("dept-zhifa-user")
    listed = client.get("/api/v1/items?mine=1", headers=dept).get_json()["items"]
    assert item["id"] in [i["id"] for i in listed]
    early = client.post(
        f"/api/v1/assignments/{zhifa['id']}/complete", json={"reply": "已拆除"}, headers=dept
    )
    assert early.status_code == 409
    assert (
        client.post(f"/api/v1/assignments/{zhifa['id']}/report_in", headers=dept).status_code == 200
    )
    twice = client.post(f"/api/v1/assignments/{zhifa['id']}/report_in", headers=dept)
    assert twice.status_code == 409
    empty = client.post(
        f"/api/v1/assignments/{zhifa['id']}/complete", json={"reply": " "}, headers=dept
    )
    assert empty.status_code == 422 and empty.get_json()["error"]["fields"][0]["path"] == "reply"
    done = client.post(
        f"/api/v1/assignments/{zhifa['id']}/complete", json={"reply": "已拆除"}, headers=dept
    )
    assert done.get_json()["state"] == "done"

    for username, role in (
        ("lvzhouhuayuan-dzz", "party"),
        ("lvzhouhuayuan-ywh", "committee"),
        ("lvzhouhuayuan-wy", "property"),
    ):
        token = token_for(username)
        assignment = next(a for a in whistled["assignments"] if a["role"] == role)
        client.post(f"/api/v1/assignments/{assignment['id']}/report_in", headers=token)
        assert (
            client.post(
                f"/api/v1/assignments/{assignment['id']}/complete",
                json={"reply": "配合处理"},
                headers=token,
            ).status_code
            == 200
        )

    detail = client.get(f"/api/v1/items/{item['id']}", headers=commissioner).get_json()
    resolve = next(t for t in detail["transitions"] if t["key"] == "resolve")
    assert resolve["allowed"]
    resolved = client.post(
        f"/api/v1/items/{item['id']}/transitions/resolve",
        json={"version": detail["version"], "data": {"resolution": "违建已拆除"}},
        headers=commissioner,
    )
    assert resolved.status_code == 200 and resolved.get_json()["state"] == "resolved"

    rated = client.post(
        f"/api/v1/items/{item['id']}/transitions/rate",
        json={
            "version": resolved.get_json()["version"],
            "data": {"satisfaction": 5, "comment": "满意"},
        },
        headers=resident,
    ).get_json()
    assert (
        rated["state"] == "closed"
        and rated["satisfaction"] == 5
        and rated["resolution_seconds"] is not None
    )

    events = client.get(f"/api/v1/items/{item['id']}/timeline", headers=resident).get_json()[
        "events"
    ]
    assert events[0]["action"] == "item.raise" and events[-1]["action"].startswith(
        ("route", "item.set", "transition")
    )


@pytest.mark.parametrize(
    "payload, status, path",
    [
        ({"node": "lvzhouhuayuan", "data": {}}, 422, "type"),
        ({"type": "bell", "data": {}}, 422, "node"),
        ({"type": "nope", "node": "lvzhouhuayuan", "data": {}}, 404, None),
        ({"type": "bell", "node": "nowhere", "data": {}}, 404, None),
        ({"type": "bell", "node": "lvzhouhuayuan", "data": []}, 422, "data"),
        ({"type": "bell", "node": "lvzhouhuayuan", "data": {"category": 5}}, 422, "data/category"),
        (
            {
                "type": "bell",
                "node": "lvzhouhuayuan",
                "data": {"category": "治安", "summary": "x" * 500},
            },
            422,
            "data/summary",
        ),
        (
            {
                "type": "bell",
                "node": "lvzhouhuayuan",
                "data": {"category": "治安", "summary": "夜间有人撬车", "photos": ["att_missing"]},
            },
            422,
            "data/photos",
        ),
        (
            {
                "type": "bell",
                "node": "lvzhouhuayuan-b1",
                "data": {"category": "治安", "summary": "ab"},
            },
            422,
            "node",
        ),
    ],
)
def test_bad_items_are_4xx_with_paths(client, token_for, payload, status, path):
    response = client.post("/api/v1/items", json=payload, headers=token_for("lvzhou-yezhu1"))
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    if path is not None:
        assert path in [f["path"] for f in error["fields"]]


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"', "\xff\xfe"])
def test_malformed_bodies(client, token_for, body):
    response = client.post(
        "/api/v1/items",
        data=body.encode("utf-8", "surrogateescape") if isinstance(body, str) else body,
        content_type="application/json",
        headers=token_for("lvzhou-yezhu1"),
    )
    assert response.status_code in (400, 422)
    assert response.get_json()["error"]["code"] in ("malformed_json", "invalid")


def test_unknown_transition_and_bad_version(client, token_for):
    item = client.post("/api/v1/items", json=BELL, headers=token_for("lvzhou-yezhu1")).get_json()
    commissioner = token_for("xifang")
    assert (
        client.post(
            f"/api/v1/items/{item['id']}/transitions/fly", json={}, headers=commissioner
        ).status_code
        == 404
    )
    bad = client.post(
        f"/api/v1/items/{item['id']}/transitions/accept",
        json={"version": "one"},
        headers=commissioner,
    )
    assert bad.status_code == 422 and bad.get_json()["error"]["fields"][0]["path"] == "version"
    resident_tries = client.post(
        f"/api/v1/items/{item['id']}/transitions/accept",
        json={},
        headers=token_for("lvzhou-yezhu1"),
    )
    assert resident_tries.status_code == 403
    assert Item.get_by_id(item["id"]).state == "collected"


def test_list_filters(client, token_for):
    client.post("/api/v1/items", json=BELL, headers=token_for("lvzhou-yezhu1"))
    commissioner = token_for("xifang")
    assert client.get("/api/v1/items?state=collected", headers=commissioner).get_json()["items"]
    assert not client.get(
        "/api/v1/items?state=closed&node=lvzhouhuayuan", headers=commissioner
    ).get_json()["items"]
    assert client.get("/api/v1/items?page=0", headers=commissioner).status_code == 422

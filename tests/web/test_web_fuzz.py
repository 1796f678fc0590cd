"""Bad input of any kind is a 4xx with a JSON error, never a 500: random bodies at the API."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    [
        "category",
        "summary",
        "building",
        "photos",
        "anonymous",
        "fire_blocked_since",
        "contact_phone",
        "plate_number",
        "nope",
    ]
)
ANSWERS = st.dictionaries(FIELDS, JSON, max_size=6)
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def check(response) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code >= 400:
        error = response.get_json()["error"]
        assert error["code"] and error["message"]


@FUZZ
@given(
    body=st.one_of(
        JSON,
        st.fixed_dictionaries(
            {
                "type": st.sampled_from(["bell", "whistle", "x"]),
                "node": st.sampled_from(["lvzhouhuayuan", "chaohui", "zz"]),
                "data": ANSWERS,
            }
        ),
    )
)
def test_raising_never_fails_with_500(client, token_for, body):
    headers = token_for("xifang")
    check(
        client.post(
            "/api/v1/items", data=json.dumps(body), content_type="application/json", headers=headers
        )
    )


@FUZZ
@given(
    key=st.sampled_from(["accept", "whistle", "resolve", "rate", "decline", "???"]),
    body=st.one_of(JSON, st.fixed_dictionaries({"version": JSON, "data": ANSWERS})),
)
def test_transitions_never_fail_with_500(client, token_for, key, body):
    headers = token_for("xifang")
    created = client.post(
        "/api/v1/items",
        headers=headers,
        json={
            "type": "bell",
            "node": "lvzhouhuayuan",
            "data": {"category": "治安", "summary": "夜间巡逻不到位"},
        },
    )
    item_id = created.get_json()["id"]
    check(
        client.post(
            f"/api/v1/items/{item_id}/transitions/{key}",
            data=json.dumps(body),
            content_type="application/json",
            headers=headers,
        )
    )


@FUZZ
@given(raw=st.binary(max_size=200))
def test_raw_bytes_never_fail_with_500(client, token_for, raw):
    check(
        client.post(
            "/api/v1/items", data=raw, content_type="application/json", headers=token_for("xifang")
        )
    )


@FUZZ
@given(form=st.dictionaries(FIELDS, st.text(max_size=30), max_size=6))
def test_the_html_form_never_fails_with_500(client, auth, form):
    auth.login("lvzhou-yezhu1")
    response = client.post("/r/new/bell", data=form)
    assert response.status_code in (303, 422), response.status_code


# Every registered route, walked with hostile values where an id, a page, a date, a
# version, a key or a body goes: ids past a 64-bit column, the calendar's ends, JSON
# nested far too deep, text where numbers go, NUL characters (which PostgreSQL's text
# cannot hold: run with DATABASE_URL set, that is a crash SQLite does not show). Each answer is a 4xx, a page or a
# redirect, never a 500 (TESTING propagates exceptions, so a crash fails the test).
HUGE = "99999999999999999999"
INT_VALUES = (HUGE, "1")  # past the column's range; and a real id, to reach the code behind it
KEYS = {
    "key": ("bell", "lvzhouhuayuan"),
    "type_key": ("bell",),
    "list_key": ("task-list",),
    "row_key": ("1",),
    "name": ("summary",),
    "target": ("t0",),
    "kind": ("org",),
    "which": ("summoned",),
    "table": ("items",),
    "level": ("street",),
    "action": ("report_in",),
    "public_id": ("x" * 300, "%00"),
    "filename": ("x",),
}
DEEP = "[" * 5000 + "]" * 5000
HOSTILE = {
    "page": HUGE,
    "from": "9999-12-31",
    "to": "0001-01-01",
    "lock": HUGE,
    "version": HUGE,
    "item": HUGE,
    "items": [HUGE, "²", "-1"],
    "node": "x" * 300,
    "number": HUGE,
    "index": HUGE,
    "body": DEEP,
    "next": "//evil.example/",
    "def": "x",
    "sort": "x",
    "dir": "x",
    "a": HUGE,
    "b": "0",
}
GARBAGE = {
    "page": "false",
    "from": "2026-02-30",
    "to": "x",
    "lock": "１２",
    "version": "-0",
    "item": "1e3",
    "items": "abc",
    "body": '{"key": ',
    "a": "-1",
    "b": "draft",
    "state": "\x00",
    "node": "a\x00b",
    "username": "\x00",
    "key": "\x00",
}


def _paths(rule: Any) -> list[str]:
    """The rule's path with every argument filled in, once per hostile or real value."""
    from werkzeug.routing import IntegerConverter

    paths = []
    for value in INT_VALUES:
        path = rule.rule
        for name, converter in rule._converters.items():
            if isinstance(converter, IntegerConverter):
                filled = value
            else:
                filled = (KEYS.get(name) or ("x",))[
                    INT_VALUES.index(value) % len(KEYS.get(name) or ("x",))
                ]
            path = re.sub(r"<(?:[^<>:]+:)?" + re.escape(name) + ">", filled, path)
        path = re.sub(
            r"<any\(([^,)]+)[^>]*>", r"\1", path
        )  # <any(up, down):action> (already filled)
        paths.append(path)
    return paths


@pytest.mark.parametrize("username", ["admin", "xifang", "lvzhou-yezhu1"])
def test_no_route_answers_hostile_input_with_500(app, client, auth, token_for, username):
    auth.login(username)
    headers = token_for(username)
    walked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "auth.logout"):
            continue
        walked += 1
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            huge, real = _paths(rule)
            extra = {"headers": headers} if rule.rule.startswith("/api/") else {}
            sends = [(huge, {"query_string": HOSTILE}), (real, {"query_string": GARBAGE})]
            if method == "POST":
                sends = [
                    (huge, {"data": HOSTILE}),
                    (real, {"data": GARBAGE}),
                    (real, {"data": DEEP, "content_type": "application/json"}),
                ]
            for path, send in sends:
                response = client.open(path, method=method, **send, **extra)
                assert response.status_code < 500, (method, path, list(send), response.status_code)
    assert walked > 80  # every route, not a few


def test_every_int_route_takes_only_what_a_64_bit_column_holds(app):
    from werkzeug.routing import IntegerConverter

    from engine.core.limits import INT_MAX
    from pages.guards import BoundedIntConverter

    converters = [
        c
        for rule in app.url_map.iter_rules()
        for c in rule._converters.values()
        if isinstance(c, IntegerConverter)
    ]
    assert len(converters) > 15
    assert all(isinstance(c, BoundedIntConverter) and c.max == INT_MAX for c in converters)

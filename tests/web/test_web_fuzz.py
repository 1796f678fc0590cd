"""Bad input of any kind is a 4xx with a JSON error, never a 500: random bodies at the API."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
FIELDS = st.sampled_from(["category", "summary", "building", "photos", "anonymous", "fire_blocked_since",
                          "contact_phone", "plate_number", "nope"])
ANSWERS = st.dictionaries(FIELDS, JSON, max_size=6)
FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def check(response) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code >= 400:
        error = response.get_json()["error"]
        assert error["code"] and error["message"]


@FUZZ
@given(body=st.one_of(JSON, st.fixed_dictionaries({"type": st.sampled_from(["bell", "whistle", "x"]),
                                                    "node": st.sampled_from(["lvzhouhuayuan", "chaohui", "zz"]),
                                                    "data": ANSWERS})))
def test_raising_never_fails_with_500(client, token_for, body):
    headers = token_for("xifang")
    check(client.post("/api/v1/items", data=json.dumps(body), content_type="application/json", headers=headers))


@FUZZ
@given(key=st.sampled_from(["accept", "whistle", "resolve", "rate", "decline", "???"]),
       body=st.one_of(JSON, st.fixed_dictionaries({"version": JSON, "data": ANSWERS})))
def test_transitions_never_fail_with_500(client, token_for, key, body):
    headers = token_for("xifang")
    created = client.post("/api/v1/items", headers=headers, json={
        "type": "bell", "node": "lvzhouhuayuan", "data": {"category": "治安", "summary": "夜间巡逻不到位"}})
    item_id = created.get_json()["id"]
    check(client.post(f"/api/v1/items/{item_id}/transitions/{key}", data=json.dumps(body),
                      content_type="application/json", headers=headers))


@FUZZ
@given(raw=st.binary(max_size=200))
def test_raw_bytes_never_fail_with_500(client, token_for, raw):
    check(client.post("/api/v1/items", data=raw, content_type="application/json", headers=token_for("xifang")))


@FUZZ
@given(form=st.dictionaries(FIELDS, st.text(max_size=30), max_size=6))
def test_the_html_form_never_fails_with_500(client, auth, form):
    auth.login("lvzhou-yezhu1")
    response = client.post("/r/new/bell", data=form)
    assert response.status_code in (303, 422), response.status_code

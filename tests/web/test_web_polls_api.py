"""/api/v1/polls: open a vote, cast ballots, read the result as the issue states it."""

from __future__ import annotations

import pytest

from engine.store.polls import PollUnit
from tests.polls_support import make_households, units_of


@pytest.fixture
def households(app):
    units = units_of(3)
    units[0]["account"] = "lvzhou-yezhu1"
    units[1]["account"] = "lvzhou-yezhu2"
    return make_households(units)


def open_poll(client, headers, **extra):
    body = {
        "definition": "owners-decision",
        "node": "lvzhouhuayuan",
        "title": "增设电动自行车充电桩",
        "category": "common-use",
        **extra,
    }
    return client.post("/api/v1/polls", json=body, headers=headers)


def test_open_vote_and_read_the_result(client, token_for, households):
    committee = token_for("lvzhouhuayuan-ywh")
    response = open_poll(client, committee)
    assert response.status_code == 201, response.get_data(as_text=True)
    poll = response.get_json()
    assert poll["category"] == "common-use" and [o["key"] for o in poll["options"]] == [
        "yes",
        "no",
        "abstain",
    ]
    for owner in ("lvzhou-yezhu1", "lvzhou-yezhu2"):
        cast = client.post(
            f"/api/v1/polls/{poll['id']}/ballots",
            json={"choices": ["yes"]},
            headers=token_for(owner),
        )
        assert cast.status_code == 201 and cast.get_json()["ballots"][0]["channel"] == "online"
    result = client.get(f"/api/v1/polls/{poll['id']}/result", headers=committee).get_json()
    assert result["closed"] is False and result["quorum"] is True and result["passed"] is True
    assert result["area"] == {"eligible": "300.00", "voted": "200.00", "yes": "200.00"}
    assert result["owners"] == {"eligible": 3, "voted": 2, "yes": 2}
    closed = client.post(f"/api/v1/polls/{poll['id']}/close", headers=committee)
    assert closed.status_code == 200 and closed.get_json()["closed"] is True
    late = client.post(
        f"/api/v1/polls/{poll['id']}/ballots",
        json={"choices": "no"},
        headers=token_for("lvzhou-yezhu1"),
    )
    assert late.status_code == 409
    again = client.get(f"/api/v1/polls/{poll['id']}/result", headers=token_for("lvzhou-yezhu1"))
    assert again.get_json() == closed.get_json()  # residents read the stored result


def test_refusals_name_the_field(client, token_for, households):
    committee = token_for("lvzhouhuayuan-ywh")
    bad = open_poll(client, committee, category="nope")
    assert bad.status_code == 422 and bad.get_json()["error"]["fields"][0]["path"] == "category"
    bad = open_poll(client, committee, closes_at="tomorrow")
    assert bad.status_code == 422 and bad.get_json()["error"]["fields"][0]["path"] == "closes_at"
    assert open_poll(client, token_for("lvzhou-yezhu1")).status_code == 403
    poll = open_poll(client, committee).get_json()
    wrong = client.post(
        f"/api/v1/polls/{poll['id']}/ballots",
        json={"choices": ["maybe"]},
        headers=token_for("lvzhou-yezhu1"),
    )
    assert wrong.status_code == 422 and wrong.get_json()["error"]["fields"][0]["path"] == "choices"
    unit = PollUnit.get(PollUnit.room == "1-103")
    paper = client.post(
        f"/api/v1/polls/{poll['id']}/ballots",
        json={"choices": ["yes"], "unit": unit.id, "evidence": "att_nothing"},
        headers=committee,
    )
    assert paper.status_code == 422
    assert paper.get_json()["error"]["fields"][0]["path"] == "evidence"
    # another compound's people do not see it at all
    assert (
        client.get(
            f"/api/v1/polls/{poll['id']}", headers=token_for("changzheng-yezhu1")
        ).status_code
        == 404
    )
    assert (
        client.get(
            f"/api/v1/polls/{poll['id']}/result", headers=token_for("changzhengqiaolu-ywh")
        ).status_code
        == 404
    )


def test_a_ballot_over_the_api_keeps_its_query_budget(client, token_for, households, count_queries):
    poll = open_poll(client, token_for("lvzhouhuayuan-ywh")).get_json()
    headers = token_for("lvzhou-yezhu1")
    with count_queries() as counted:
        cast = client.post(
            f"/api/v1/polls/{poll['id']}/ballots", json={"choices": "yes"}, headers=headers
        )
    assert cast.status_code == 201
    assert counted.count <= 12, "\n".join(counted.statements)

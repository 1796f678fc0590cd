"""The vote pages: the committee opens a vote, follows it by building, enters a paper ballot
with its photo, reminds and closes; an owner votes from /r."""

from __future__ import annotations

import io
import re

import pytest

from engine.store.models import Attachment, Notification
from engine.store.polls import Ballot, Poll, PollUnit
from tests.polls_support import PNG, make_households, units_of


@pytest.fixture
def households(app):
    units = units_of(6)
    units[0]["account"] = "lvzhou-yezhu1"
    units[1]["account"] = "lvzhou-yezhu2"
    return make_households(units)


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def open_vote(client, auth) -> Poll:
    auth.login("lvzhouhuayuan-ywh")
    page = client.get("/polls/c/lvzhouhuayuan").get_data(as_text=True)
    response = client.post(
        "/polls/c/lvzhouhuayuan",
        data={
            "csrf_token": csrf(page),
            "definition": "owners-decision",
            "title": "更新小区监控系统",
            "category": "fund-use",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return Poll.get(Poll.title == "更新小区监控系统")


def test_committee_runs_a_vote_and_an_owner_votes_in_two_taps(
    client, auth, households, assert_max_queries
):
    poll = open_vote(client, auth)
    page = client.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert "1幢" in page and "各楼栋参与情况" in page
    assert "No quorum" not in page  # zh-CN by default
    token = csrf(page)
    unit = PollUnit.get((PollUnit.poll == poll.id) & (PollUnit.room == "1-103"))
    refused = client.post(
        f"/polls/{poll.id}/paper",
        data={"csrf_token": token, "unit": str(unit.id), "choices": "yes"},
    )
    assert refused.status_code == 422 and "签字" in refused.get_data(as_text=True)
    entered = client.post(
        f"/polls/{poll.id}/paper",
        data={
            "csrf_token": token,
            "unit": str(unit.id),
            "choices": "yes",
            "photo": (io.BytesIO(PNG), "ballot.png", "image/png"),
        },
        content_type="multipart/form-data",
    )
    assert entered.status_code == 303, entered.get_data(as_text=True)
    ballot = Ballot.get(Ballot.unit == unit.id)
    assert ballot.channel == "paper" and Attachment.get(Attachment.public_id == ballot.evidence)
    assert client.get(f"/files/{ballot.evidence}").status_code == 200
    auth.logout()

    auth.login("lvzhou-yezhu1")
    home = client.get("/r/").get_data(as_text=True)
    assert f"/r/polls/{poll.id}" in home  # tap 1
    vote_page = client.get(f"/r/polls/{poll.id}").get_data(as_text=True)
    assert "同意" in vote_page and "反对" in vote_page and "弃权" in vote_page
    assert "各楼栋参与情况" in vote_page and "各户投票情况" not in vote_page  # the default setting
    with assert_max_queries(20, "a vote from /r"):
        voted = client.post(  # tap 2
            f"/r/polls/{poll.id}", data={"csrf_token": csrf(vote_page), "choices": "yes"}
        )
    assert voted.status_code == 303
    assert client.get(f"/files/{ballot.evidence}").status_code in (403, 404)  # not an owner's
    assert client.get(f"/polls/{poll.id}").status_code == 403
    auth.logout()

    auth.login("lvzhouhuayuan-ywh")
    with assert_max_queries(25, "the committee's vote page"):
        page = client.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert "1-103" in page and "1-101" in page  # who voted what: the committee sees it
    before = Notification.select().where(Notification.message.contains("更新小区监控系统")).count()
    reminded = client.post(f"/polls/{poll.id}/remind", data={"csrf_token": csrf(page)})
    assert reminded.status_code == 303
    after = Notification.select().where(Notification.message.contains("更新小区监控系统")).count()
    assert after == before + 1  # only lvzhou-yezhu2 has an account and has not voted
    closed = client.post(f"/polls/{poll.id}/close", data={"csrf_token": csrf(page)})
    assert closed.status_code == 303
    result = client.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert Poll.get_by_id(poll.id).closed
    assert "2/3" in result and "1/2" in result  # each share against its threshold
    auth.logout()

    auth.login("lvzhou-yezhu1")
    late = client.post(f"/r/polls/{poll.id}", data={"csrf_token": csrf(vote_page), "choices": "no"})
    assert late.status_code == 409
    assert "2/3" in client.get(f"/r/polls/{poll.id}").get_data(as_text=True)


def test_other_compounds_do_not_see_the_vote(client, auth, households):
    poll = open_vote(client, auth)
    auth.logout()
    auth.login("changzhengqiaolu-ywh")
    assert client.get(f"/polls/{poll.id}").status_code == 404
    assert client.get("/polls/c/lvzhouhuayuan").status_code == 404
    auth.logout()
    auth.login("changzheng-yezhu1")
    assert client.get(f"/r/polls/{poll.id}").status_code == 404

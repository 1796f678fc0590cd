"""Ballots at once, on SQLite and PostgreSQL: one ballot per unit, none half-written at close."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from engine.core import clock
from engine.decisions import polls
from engine.store.models import Event
from engine.store.polls import Ballot, Poll
from tests.polls_support import make_households, units_of

CLIENTS = 50


@pytest.fixture
def poll(app, actor_of):
    units = units_of(CLIENTS, accounts=True)
    units[0]["account"] = "lvzhou-yezhu1"
    make_households(units)
    return polls.open_poll(
        actor_of("lvzhouhuayuan-ywh"),
        "owners-decision",
        "lvzhouhuayuan",
        "调整停车收费标准",
        category="other",
        now=clock.now(),  # the API casts at the real clock
    )


def run_all(app, calls):
    start = threading.Barrier(len(calls))
    statuses: list[int] = []

    def client(call):
        http = app.test_client()  # its own connection through the app's before_request
        start.wait()
        statuses.append(call(http).status_code)

    threads = [threading.Thread(target=client, args=(c,)) for c in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(statuses)


def test_fifty_ballots_for_the_same_unit_leave_one(app, token_for, poll):
    headers = token_for("lvzhou-yezhu1")
    choices = ["yes", "no", "abstain"]
    statuses = run_all(
        app,
        [
            lambda http, i=i: http.post(
                f"/api/v1/polls/{poll.id}/ballots",
                json={"choices": [choices[i % 3]]},
                headers=headers,
            )
            for i in range(CLIENTS)
        ],
    )
    assert set(statuses) <= {201, 409} and statuses[201] >= 1
    [ballot] = Ballot.select().where(Ballot.poll == poll.id)
    casts = Event.select().where(Event.action == "ballot.cast").count()
    changes = Event.select().where(Event.action == "ballot.change").count()
    assert casts == 1 and changes == ballot.changes == statuses[201] - 1
    last = Event.select().where(Event.action.in_(["ballot.cast", "ballot.change"]))
    assert ballot.choices == last.order_by(Event.id.desc()).first().after["choices"]


def test_ballots_racing_the_close_are_counted_or_refused(app, token_for, poll):
    owners = [f"owner1-{i}" for i in range(1, CLIENTS)]
    committee = token_for("lvzhouhuayuan-ywh")
    tokens = [token_for(o) for o in owners]
    calls = [
        lambda http, h=h: http.post(
            f"/api/v1/polls/{poll.id}/ballots", json={"choices": "yes"}, headers=h
        )
        for h in tokens
    ]
    close = f"/api/v1/polls/{poll.id}/close"
    calls.insert(len(calls) // 2, lambda http: http.post(close, headers=committee))
    statuses = run_all(app, calls)
    assert set(statuses) <= {200, 201, 409} and statuses[200] == 1
    closed = Poll.get_by_id(poll.id)
    stored = closed.result
    counted = Ballot.select().where(Ballot.poll == poll.id).count()
    assert counted == statuses[201] == stored["units"]["voted"]  # no ballot after the close
    assert stored == polls.recount(polls.get_poll(poll.id))

"""The demo's regular meetings (`sanfang demo`): every definition with a cadence is held at
every node it is used at over the last months — mostly on time, sometimes a period late or
missed — and this period's is held or still planned; told from demo.json's
``deliberation.regular`` section through the same services as the pages."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from typing import Any

from engine.core import clock
from engine.decisions import cadence, meetings
from engine.definitions.definitions import current_versions
from engine.org.actors import Actor, actor_for
from engine.store.models import Grant, OrgNode, User

HOURS = (9, 10, 14, 15, 19)  # local: a morning, an afternoon or an evening meeting


def _words(spec: Mapping[str, Any], period: cadence.Period) -> str:
    local = clock.local(period.start)
    assert local is not None
    index = (local.month - 1) // cadence.MONTHS[period.kind]
    halves = spec.get("halves") or ["H1", "H2"]
    template = (spec.get("period_words") or {}).get(period.kind, "{year}-{month}")
    return str(template).format(
        year=local.year, month=local.month, quarter=index + 1, half=halves[index % 2]
    )


class _Conveners:
    """The user who convenes a definition's meetings at a node: the nearest grant of one of
    its convene roles on the node's path (a street's supervisor convenes a community's)."""

    def __init__(self) -> None:
        self.grants = list(
            Grant.select(Grant, User, OrgNode).join(User).switch(Grant).join(OrgNode)
        )
        self.actors: dict[int, Actor] = {}

    def of(self, roles: list[str], node: OrgNode) -> Actor | None:
        fits = [g for g in self.grants if g.role in roles and node.path.startswith(g.node.path)]
        if not fits:
            return None
        grant = max(fits, key=lambda g: (len(g.node.path), -g.id))
        if grant.user_id not in self.actors:
            self.actors[grant.user_id] = actor_for(grant.user)
        return self.actors[grant.user_id]


def _hold(
    actor: Actor,
    body: Mapping[str, Any],
    spec: Mapping[str, Any],
    node: OrgNode,
    at: dt.datetime,
    when: str,
    rng: random.Random,
    *,
    held: bool,
    now: dt.datetime,
) -> None:
    fields = {
        "title": str(spec["title"]).format(when=when),
        "held_at": clock.local(at).strftime("%Y-%m-%dT%H:%M"),  # type: ignore[union-attr]
        "place": spec.get("place", ""),
        "agenda": rng.choice(spec["agenda"]),
    }
    convened = min(at - dt.timedelta(days=5), now)
    meeting = meetings.convene(actor, body["key"], node.key, fields, now=convened)
    if not held:
        return
    attendance = {
        role: max(1, int(n) + rng.randint(-1, 1)) for role, n in spec["attendance"].items()
    }
    meetings.record_minutes(
        actor, meeting.id, attendance, rng.choice(spec["minutes"]), expected=None, now=at
    )


def tell(pools: Mapping[str, Any] | None, *, now: dt.datetime) -> int:
    """Hold the regular meetings of the last ``months``; returns how many were convened."""
    spec = (pools or {}).get("regular")
    if not spec:
        return 0
    conveners = _Conveners()
    nodes = list(OrgNode.select().where(OrgNode.kind != "building").order_by(OrgNode.id))
    since = cadence.period_at("month", now).start - dt.timedelta(days=31 * int(spec["months"]))
    told = 0
    for version in current_versions("meeting"):
        body = version.body
        how = cadence.cadence_of(body)
        words = (spec.get("definitions") or {}).get(body["key"])
        if how is None or words is None:
            continue
        for node in nodes:
            if not cadence.used_at(body, node):
                continue
            actor = conveners.of(body["convene_roles"], node)
            if actor is None:
                continue
            rng = random.Random(f"{body['key']}:{node.key}")
            period = cadence.period_at(how["period"], now)
            while period.end > since:
                told += _period(actor, body, words, spec, node, period, now, rng)
                period = cadence.previous(period)
    return told


def _daytime(day: dt.datetime, rng: random.Random) -> dt.datetime:
    """A meeting hour on the local day of ``day`` (naive UTC in and out)."""
    hour = rng.choice(HOURS)
    return clock.at_local_hour(day, hour, 0 if hour != 19 else 30)


def _period(
    actor: Actor,
    body: Mapping[str, Any],
    words: Mapping[str, Any],
    spec: Mapping[str, Any],
    node: OrgNode,
    period: cadence.Period,
    now: dt.datetime,
    rng: random.Random,
) -> int:
    """One period's meeting at one node: on time, a week into the next period, or none."""
    draw = rng.random()
    days = (period.end - period.start).days
    at = _daytime(period.start + dt.timedelta(days=int(days * rng.uniform(0.2, 0.85))), rng)
    if period.end > now:  # this period: held already, or planned for a day still to come
        if at <= now and draw < spec["on_time"]:
            _hold(actor, body, words, node, at, _words(spec, period), rng, held=True, now=now)
            return 1
        later = max(at, _daytime(now + dt.timedelta(days=rng.randint(2, 9)), rng))
        if later < period.end:
            _hold(actor, body, words, node, later, _words(spec, period), rng, held=False, now=now)
            return 1
        return 0
    if draw < spec["on_time"]:
        _hold(actor, body, words, node, at, _words(spec, period), rng, held=True, now=now)
        return 1
    if draw < spec["on_time"] + spec["late"]:  # held in the first days of the next period
        late = _daytime(period.end + dt.timedelta(days=rng.randint(2, 6)), rng)
        if late < now:
            _hold(actor, body, words, node, late, _words(spec, period), rng, held=True, now=now)
            return 1
    return 0

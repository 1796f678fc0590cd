"""The demo's deliberation (`sanfang demo`): at each compound with a party organisation and
residents, a meeting with minutes whose resolution raised an item that passed the party's
gate (先议先审), and an opinion collection with answers — told from demo.json's
``deliberation`` section through the same services as the pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from engine.core import clock
from engine.core.errors import NotFound
from engine.decisions import meetings, opinions
from engine.org.actors import Actor, actor_for
from engine.store.models import Grant, OrgNode, User
from engine.workflow import items


def _actors(node: OrgNode) -> list[Actor]:
    users = (
        User.select()
        .join(Grant, on=(Grant.user == User.id))
        .where(Grant.node == node)
        .distinct()
        .order_by(User.id)
    )
    return [actor_for(u) for u in users]


def _first(actors: list[Actor], ok: Any) -> Actor | None:
    return next((a for a in actors if ok(a)), None)


def _walk(
    actors: list[Actor], item_id: int, steps: list[Mapping[str, Any]], now: dt.datetime
) -> None:
    """Take each step's transition as the first user at the compound offered it."""
    for step in steps:
        for actor in actors:
            try:
                current = items.get_item(actor, item_id)
            except NotFound:  # not in this user's scope
                continue
            if any(
                o.key == step["transition"] and o.allowed
                for o in items.offers(actor, current, now=now)
            ):
                items.transition(
                    actor, item_id, step["transition"], step.get("data"), expected=None, now=now
                )
                break


def _meeting(node: OrgNode, actors: list[Actor], spec: Mapping[str, Any], now: dt.datetime) -> None:
    at = now - dt.timedelta(days=spec.get("days_ago", 7))
    convener = _first(
        actors, lambda a: any(r.key == spec["type"] for r in meetings.conveners(a, node))
    )
    if convener is None:
        return
    local = clock.local(at).strftime("%Y-%m-%dT%H:%M")
    meeting = meetings.convene(
        convener,
        spec["type"],
        node.key,
        {
            "title": spec["title"],
            "held_at": local,
            "place": spec.get("place", ""),
            "agenda": spec["agenda"],
        },
        now=at,
    )
    meetings.record_minutes(
        convener, meeting.id, spec.get("attendance", {}), spec["minutes"], expected=None, now=at
    )
    for text in spec.get("resolutions", []):
        resolution = meetings.resolve(convener, meeting.id, text["text"], now=at)
        if "outcome" not in text:
            continue
        taker = _first(
            actors,
            lambda a, key=text["outcome"]: (
                meetings.may_record(a, meeting)
                and any(o["key"] == key for o in meetings.offered_outcomes(a, meeting))
            ),
        )
        if taker is not None:
            done = meetings.take_outcome(taker, resolution.id, text["outcome"], now=at)
            if done.item_id:
                _walk(actors, done.item_id, text.get("steps", []), at + dt.timedelta(days=1))


def _collection(
    node: OrgNode, actors: list[Actor], spec: Mapping[str, Any], now: dt.datetime
) -> None:
    at = now - dt.timedelta(days=spec.get("days_ago", 2))
    opener = _first(actors, lambda a: any(r.key == spec["type"] for r in opinions.openers(a, node)))
    if opener is None:
        return
    collection = opinions.open_collection(
        opener,
        spec["type"],
        node.key,
        {"title": spec["title"], "description": spec.get("description", "")},
        now=at,
    )
    residents = [a for a in actors if opinions.for_resident(a, now=at)]
    for actor, answer in zip(residents, spec.get("answers", []), strict=False):
        opinions.answer(actor, collection.id, answer, now=at + dt.timedelta(hours=2))


def tell(pools: Mapping[str, Any] | None, nodes: list[OrgNode], *, now: dt.datetime) -> int:
    """Tell the deliberation story at every compound of ``nodes`` with a party organisation
    and residents; returns at how many."""
    if not pools:
        return 0
    told = 0
    for node in nodes:
        roles = {g.role for g in Grant.select(Grant.role).where(Grant.node == node)}
        if not {"party", "resident"} <= roles:
            continue
        actors = _actors(node)
        for spec in pools.get("meetings", []):
            _meeting(node, actors, spec, now)
        for spec in pools.get("collections", []):
            _collection(node, actors, spec, now)
        told += 1
    return told

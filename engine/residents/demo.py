"""The demo's statements, help listings and matched needs (demo.json ``residents``).

Everything is written through the services, as people would: statements drafted, one
returned and fixed, one corrected after publication, a resident's question answered;
help asked, taken up and confirmed; needs matched with resources.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from engine.definitions.definitions import current_version
from engine.org.actors import Actor, actor_for
from engine.residents import disclosures, listings, matching, questions
from engine.residents.periods import due_at, recent
from engine.store.models import Definition, Grant, OrgNode, User
from engine.workflow import items

DAY = dt.timedelta(days=1)


def _actor(roles: Any, node: OrgNode, *, skip: int = 0) -> Actor | None:
    """The ``skip``-th user granted one of ``roles`` exactly at ``node``."""
    query = (
        User.select()
        .join(Grant)
        .where(Grant.role.in_(list(roles)) & (Grant.node == node))
        .order_by(Grant.id)
    )
    found = list({u.id: u for u in query}.values())  # once each, in grant order
    return actor_for(found[skip]) if len(found) > skip else None


def _node(key: str) -> OrgNode | None:
    return OrgNode.get_or_none(OrgNode.key == key)


def _scaled(rng: random.Random, line: Mapping[str, Any]) -> dict[str, Any]:
    """The line with its amount varied by up to ±20 %, to the fen, by Decimal."""
    amount = Decimal(str(line["amount"])) * Decimal(rng.randint(80, 120)) / 100
    return {**line, "amount": str(amount.quantize(Decimal("0.01")))}


def statements(spec: Mapping[str, Any], rng: random.Random, now: dt.datetime) -> int:
    """Statements of the last periods at each compound named, published before their due
    dates; the newest of the first compound returned once and fixed, an older one of the
    second corrected after publication; a resident's question on a line, answered."""
    key = spec["definition"]
    definition = Definition.get_or_none((Definition.key == key) & (Definition.kind == "disclosure"))
    if definition is None or not definition.current:
        return 0
    body = current_version(definition).body
    periods = list(reversed(recent(body["period"], now, int(spec.get("periods", 2)))))
    made = 0
    compounds = [n for n in (_node(k) for k in spec["compounds"]) if n is not None]
    for c, node in enumerate(compounds):
        drafter = _actor(body["draft_roles"], node)
        confirmer = _actor(body["confirm_roles"], node)
        if drafter is None or confirmer is None:
            continue
        for p, period in enumerate(periods):
            due = due_at(body, period)
            assert due is not None
            at = min(due - 5 * DAY, now - (len(periods) - p) * DAY)
            st = disclosures.start(drafter, key, node, period, now=at)
            for line in spec["lines"]:
                disclosures.add_line(drafter, st, _scaled(rng, line), now=at)
            disclosures.submit(drafter, st, now=at + dt.timedelta(hours=2))
            newest = p == len(periods) - 1
            if c == 0 and newest and spec.get("returned"):
                returned = spec["returned"]
                disclosures.give_back(confirmer, st, returned["reason"], now=at + DAY)
                disclosures.add_line(drafter, st, returned["add"], now=at + 2 * DAY)
                disclosures.submit(drafter, st, now=at + 2 * DAY)
            disclosures.confirm(confirmer, st, now=at + 3 * DAY)
            made += 1
            if c == 1 and p == 0 and spec.get("corrected"):
                fix = spec["corrected"]
                v2 = disclosures.correct(drafter, st, fix["reason"], now=at + 10 * DAY)
                old = v2.lines[int(fix["line"])]
                disclosures.update_line(
                    drafter, v2, old["id"], {**old, "amount": fix["amount"]}, now=at + 10 * DAY
                )
                disclosures.submit(drafter, v2, now=at + 10 * DAY)
                disclosures.confirm(confirmer, v2, now=at + 11 * DAY)
            if c == 0 and newest and spec.get("question"):
                _question(spec["question"], st, node, at + 4 * DAY)
    return made


def _question(spec: Mapping[str, Any], st: Any, node: OrgNode, at: dt.datetime) -> None:
    resident = _actor(["resident"], node)
    if resident is None:
        return
    line = st.lines[int(spec.get("line", 0))]
    item = questions.ask(resident, st, line["id"], spec["text"], now=at)
    answerer = _actor([st.publisher_role], node)
    if answerer is not None and spec.get("answer"):
        items.transition(
            answerer,
            item.id,
            spec["transition"],
            {spec["field"]: spec["answer"]},
            expected=None,
            now=at + DAY,
        )


def help_listings(entries: list[Mapping[str, Any]], now: dt.datetime) -> int:
    """Each entry posted by a resident of its compound; taken up and confirmed done by both
    sides (and rated) when its ``state`` says so."""
    made = 0
    for i, entry in enumerate(entries):
        node = _node(entry["compound"])
        if node is None:
            continue
        poster = _actor(["resident"], node, skip=i % 2) or _actor(["resident"], node)
        helper = _actor(["resident"], node, skip=(i + 1) % 2)
        if poster is None:
            continue
        at = now - dt.timedelta(hours=float(entry.get("hours_ago", 24)))
        posted = listings.post(poster, entry["listing"], entry["side"], node, entry["data"], now=at)
        made += 1
        if (
            entry.get("state") in ("taken", "done")
            and helper is not None
            and helper.user.id != poster.user.id
        ):
            listings.take(helper, posted, now=at + dt.timedelta(hours=1))
            if entry["state"] == "done":
                listings.confirm_done(helper, posted, now=at + dt.timedelta(hours=5))
                listings.confirm_done(poster, posted, now=at + dt.timedelta(hours=6))
                listings.rate(
                    poster, posted, entry.get("rating", 5), now=at + dt.timedelta(hours=6)
                )
    return made


def cobuild(spec: Mapping[str, Any], now: dt.datetime) -> int:
    """Needs posted by compounds, resources by units; the pairs named confirmed."""
    posted: dict[str, list[Any]] = {"needs": [], "resources": []}
    for part in ("needs", "resources"):
        for entry in spec.get(part, []):
            node = _node(entry["node"])
            actor = _actor(entry["roles"], node) if node is not None else None
            if actor is None or node is None:
                posted[part].append(None)
                continue
            at = now - dt.timedelta(hours=float(entry.get("hours_ago", 48)))
            posted[part].append(
                listings.post(actor, spec["listing"], entry["side"], node, entry["data"], now=at)
            )
    for need_index, resource_index in spec.get("matches", []):
        need, resource = posted["needs"][need_index], posted["resources"][resource_index]
        if need is None or resource is None:
            continue
        confirmer = _actor(spec["confirm_roles"], need.node)
        if confirmer is not None:
            matching.confirm(confirmer, need, resource, now=now - DAY)  # yesterday, in office hours
    return sum(1 for x in posted["needs"] + posted["resources"] if x is not None)


def generate(pools: Mapping[str, Any], rng: random.Random, now: dt.datetime) -> str:
    """The residents' part of the demo, from demo.json ``residents`` (nothing if absent)."""
    spec = pools.get("residents") or {}
    made = statements(spec["statements"], rng, now) if "statements" in spec else 0
    helped = help_listings(spec.get("help", []), now)
    built = cobuild(spec["cobuild"], now) if "cobuild" in spec else 0
    from engine.residents import demo_directories

    kept = demo_directories.generate(pools, rng, now)
    return (
        f"{made} statements, {helped} help listings, {built} needs and resources, "
        f"{kept} directory entries"
    )
